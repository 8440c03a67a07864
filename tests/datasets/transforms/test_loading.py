"""PoseDecode (gathering sampled frames) and DecompressPose (Kinetics-400's per-skeleton format)."""
import numpy as np
import pytest

from pyskl.datasets.transforms import DecompressPose, PoseDecode


def test_pose_decode_gathers_frames_as_float32():
    keypoint = np.arange(2 * 5 * 3 * 2, dtype=np.float16).reshape(2, 5, 3, 2)
    score = np.arange(2 * 5 * 3, dtype=np.float16).reshape(2, 5, 3)
    results = PoseDecode()(dict(keypoint=keypoint, keypoint_score=score, frame_inds=np.array([4, 0, 0, 2])))
    assert results['keypoint'].dtype == np.float32 and results['keypoint_score'].dtype == np.float32
    np.testing.assert_array_equal(results['keypoint'], keypoint[:, [4, 0, 0, 2]])
    np.testing.assert_array_equal(results['keypoint_score'], score[:, [4, 0, 0, 2]])


def test_pose_decode_defaults_to_every_frame_and_applies_offset():
    keypoint = np.random.default_rng(0).random((1, 6, 2, 3)).astype(np.float32)
    every = PoseDecode()(dict(keypoint=keypoint, total_frames=6))
    np.testing.assert_array_equal(every['frame_inds'], np.arange(6))
    np.testing.assert_array_equal(every['keypoint'], keypoint)
    shifted = PoseDecode()(dict(keypoint=keypoint, frame_inds=np.array([[0, 1]]), offset=3))
    np.testing.assert_array_equal(shifted['keypoint'], keypoint[:, [3, 4]])


def test_pose_decode_out_of_range_names_the_sample():
    with pytest.raises(ValueError, match="PoseDecode: sample 'v1'.*outside the 6 frames"):
        PoseDecode()(dict(keypoint=np.zeros((1, 6, 2, 3)), frame_inds=np.array([0, 6]), frame_dir='v1'))


def compressed(frames, num_joints=2):
    """Skeleton n has x = n, y = 10 n, score = (n + 1) / 10 at every joint."""
    n = np.arange(len(frames), dtype=np.float32)[:, None]
    keypoint = np.stack(np.broadcast_arrays(n, 10 * n, (n + 1) / 10), -1) * np.ones((1, num_joints, 1))
    return dict(keypoint=keypoint.astype(np.float16), frame_inds=np.array(frames), total_frames=8, frame_dir='k400')


def test_decompress_pose_squeezes_frames_and_stacks_persons():
    results = DecompressPose()(compressed([0, 0, 2, 5, 5]))
    kp, score = results['keypoint'], results['keypoint_score']
    assert kp.shape == (2, 3, 2, 2) and score.shape == (2, 3, 2) and kp.dtype == np.float16
    assert results['total_frames'] == 3 and 'frame_inds' not in results
    # frame 0 holds skeletons 0, 1; frame 2 (now 1) skeleton 2; frame 5 (now 2) skeletons 3, 4
    np.testing.assert_array_equal(kp[:, :, 0, 0], [[0, 2, 3], [1, 0, 4]])
    np.testing.assert_array_equal(score[:, :, 0], np.array([[.1, .3, .4], [.2, 0, .5]], dtype=np.float16))


def test_decompress_pose_without_squeeze_keeps_frame_numbers():
    results = DecompressPose(squeeze=False)(compressed([1, 4]))
    assert results['keypoint'].shape == (1, 8, 2, 2) and results['total_frames'] == 8
    np.testing.assert_array_equal(results['keypoint'][0, [1, 4], 0, 1], [0, 10])


def test_decompress_pose_filters_and_keeps_best_scored_persons():
    sample = compressed([0, 0, 0, 1])
    sample['anno_inds'] = np.array([True, True, True, False])
    results = DecompressPose(max_person=2)(sample)
    assert results['keypoint'].shape == (2, 1, 2, 2) and results['num_person'] == 2
    np.testing.assert_array_equal(results['keypoint'][:, 0, 0, 0], [2, 1])  # scores .3 and .2 beat .1


def test_decompress_pose_rejects_unsorted_frames():
    with pytest.raises(ValueError, match="'k400'.*non-decreasing"):
        DecompressPose()(compressed([3, 1]))


def test_decompress_pose_person_count_is_pyskls_mode_count():
    """PYSKL takes ``scipy.stats.mode(frame_inds)``'s *count*: how many skeletons its most crowded frame holds (the
    largest count), not the most common per-frame count."""
    from scipy.stats import mode
    frames = np.array([0, 1, 2, 3, 3, 3])  # per-frame counts 1, 1, 1, 3: most common 1, largest 3
    assert mode(frames, keepdims=True).count[0] == 3
    results = DecompressPose()(compressed(frames))
    assert results['keypoint'].shape == (3, 4, 2, 2) and 'num_person' not in results
    np.testing.assert_array_equal(results['keypoint'][:, :, 0, 0], [[0, 1, 2, 3], [0, 0, 0, 4], [0, 0, 0, 5]])


def test_decompress_pose_truncation_sorts_each_frame_by_summed_score():
    sample = compressed([0, 0, 0, 4, 4, 4, 4])
    sample['keypoint'][:, :, 2] = np.array([.2, .5, .5, .9, .1, .3, .1], np.float16)[:, None]
    sample['anno_inds'] = np.array([0, 1, 2, 3, 4, 5])  # drops skeleton 6
    results = DecompressPose(max_person=2)(sample)
    assert results['keypoint'].shape == (2, 2, 2, 2) and results['num_person'] == 2 and results['total_frames'] == 2
    # frame 0: scores .2 .5 .5 -> skeletons 1, 2 (a tie keeps its order); frame 4 (now 1): .9 .1 .3 -> 3, 5
    np.testing.assert_array_equal(results['keypoint'][:, :, 0, 0], [[1, 3], [2, 5]])
    np.testing.assert_array_equal(results['keypoint_score'][:, :, 1], np.array([[.5, .9], [.5, .3]], np.float16))


def test_decompress_pose_without_squeeze_rejects_frames_past_the_end():
    with pytest.raises(ValueError, match="'k400'.*outside total_frames=8"):
        DecompressPose(squeeze=False)(compressed([2, 8]))
