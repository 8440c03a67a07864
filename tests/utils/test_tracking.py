"""The pose tracker (PYSKL's demo_skeleton.py rule) on synthetic trajectories with known identities."""
import numpy as np
import pytest

from pyskl.utils.tracking import PoseTracker, pose_distance, track_poses

SHAPE = np.array([[0, 0], [0, 10], [5, 20]], np.float32)  # a 3-joint "person"


def person(x, y, score=0.9):
    return SHAPE + np.array([x, y], np.float32), np.full(3, score, np.float32)


def frames_of(*people_per_frame):
    """Per frame a list of (keypoint [V, 2], score [V]) -> the tracker's per-frame [K, V, 2], [K, V] inputs."""
    keypoints, scores = [], []
    for people in people_per_frame:
        keypoints.append(np.stack([p[0] for p in people]) if people else np.zeros((0, 3, 2), np.float32))
        scores.append(np.stack([p[1] for p in people]) if people else np.zeros((0, 3), np.float32))
    return keypoints, scores


def test_cost_is_pyskls_dist_ske():
    a = np.array([[[0, 0, 1.0], [3, 4, 0.5]]], np.float32)
    b = np.array([[[0, 0, 0.2], [0, 0, 0.5]], [[3, 4, 1.0], [3, 4, 0.5]]], np.float32)
    # joint 0: max(2 * 0, |1 - 0.2|) = 0.8, joint 1: max(2 * 5, 0) = 10; the second pose: 0 + 2 * 5 = 10.
    np.testing.assert_allclose(pose_distance(a, b), [[10.8, 10.0]], rtol=1e-6)


def test_two_people_passing_each_other_keep_their_tracks():
    """A walks right, B walks left 10 px lower; they pass at frame 10. Detections come in a shuffled order."""
    rng = np.random.default_rng(0)
    a_path = [person(3 * t, 40) for t in range(21)]
    b_path = [person(60 - 3 * t, 50) for t in range(21)]
    frames = []
    for t in range(21):
        people = [a_path[t], b_path[t]]
        frames.append([people[i] for i in rng.permutation(2)] if t else people)  # frame 0: A listed first
    keypoint, score = track_poses(*frames_of(*frames))
    assert keypoint.shape == (2, 21, 3, 2) and score.shape == (2, 21, 3)
    np.testing.assert_array_equal(keypoint[0], np.stack([p[0] for p in a_path]))
    np.testing.assert_array_equal(keypoint[1], np.stack([p[0] for p in b_path]))
    assert (score == np.float32(0.9)).all()


def test_leaving_and_coming_back_within_max_gap_is_one_track():
    """D stays; C is there for frames 0-9, away for 10-19 (nobody in frames 12-13 at all), back for 20-29."""
    frames = []
    for t in range(30):
        people = [person(100, 0 + t)]
        if t < 10 or t >= 20:
            people.append(person(20 + t, 0))
        if t in (12, 13):
            people = []
        frames.append(people)
    keypoint, score = track_poses(*frames_of(*frames), max_tracks=2, max_gap=30)
    d_frames = [t for t in range(30) if t not in (12, 13)]
    c_frames = list(range(10)) + list(range(20, 30))
    assert keypoint.shape == (2, 30, 3, 2)
    np.testing.assert_array_equal(keypoint[0, d_frames], np.stack([person(100, t)[0] for t in d_frames]))
    np.testing.assert_array_equal(keypoint[1, c_frames], np.stack([person(20 + t, 0)[0] for t in c_frames]))
    assert not keypoint[0, [12, 13]].any() and not keypoint[1, 10:20].any()
    assert not score[1, 10:20].any() and (score[1, c_frames] > 0).all()


def test_away_longer_than_max_gap_starts_a_new_track():
    """With max_gap=5, C's return is a new track: 3 tracks, of which the 2 longest are kept (ties: the older)."""
    frames = [[person(100, t)] + ([person(20 + t, 0)] if t < 10 or t >= 20 else []) for t in range(30)]
    tracker = PoseTracker(max_tracks=2, max_gap=5)
    for keypoint, score in zip(*frames_of(*frames)):
        tracker.update(keypoint, score)
    assert [len(track) for track in tracker.tracks] == [30, 10, 10]
    keypoint, _ = tracker.result()
    assert keypoint[1, :10].any() and not keypoint[1, 10:].any()  # C's first stay, not its return


def test_a_passer_by_is_dropped_and_padding():
    frames = [[person(0, 0), person(100, 0)] + ([person(50, 80)] if 5 <= t < 8 else []) for t in range(12)]
    keypoint, _ = track_poses(*frames_of(*frames), max_tracks=2)
    assert keypoint.shape[0] == 2 and keypoint[:, :, 0, 0].max() == 100 and not (keypoint[..., 1] >= 80).any()
    keypoint, score = track_poses(*frames_of(*frames), max_tracks=4, pad=True)
    assert keypoint.shape == (4, 12, 3, 2) and score[3].sum() == 0 and (keypoint[2, 5:8] != 0).all()
    keypoint, _ = track_poses(*frames_of(*frames), max_tracks=4)
    assert keypoint.shape[0] == 3


def test_nobody_and_bad_input():
    keypoint, score = track_poses(*frames_of([], []), num_joints=3)
    assert keypoint.shape == (1, 2, 3, 2) and not keypoint.any() and not score.any()
    with pytest.raises(ValueError, match='pass num_joints'):
        track_poses(*frames_of([], []))
    with pytest.raises(ValueError, match=r'frame 1: poses have 4 joints, earlier ones 3'):
        track_poses([np.zeros((1, 3, 2)), np.zeros((1, 4, 2))], [np.zeros((1, 3)), np.zeros((1, 4))])
    with pytest.raises(ValueError, match=r'frame 0: expected keypoint \[K, V, 2\]'):
        track_poses([np.zeros((1, 3, 3))], [np.zeros((1, 3))])


def test_float16_like_pyskls_demo():
    keypoint, score = track_poses(*frames_of([person(0.1, 0.2, score=0.3)]), dtype=np.float16)
    assert keypoint.dtype == score.dtype == np.float16 and score[0, 0, 0] == np.float16(0.3)
