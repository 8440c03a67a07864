"""Skeleton extraction (pyskl/extraction, tools/data/extract_skeleton.py).

Most tests run the real extraction machinery (decoding, stacking, tracking, caching, the report) on small videos
written here, with a back-end that needs no model (``spots.py``: every bright blob is a "person" with one joint at
its centre); test_extraction_pool.py runs it in a process pool. The MediaPipe tests at the end need
mediapipe and ../shared/data/ntu_sample.avi, and skip without them.
"""
import importlib.util
import os
import pickle

import numpy as np
import pytest

from pyskl.extraction import (MEDIAPIPE_POSE_TO_COCO, FramePoses, build_backend, extract_skeletons, extract_video,
                              output_paths, parse_video_list, stack_poses)
from tests.conftest import REPO_ROOT, load_script, read_video, shared_file

from .spots import BrightSpots, moving_spot, write_spots_video


class StopsAtSecondVideo(BrightSpots):
    """As if the run were killed (Ctrl-C) while extracting its second video."""
    videos = 0

    def __call__(self, frames):
        StopsAtSecondVideo.videos += 1
        if StopsAtSecondVideo.videos == 2:
            raise KeyboardInterrupt
        return super().__call__(frames)


def load_tool():
    return load_script('tools/data/extract_skeleton.py')


# ---------------------------------------------------------------------------------------------------------------------
# The video list

def test_video_list_fields_comments_and_tabs(tmp_path):
    listing = tmp_path / 'videos.txt'
    listing.write_text('# my videos\n'
                       'clips/a.mp4 3 train\n'
                       '\n'
                       'clips/b.avi 0\n'
                       'c.mkv\n'
                       'my clips/d e.mp4\t7\tval\n')
    entries = parse_video_list(str(listing))
    assert [(e.path, e.label, e.split, e.frame_dir, e.line) for e in entries] == [
        ('clips/a.mp4', 3, 'train', 'a', 2), ('clips/b.avi', 0, None, 'b', 4), ('c.mkv', -1, None, 'c', 5),
        ('my clips/d e.mp4', 7, 'val', 'd e', 6)]


@pytest.mark.parametrize('text, message', [
    ('a.mp4 1\nother/a.avi 2\n', r'line 2: other/a.avi and line 1 have the same name .a.'),
    ('a.mp4 one\n', r'line 1: the label must be an integer class index, got .one.'),
    ('a.mp4 -2\n', r'line 1: the label must be >= 0'),
    ('my video.mp4 1 train\n', r'line 1: expected "path \[label \[split\]\]", got 4 fields'),
    ('# nothing\n\n', 'names no video'),
])
def test_video_list_errors_name_the_line(tmp_path, text, message):
    listing = tmp_path / 'videos.txt'
    listing.write_text(text)
    with pytest.raises(ValueError, match=message):
        parse_video_list(str(listing))
    with pytest.raises(FileNotFoundError, match='missing.txt does not exist'):
        parse_video_list(str(tmp_path / 'missing.txt'))


# ---------------------------------------------------------------------------------------------------------------------
# From per-frame poses to [M, T, V, 2]

def poses(*people):
    """One frame's people as FramePoses: each person is (x, y, score) of a one-joint skeleton."""
    people = np.array(people, np.float32).reshape(-1, 3)
    return FramePoses(people[:, None, :2], people[:, None, 2])


def test_multi_person_backends_link_persons_with_the_tracker():
    """Through PYSKL's tracker (pyskl.utils.tracking, tested on its own in tests/utils/test_tracking.py)."""
    # A walks right along y=10, B stands at (50, 40); the detector lists them in either order; B is missed at t=2
    frames = [poses((10, 10, .9), (50, 40, .8)), poses((50, 40, .8), (12, 10, .9)), poses((14, 10, .9)),
              poses((50, 41, .7), (16, 10, .9))]
    keypoint, score = stack_poses(frames, BrightSpots(max_persons=2))
    assert keypoint.shape == (2, 4, 1, 2) and score.shape == (2, 4, 1)
    np.testing.assert_allclose(keypoint[0, :, 0], [[10, 10], [12, 10], [14, 10], [16, 10]])  # the longest track first
    np.testing.assert_allclose(keypoint[1, :, 0], [[50, 40], [50, 40], [0, 0], [50, 41]])
    np.testing.assert_allclose(score[1, :, 0], [.8, .8, 0, .7])
    keypoint, score = stack_poses([poses(), poses()], BrightSpots(max_persons=2))
    assert keypoint.shape == (1, 2, 1, 2) and not score.any()  # nobody: one all-zero person


def test_single_person_backends_need_no_tracker():
    backend = BrightSpots(max_persons=1)
    # the person reappearing after a long gap stays person 0 (a tracker would have split it)
    frames = [poses((5, 5, .5))] + [poses()] * 40 + [poses((9, 9, .6))]
    keypoint, score = stack_poses(frames, backend)
    assert keypoint.shape == (1, 42, 1, 2)
    np.testing.assert_allclose(keypoint[0, [0, 41], 0], [[5, 5], [9, 9]])
    np.testing.assert_allclose(score[0, :, 0], [.5] + [0] * 40 + [.6])


# ---------------------------------------------------------------------------------------------------------------------
# One video

def test_extracted_joint_follows_the_spot(tmp_path):
    centres = moving_spot()
    path = write_spots_video(tmp_path / 'spot.mp4', centres)
    record = extract_video(BrightSpots(), path)
    assert set(record) == {'keypoint', 'keypoint_score', 'img_shape', 'original_shape', 'total_frames'}
    assert record['total_frames'] == 8 and record['img_shape'] == record['original_shape'] == (48, 64)
    assert record['keypoint'].dtype == record['keypoint_score'].dtype == np.float16
    assert record['keypoint'].shape == (1, 8, 1, 2)
    # the square covers pixels c-3 .. c+2, so its centre is half a pixel up-left of c
    np.testing.assert_allclose(record['keypoint'][0, :, 0], centres[:, 0] - 0.5, atol=0.3)
    np.testing.assert_array_equal(record['keypoint_score'], 1)


def test_two_people_are_linked_across_frames(tmp_path):
    a = moving_spot(start=(10, 12), step=(4, 0))
    b = moving_spot(start=(54, 36), step=(-4, 0))
    path = write_spots_video(tmp_path / 'two.mp4', np.concatenate([a, b], 1))
    record = extract_video(BrightSpots(max_persons=2), path)
    keypoint = record['keypoint'].astype(np.float32)
    assert keypoint.shape == (2, 8, 1, 2)
    ys = keypoint[:, :, 0, 1]
    assert np.ptp(ys[0]) < 1 and np.ptp(ys[1]) < 1 and abs(ys[0, 0] - ys[1, 0]) > 20  # each row stays one spot


# ---------------------------------------------------------------------------------------------------------------------
# The run: failures, report, cache, resume, pool

@pytest.fixture
def videos(tmp_path):
    """A list with two good videos, a missing one and a file that is not a video."""
    good1 = write_spots_video(tmp_path / 'good1.mp4', moving_spot())
    good2 = write_spots_video(tmp_path / 'good2.mp4', moving_spot(6, start=(40, 30), step=(-3, -2)))
    (tmp_path / 'junk.mp4').write_bytes(b'not a video at all' * 20)
    listing = tmp_path / 'videos.txt'
    listing.write_text(f'{good1} 0 train\n{tmp_path}/missing.mp4 1 val\n{tmp_path}/junk.mp4 1 val\n{good2} 2 val\n')
    return str(listing)


def test_failed_videos_are_reported_and_only_written_without_them_on_request(tmp_path, videos):
    out = str(tmp_path / 'out' / 'skeletons.pkl')
    cache_dir, report_file = output_paths(out)
    report = extract_skeletons(parse_video_list(videos), out, BrightSpots, progress=False)
    assert (report.extracted, report.reused, report.frames, report.written) == (2, 0, 14, False)
    assert sorted(report.failed) == [f'{tmp_path}/junk.mp4', f'{tmp_path}/missing.mp4']
    assert 'no such file' in report.failed[f'{tmp_path}/missing.mp4']
    assert 'OpenCV cannot open it' in report.failed[f'{tmp_path}/junk.mp4']
    assert not os.path.exists(out)
    text = open(report_file).read()
    assert 'NOT written' in text and 'failed (2):' in text and f'{tmp_path}/junk.mp4: OpenCV cannot open it' in text
    assert sorted(os.listdir(cache_dir)) == ['good1.pkl', 'good2.pkl']

    report = extract_skeletons(parse_video_list(videos), out, BrightSpots, skip_failed=True, progress=False)
    assert (report.extracted, report.reused, len(report.failed), report.written) == (0, 2, 2, True)
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert data['split'] == {'train': ['good1'], 'val': ['good2']}
    assert [(a['frame_dir'], a['label'], a['total_frames']) for a in data['annotations']] == [
        ('good1', 0, 8), ('good2', 2, 6)]
    assert 'written' in open(report_file).read()


def test_the_tool_refuses_a_bad_list_before_any_work(tmp_path, capsys):
    listing = tmp_path / 'videos.txt'
    listing.write_text('a/clip.mp4 0\nb/clip.mp4 1\n')
    with pytest.raises(SystemExit) as exit_info:
        load_tool().main([str(listing), str(tmp_path / 'out.pkl'), '--no-progress'])
    assert exit_info.value.code == 2
    assert "same name 'clip'" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ['videos.txt']


def test_an_interrupted_run_leaves_whole_records_and_resumes(tmp_path, videos):
    listing = tmp_path / 'good.txt'
    listing.write_text(''.join(line + '\n' for line in open(videos).read().splitlines() if 'good' in line))
    entries, out = parse_video_list(str(listing)), str(tmp_path / 'skeletons.pkl')
    StopsAtSecondVideo.videos = 0
    with pytest.raises(KeyboardInterrupt):
        extract_skeletons(entries, out, StopsAtSecondVideo, progress=False)
    cache_dir, _ = output_paths(out)
    assert os.listdir(cache_dir) == ['good1.pkl'] and not os.path.exists(out)
    assert not [name for name in os.listdir(tmp_path) if name.endswith('.tmp')]

    report = extract_skeletons(entries, out, BrightSpots, progress=False)
    assert (report.reused, report.extracted, report.written) == (1, 1, True)
    # other back-end settings: the cached records do not apply
    report = extract_skeletons(entries, out, BrightSpots, dict(threshold=100), progress=False)
    assert (report.reused, report.extracted) == (0, 2)


# ---------------------------------------------------------------------------------------------------------------------
# Back-ends: the mapping, and clear messages when one cannot run

MEDIAPIPE_POSE_LANDMARKS = [
    'nose', 'left_eye_inner', 'left_eye', 'left_eye_outer', 'right_eye_inner', 'right_eye', 'right_eye_outer',
    'left_ear', 'right_ear', 'mouth_left', 'mouth_right', 'left_shoulder', 'right_shoulder', 'left_elbow',
    'right_elbow', 'left_wrist', 'right_wrist', 'left_pinky', 'right_pinky', 'left_index', 'right_index',
    'left_thumb', 'right_thumb', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
    'left_heel', 'right_heel', 'left_foot_index', 'right_foot_index']
COCO_KEYPOINTS = [
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder', 'left_elbow',
    'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
    'right_ankle']


def test_mediapipe_landmarks_map_to_the_coco_joints_of_the_same_name():
    assert [MEDIAPIPE_POSE_LANDMARKS[i] for i in MEDIAPIPE_POSE_TO_COCO] == COCO_KEYPOINTS


def test_the_mapping_matches_mediapipes_own_landmark_names():
    mediapipe = pytest.importorskip('mediapipe', reason='mediapipe is not installed (pip install -e ".[extract]")')
    names = [landmark.name.lower() for landmark in mediapipe.solutions.pose.PoseLandmark]
    assert names == MEDIAPIPE_POSE_LANDMARKS


def test_backend_errors_say_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="unknown pose back-end 'openpose'"):
        build_backend('openpose')
    with pytest.raises(ValueError, match='needs --det-config, --det-checkpoint'):
        build_backend('mmpose', det_config=None, det_checkpoint=None, pose_config='p.py', pose_checkpoint='p.pth')
    with pytest.raises(FileNotFoundError, match=r'cannot find det_config=.*det\.py, det_checkpoint='):
        build_backend('mmpose', det_config=str(tmp_path / 'det.py'), det_checkpoint=str(tmp_path / 'det.pth'),
                      pose_config=str(tmp_path / 'pose.py'), pose_checkpoint=str(tmp_path / 'pose.pth'))


def test_missing_mmpose_is_named_with_the_install_command(tmp_path):
    if importlib.util.find_spec('mmdet') and importlib.util.find_spec('mmpose'):
        pytest.skip('mmdet and mmpose are installed')
    files = {key: tmp_path / f'{key}.txt' for key in ('det_config', 'det_checkpoint', 'pose_config', 'pose_checkpoint')}
    for path in files.values():
        path.write_text('')
    with pytest.raises(ImportError, match='needs mmdet >= 3 and mmpose >= 1.*mim install'):
        build_backend('mmpose', **{key: str(path) for key, path in files.items()})


def test_missing_mediapipe_is_named_with_the_install_command(tmp_path, capsys):
    if importlib.util.find_spec('mediapipe'):
        pytest.skip('mediapipe is installed')
    with pytest.raises(ImportError, match=r'need mediapipe: pip install -e "\.\[extract\]"'):
        build_backend('mediapipe')
    listing = tmp_path / 'videos.txt'
    listing.write_text('clip.mp4 0\n')
    with pytest.raises(SystemExit) as exit_info:
        load_tool().main([str(listing), str(tmp_path / 'out.pkl')])
    assert exit_info.value.code == 2 and 'need mediapipe' in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------------------
# MediaPipe on a real NTU RGB+D clip (offline: the models are inside the wheel)

@pytest.fixture(scope='module')
def ntu_annotation(tmp_path_factory):
    pytest.importorskip('mediapipe', reason='mediapipe is not installed (pip install -e ".[extract]")')
    video = shared_file('data', 'ntu_sample.avi')
    folder = tmp_path_factory.mktemp('ntu')
    listing = folder / 'videos.txt'
    listing.write_text(f'{video} 54 train\n{folder}/missing.avi 3 train\n')  # A055, hugging other person
    out = folder / 'ntu.pkl'
    tool = load_tool()
    assert tool.main([str(listing), str(out), '--no-progress']) == 1 and not out.exists()  # a video is missing
    assert tool.main([str(listing), str(out), '--no-progress', '--skip-failed']) == 0  # from the cache
    with open(out, 'rb') as f:
        return str(out), str(video), pickle.load(f)


def test_mediapipe_skeleton_of_the_ntu_sample_follows_the_body(ntu_annotation):
    _, _, data = ntu_annotation
    assert data['split'] == {'train': ['ntu_sample']}
    (anno, ) = data['annotations']
    assert (anno['frame_dir'], anno['label'], anno['total_frames']) == ('ntu_sample', 54, 72)
    assert anno['img_shape'] == anno['original_shape'] == (1080, 1920)
    keypoint, score = anno['keypoint'].astype(np.float32), anno['keypoint_score'].astype(np.float32)
    assert keypoint.shape == (1, 72, 17, 2) and score.shape == (1, 72, 17)
    assert (score > 0).all(), 'MediaPipe found the person in every frame'
    x, y = keypoint[0, ..., 0], keypoint[0, ..., 1]
    assert (x >= 0).all() and (x < 1920).all() and (y >= 0).all() and (y < 1080).all()
    assert score.mean() > 0.7
    # head above shoulders above hips above knees above ankles, in every frame (y grows downwards)
    parts = [y[:, [0]], y[:, [5, 6]], y[:, [11, 12]], y[:, [13, 14]], y[:, [15, 16]]]
    for upper, lower in zip(parts, parts[1:]):
        assert (upper.max(1) < lower.min(1)).all()
    height = y[:, [15, 16]].mean(1) - y[:, 0]
    assert (height > 400).all() and (height < 700).all()  # a standing adult in a 1080p room view
    assert np.linalg.norm(keypoint[0, :, 5] - keypoint[0, :, 6], axis=-1).mean() > 30  # shoulders apart
    # the arms move (a hug), the feet stay put
    wrist_travel = np.linalg.norm(np.diff(keypoint[0, :, [9, 10]], axis=1), axis=-1).sum(1)
    ankle_travel = np.ptp(keypoint[0, :, [15, 16]], axis=1).max()
    assert (wrist_travel > 150).all() and ankle_travel < 60


def test_the_ntu_annotation_loads_and_renders_over_the_video(ntu_annotation, tmp_path):
    from pyskl.datasets import PoseDataset
    out, video, _ = ntu_annotation
    dataset = PoseDataset(out, pipeline=[], split='train')
    assert len(dataset) == 1 and dataset[0]['keypoint'].shape == (1, 72, 17, 2)

    tool = load_script('tools/visualize_skeleton.py')
    clip = str(tmp_path / 'clip.mp4')
    assert tool.main([out, '--out', clip, '--video', video, '--scale', '0.5', '--joint-ids',
                      '--label-map', str(REPO_ROOT / 'tools' / 'data' / 'label_map' / 'nturgbd_120.txt')]) == 0
    frames, fps = read_video(clip)
    assert len(frames) == 72 and frames[0].shape == (540, 960, 3)
    assert fps == pytest.approx(30)


def test_mediapipe_hands_find_the_hand_at_the_pose_wrist(ntu_annotation, tmp_path):
    # a 400x400 crop of the first 24 frames around the left wrist that MediaPipe Pose found
    from pyskl.utils.video import VideoWriter, iter_frames
    _, video, data = ntu_annotation
    wrist = data['annotations'][0]['keypoint'][0, :24, 9].astype(np.float32)
    x0, y0 = wrist.mean(0).astype(int) - 200
    crop = str(tmp_path / 'hand.mp4')
    with VideoWriter(crop, fps=30) as writer:
        for _, frame in zip(range(24), iter_frames(video)):
            writer.write(frame[y0:y0 + 400, x0:x0 + 400])
    with build_backend('mediapipe-hands', max_persons=2) as hands:
        record = extract_video(hands, crop)
    keypoint, score = record['keypoint'].astype(np.float32), record['keypoint_score']
    assert keypoint.shape == (2, 24, 21, 2) and record['img_shape'] == (400, 400)
    assert (score[0] == 1).all(), 'the longest track, a hand in every frame'
    # the hand model's wrist (landmark 0) is where the pose model put the wrist
    assert np.linalg.norm(keypoint[0, :, 0] - (wrist - (x0, y0)), axis=-1).max() < 20
    assert ((keypoint[0] >= 0) & (keypoint[0] < 400)).all()
