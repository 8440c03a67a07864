"""pyskl.visualization.skeleton and tools/visualize_skeleton.py: synthetic 2D and 3D samples rendered and read back."""
import pickle

import cv2
import numpy as np
import pytest

from pyskl.graph import get_layout
from pyskl.utils.video import VideoError
from pyskl.visualization import render_2d, render_3d, score_colour, write_annotation_video
from tests.conftest import load_script, read_video

# a COCO-17 person standing in a 120x160 (h x w) picture, then stepping right 4 px a frame
STANDING = np.array([[80, 20], [82, 18], [78, 18], [85, 19], [75, 19], [90, 35], [70, 35], [94, 50], [66, 50],
                     [96, 64], [64, 64], [86, 70], [74, 70], [87, 90], [73, 90], [88, 110], [72, 110]], np.float32)


def sample_2d(num_frames=5, with_score=True):
    keypoint = STANDING + np.arange(num_frames)[:, None, None] * np.float32([4, 0])
    anno = dict(frame_dir='walker', label=2, total_frames=num_frames, img_shape=(120, 160),
                keypoint=keypoint[None].astype(np.float16))
    if with_score:
        score = np.ones((1, num_frames, 17), np.float16)
        score[0, :, 9] = 0.2  # a doubtful left wrist
        score[0, :, 10] = 0  # the right wrist not found
        anno['keypoint_score'] = score
    return anno


def sample_3d(num_frames=4):
    """Two NTU-25 skeletons (metres, y up), the second a metre to the right."""
    rng = np.random.default_rng(0)
    body = rng.uniform(-0.5, 0.5, (25, 3)).astype(np.float32) + np.float32([0, 0, 3])
    keypoint = np.stack([body, body + np.float32([1, 0, 0])])[:, None].repeat(num_frames, 1)
    keypoint[1, 2:] = 0  # the second person leaves after two frames
    return dict(frame_dir='ntu_like', label=0, total_frames=num_frames, keypoint=keypoint)


def test_2d_frames_show_joints_where_they_are_coloured_by_score():
    frames = list(render_2d(sample_2d(), scale=2))
    assert len(frames) == 5 and frames[0].shape == (240, 320, 3)
    t = 3
    joints = (sample_2d()['keypoint'][0, t].astype(np.float32) * 2).round().astype(int)
    x, y = joints[15]  # the left ankle, score 1: green
    assert tuple(frames[t][y, x]) == score_colour(1.) == (0, 255, 0)
    x, y = joints[9]  # the left wrist, score 0.2: orange-red
    assert tuple(frames[t][y, x]) == score_colour(0.2) == (0, 102, 255)
    x, y = joints[10]  # the right wrist, score 0: not drawn, the canvas stays white there
    assert tuple(frames[t][y, x]) == (255, 255, 255)
    # the person moved 8 output pixels right between frames: the ankle is green at its new place only
    x, y = joints[15]
    assert tuple(frames[t - 1][y, x]) != (0, 255, 0) and tuple(frames[t - 1][y, x - 8]) == (0, 255, 0)


def test_2d_edges_are_the_layouts():
    frame = next(render_2d(sample_2d(with_score=False), scale=2))
    left_knee, left_ankle = STANDING[13] * 2, STANDING[15] * 2
    assert (15, 13) in get_layout('coco').inward
    for f in (0.3, 0.5, 0.7):  # points along the shin, between the joint circles, carry the person's colour
        x, y = np.round(left_knee + f * (left_ankle - left_knee)).astype(int)
        near = frame[y - 1:y + 2, x - 1:x + 2].reshape(-1, 3).astype(int)
        assert np.abs(near - (255, 128, 0)).sum(1).min() < 60  # (anti-aliased: blended with the white canvas)
    x, y = np.round((STANDING[9] + STANDING[10]) / 2 * 2).astype(int)  # no edge joins the two wrists
    assert tuple(frame[y, x]) == (255, 255, 255)


def test_2d_over_a_video_keeps_its_frames_and_rescales_the_joints(tmp_path):
    video = str(tmp_path / 'source.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 10, (80, 60))  # half the annotated size
    for _ in range(6):
        writer.write(np.full((60, 80, 3), (30, 60, 90), np.uint8))
    writer.release()
    anno = sample_2d()
    frames = list(render_2d(anno, video_frames=(f for f in read_video(video)[0])))
    assert len(frames) == 5 and frames[0].shape == (60, 80, 3)
    assert np.abs(frames[0][45, 5].astype(int) - (30, 60, 90)).max() < 10  # the video shows where nothing is drawn
    x, y = (STANDING[15] / 2).round().astype(int)
    assert tuple(frames[0][y, x]) == (0, 255, 0)  # the ankle at half its coordinates
    with pytest.raises(ValueError, match="sample 'walker': the video has 2 frames, fewer than the 5 annotated"):
        list(render_2d(anno, video_frames=read_video(video)[0][:2]))


def test_3d_frames_turn_and_show_both_people():
    frames = list(render_3d(sample_3d(), size=(200, 160), joint_ids=True, degrees_per_frame=30))
    assert len(frames) == 4 and all(frame.shape == (160, 200, 3) for frame in frames)
    blue = [np.all(frame == (255, 128, 0), axis=-1).sum() for frame in frames]  # person 0's colour (BGR)
    red = [np.all(frame == (0, 0, 255), axis=-1).sum() for frame in frames]  # person 1's colour
    assert min(blue) > 20 and min(red[:2]) > 20 and max(red[2:]) == 0  # person 1 left after two frames
    assert np.abs(frames[0].astype(int) - frames[1]).sum() > 0  # the view turned


@pytest.mark.parametrize('suffix', ['.mp4', '.gif'])
def test_the_tool_writes_a_watchable_video_of_each_kind(tmp_path, suffix):
    tool = load_script('tools/visualize_skeleton.py')
    ann = tmp_path / 'ann.pkl'
    with open(ann, 'wb') as f:
        pickle.dump(dict(split=dict(train=['walker', 'ntu_like']), annotations=[sample_2d(), sample_3d()]), f)
    label_map = tmp_path / 'labels.txt'
    label_map.write_text('sit\nstand\nwalk\n')

    out2d, out3d = tmp_path / f'walker{suffix}', tmp_path / f'ntu{suffix}'
    assert tool.main([str(ann), '--index', '0', '--out', str(out2d), '--label-map', str(label_map),
                      '--joint-ids']) == 0
    assert tool.main([str(ann), '--frame-dir', 'ntu_like', '--out', str(out3d), '--fps', '10']) == 0
    (frames2d, _), (frames3d, _) = read_video(out2d), read_video(out3d)
    assert len(frames2d) == 5 and frames2d[0].shape == (120, 160, 3)
    assert len(frames3d) == 4 and frames3d[0].shape == (640, 640, 3)

    with pytest.raises(SystemExit):
        tool.main([str(ann), '--index', '5', '--out', str(tmp_path / 'x.mp4')])
    with pytest.raises(SystemExit):
        tool.main([str(ann), '--frame-dir', 'nobody', '--out', str(tmp_path / 'x.mp4')])


def test_bad_samples_are_named(tmp_path):
    anno = sample_2d()
    anno['total_frames'] = 7
    with pytest.raises(ValueError, match="sample 'walker': total_frames is 7 but keypoint has 5 frames"):
        write_annotation_video(anno, str(tmp_path / 'x.mp4'))
    with pytest.raises(ValueError, match='no keypoint'):
        write_annotation_video(dict(frame_dir='k400_like', keypoint_score=np.zeros(3)), str(tmp_path / 'x.mp4'))
    with pytest.raises(ValueError, match='not over a video'):
        write_annotation_video(sample_3d(), str(tmp_path / 'x.mp4'), video=__file__)
    with pytest.raises(VideoError, match='missing.mp4: no such file'):
        write_annotation_video(sample_2d(), str(tmp_path / 'x.mp4'), video=str(tmp_path / 'missing.mp4'))
    assert not list(tmp_path.iterdir())
