"""demo/demo_gesture.py: PYSKL's hand-gesture demo. Its parts (the hand box, IoU, following a hand back in time, the
frame loop) run here with a model-free hand back-end and the gesture model's random weights; the headless command
runs MediaPipe Hands and hagrid.pth on a hand cut out of ntu_sample.avi, and skips without mediapipe or ../shared."""
import csv

import numpy as np
import pytest

from pyskl.apis import inference_recognizer, init_recognizer
from pyskl.utils.label_maps import load_label_map
from pyskl.utils.video import VideoWriter, iter_frames
from tests.conftest import REPO_ROOT, load_script, read_video, shared_file
from tests.tools.spots import HAND_OFFSETS, SpotHands, moving_spot, write_spots_video

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def demo():
    return load_script('demo/demo_gesture.py')


def test_the_hand_box_is_the_extent_with_a_margin_inside_the_frame(demo):
    hand = np.array([[0.2, 0.5], [0.4, 0.6], [0.3, 0.55]], np.float32)
    np.testing.assert_allclose(demo.hand_box(hand), [0.18, 0.49, 0.42, 0.61], atol=1e-6)
    at_edge = np.array([[0., 0.9], [0.1, 1.]], np.float32)
    np.testing.assert_allclose(demo.hand_box(at_edge), [0., 0.89, 0.11, 1.], atol=1e-6)


def test_iou_of_corner_boxes(demo):
    boxes = np.array([[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6], [0, 0, 1, 2]], np.float32)
    np.testing.assert_allclose(demo.box_iou(np.float32([0, 0, 2, 2]), boxes), [1 / 7, 1, 0, 0.5])


def hand_at(x, y, size=0.1):
    """A square 'hand' of 21 points spread over [x, x + size] x [y, y + size]."""
    grid = np.stack(np.meshgrid(np.linspace(0, size, 7), np.linspace(0, size, 3)), -1).reshape(21, 2)
    return (grid + [x, y]).astype(np.float32)


def test_a_hand_is_followed_back_while_its_boxes_overlap(demo):
    history = demo.HandHistory(clip_len=4)
    with_box = lambda hand: (hand, demo.hand_box(hand))  # noqa: E731
    a0, a1, a2, a3 = (hand_at(0.2 + 0.01 * t, 0.3) for t in range(4))  # moving slowly: IoU ~0.8 frame to frame
    far = hand_at(0.7, 0.7)
    history.add([with_box(a0)])
    history.add([with_box(far), with_box(a1)])  # the overlapping hand is picked, whatever its order
    history.add([with_box(a2)])
    clip = history.clip(*with_box(a3))
    np.testing.assert_array_equal(clip, np.stack([a0, a1, a2, a3]))
    history.add([with_box(a3)])
    assert len(history.clip(*with_box(hand_at(0.24, 0.3)))) == 4  # never longer than clip_len
    np.testing.assert_array_equal(history.clip(*with_box(far)), far[None])  # no overlap: the hand alone
    history.add([])
    assert len(history.clip(*with_box(a3))) == 1  # a frame without hands ends the walk
    jump = demo.HandHistory(clip_len=10)
    jump.add([with_box(hand_at(0.2, 0.3))])
    assert len(jump.clip(*with_box(hand_at(0.26, 0.3)))) == 1  # moved half its box: IoU 0.33 < 0.5


@pytest.fixture(scope='module')
def gesture_model():
    return init_recognizer(str(REPO_ROOT / 'demo' / 'stgcnpp_gesture.py'))  # random weights: the plumbing


def test_every_second_frame_each_hand_is_classified_from_its_clip(demo, gesture_model, tmp_path):
    """A 'hand' moving 2 px a frame on 64x48 frames (IoU 0.7 frame to frame), then 2 dark frames."""
    centres = moving_spot(num_frames=10, start=(20, 24), step=(2, 0))
    centres[8:] = 1000  # off the picture
    video = write_spots_video(tmp_path / 'hand.mp4', centres)
    run = demo.GestureDemo(gesture_model, SpotHands(), every=2, topk=3)
    results = [run.step(frame) for frame in iter_frames(video)]
    assert [r.predicted for r in results] == [False, True] * 5
    assert [r.status for r in results] == ['between predictions', 'predicted'] * 4 + ['no hand'] * 2
    assert [[h.clip_frames for h in r.results] for r in results] == [[], [2], [], [4], [], [6], [], [8], [], []]
    # the clip of frame 5: the hands of frames 0..5 in [0, 1] coordinates, the dict PYSKL's demo made
    spots = SpotHands()
    hands = np.stack([spots.detect(frame).keypoint[0] for frame in list(iter_frames(video))[:6]])
    np.testing.assert_allclose(hands[0], centres[0] - 0.5 + HAND_OFFSETS, atol=0.3)
    expected = inference_recognizer(gesture_model, dict(keypoint=hands[None] / np.float32([64, 48])), topk=3)
    np.testing.assert_allclose(results[5].results[0].pred.scores, expected.scores, rtol=0, atol=1e-4)
    # the shown list: the latest first; the last prediction frame had no hand
    assert list(run.shown)[-1] == demo.NO_HAND and len(run.shown) == 5
    assert list(run.shown)[0] == results[1].results[0].text()
    rows = [row for r in results for row in demo.csv_rows(r)]
    assert len(rows) == 10 and rows[5]['clip_frames'] == 6 and rows[5]['name'] in gesture_model.dataset_meta['classes']
    assert rows[5]['top5'].count('|') == 2 and rows[9] == dict(frame=9, hands=0, status='no hand')
    picture = run.draw(np.zeros((48, 64, 3), np.uint8), results[5], mirror=True)
    assert picture.shape == (48, 64, 3) and picture.any()
    assert 'frames/s' in run.speed(1.0)


def test_bad_arguments_are_refused_with_what_to_do(demo, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo.main(['--video', str(tmp_path / 'clip.mp4')])
    assert exit_info.value.code == 2 and '--video needs --out' in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        demo.main(['--video', str(tmp_path / 'missing.mp4'), '--out', str(tmp_path / 'out.mp4')])
    assert exit_info.value.code == 2 and 'missing.mp4: no such file' in capsys.readouterr().err
    video = write_spots_video(tmp_path / 'clip.mp4', np.full((2, 1, 2), 20.))
    with pytest.raises(SystemExit) as exit_info:
        demo.main(['--video', video, '--out', str(tmp_path / 'out.mp4'), '--checkpoint', str(tmp_path / 'no.pth')])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and 'no checkpoint at' in err and 'kennymckormick/pyskl' in err


# -- the command, headless, on a real hand ----------------------------------------------------------------------------
# A 400x400 crop around the left wrist that MediaPipe Pose finds in the first 24 frames of ntu_sample.avi (the hand
# holding a hat), then 4 black frames.
HAND_CROP = (898, 377, 400)


def write_hand_video(path):
    x0, y0, size = HAND_CROP
    with VideoWriter(str(path), fps=30) as writer:
        for _, frame in zip(range(24), iter_frames(str(shared_file('data', 'ntu_sample.avi')))):
            writer.write(frame[y0:y0 + size, x0:x0 + size])
        for _ in range(4):
            writer.write(np.zeros((size, size, 3), np.uint8))
    return str(path)


def test_headless_run_writes_the_annotated_video_and_the_csv(demo, tmp_path, capsys):
    pytest.importorskip('mediapipe', reason='mediapipe is not installed (pip install -e ".[extract]")')
    checkpoint = str(shared_file('data', 'hagrid.pth'))
    video, out = write_hand_video(tmp_path / 'hand.mp4'), tmp_path / 'annotated.mp4'
    assert demo.main(['--video', video, '--out', str(out), '--checkpoint', checkpoint]) == 0
    frames, fps = read_video(out)
    assert len(frames) == 28 and frames[0].shape == (400, 400, 3) and fps == pytest.approx(30)
    with open(tmp_path / 'annotated.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    assert [int(row['frame']) for row in rows] == list(range(28))  # one hand at most: one row a frame
    assert all(row['status'] == 'no hand' and row['hands'] == '0' for row in rows[24:])
    with_hand = [row for row in rows[:24] if row['hands'] == '1']
    assert len(with_hand) >= 20, 'MediaPipe Hands finds the hand in (nearly) every frame of the crop'
    predicted = [row for row in rows if row['status'] == 'predicted']
    assert predicted and all(int(row['frame']) % 2 == 1 for row in predicted)
    names = load_label_map('gesture')
    assert all(row['name'] == names[int(row['label'])] and 0 < float(row['score']) <= 1 for row in predicted)
    assert max(int(row['clip_frames']) for row in predicted) == 10  # followed back over the full clip
    printed = capsys.readouterr().out
    assert f'wrote {out} (28 frames, 400x400)' in printed and '28 frames in' in printed and 'frames/s' in printed
