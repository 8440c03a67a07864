"""Videos through pyskl.apis: which skeletons a model takes from a video (video_input), extract_skeletons, and
inference_recognizer on a video path.

The plumbing runs here on small videos written by the test, with a model-free hand back-end (tests/tools/spots.py);
the MediaPipe runs on real video are in tests/demo/ and skip without mediapipe.
"""
import importlib.util
from types import SimpleNamespace

import numpy as np
import pytest
from mmengine.config import Config

from pyskl.apis import VideoInput, extract_skeletons, inference_recognizer, init_recognizer, video_input
from pyskl.extraction import FramePoses
from tests.conftest import REPO_ROOT
from tests.tools.spots import HAND_OFFSETS, BrightSpots, SpotHands, moving_spot, write_spots_video

GESTURE_CONFIG = str(REPO_ROOT / 'demo' / 'stgcnpp_gesture.py')

pytestmark = pytest.mark.usefixtures('one_thread')


def config_only(path):
    """What video_input reads of a model: its config (no need to build a big network)."""
    return SimpleNamespace(cfg=Config.fromfile(str(REPO_ROOT / path)))


@pytest.mark.parametrize('config, expected', [
    ('demo/stgcnpp_gesture.py', VideoInput('handmp', 'mediapipe-hands', normalized=True, with_score=False)),
    ('configs/quickstart/c3d_synthetic_coco2d_joint.py', VideoInput('coco', 'mediapipe', False, True)),
    ('configs/stgcn++/stgcn++_ntu60_xsub_hrnet/j.py', VideoInput('coco', 'mediapipe', False, True)),
    ('configs/posec3d/slowonly_r50_ntu60_xsub/limb.py', VideoInput('coco', 'mediapipe', False, True)),
])
def test_the_skeletons_a_model_takes_from_a_video(config, expected):
    assert video_input(config_only(config)) == expected


@pytest.mark.parametrize('config, message', [
    ('configs/quickstart/stgcn++_synthetic_ntu3d_j.py', "NTU RGB\\+D's 25 Kinect joints .* cannot be extracted"),
    ('configs/rgbpose_conv3d/rgbpose_conv3d.py', 'MMRecognizer3D model .* RGB frames too'),
    ('configs/rgbpose_conv3d/rgb_only.py', 'does not take skeletons'),
])
def test_models_whose_skeletons_no_backend_gives_are_refused(config, message):
    with pytest.raises(ValueError, match=message):
        video_input(config_only(config))


def test_an_ntu_model_refuses_a_video_before_any_work():
    model = init_recognizer(str(REPO_ROOT / 'configs' / 'quickstart' / 'stgcn++_synthetic_ntu3d_j.py'))
    with pytest.raises(ValueError, match='cannot be extracted from a video'):
        inference_recognizer(model, 'no_such_video.mp4')  # refused for the model, not for the missing file


@pytest.fixture(scope='module')
def gesture_model():
    """The gesture model with random weights."""
    return init_recognizer(GESTURE_CONFIG)


@pytest.mark.skipif(importlib.util.find_spec('mediapipe') is not None, reason='mediapipe is installed')
def test_without_mediapipe_a_video_asks_for_the_extra(gesture_model):
    with pytest.raises(ImportError, match=r'pip install -e "\.\[extract\]"'):
        inference_recognizer(gesture_model, 'clip.mp4')


@pytest.fixture
def hand_video(tmp_path):
    """A bright spot moving right on a 64x48 video (tests/tools/spots.py), dark in the last 2 of its 8 frames."""
    centres = moving_spot(num_frames=8, start=(12, 20), step=(5, 1))
    centres[6:] = 1000  # off the picture
    return write_spots_video(tmp_path / 'wave.mp4', centres)


def test_extract_skeletons_gives_one_annotation_in_pixels_or_fractions(hand_video):
    pixels = extract_skeletons(hand_video, SpotHands())
    assert (pixels['frame_dir'], pixels['label'], pixels['total_frames']) == ('wave', -1, 8)
    assert pixels['img_shape'] == pixels['original_shape'] == (48, 64)
    assert pixels['keypoint'].shape == (1, 8, 21, 2) and pixels['keypoint'].dtype == np.float32
    # the spot's centre (a 6x6 square: half a pixel up-left of the drawn centre) plus the hand's offsets
    centres = moving_spot(num_frames=6, start=(12, 20), step=(5, 1))[:, 0] - 0.5
    np.testing.assert_allclose(pixels['keypoint'][0, :6], centres[:, None] + HAND_OFFSETS, atol=0.3)
    np.testing.assert_array_equal(pixels['keypoint_score'][0, :6], 1)
    assert not pixels['keypoint'][0, 6:].any() and not pixels['keypoint_score'][0, 6:].any()  # nobody found

    fractions = extract_skeletons(hand_video, SpotHands(), normalized=True)
    assert fractions['img_shape'] == (1, 1) and fractions['original_shape'] == (48, 64)  # the coordinates' frame
    np.testing.assert_allclose(fractions['keypoint'], pixels['keypoint'] / np.float32([64, 48]), rtol=1e-6)


def test_a_video_is_classified_as_its_skeletons_would_be(hand_video, gesture_model):
    """The gesture model (random weights) takes [0, 1] coordinates without scores: the video path gives the scores
    of the dict made from the same extraction; a list may mix videos and dicts."""
    expected = extract_skeletons(hand_video, SpotHands(), normalized=True)
    by_dict = inference_recognizer(gesture_model, dict(keypoint=expected['keypoint']), topk=3)
    by_video = inference_recognizer(gesture_model, hand_video, topk=3, backend=SpotHands())
    np.testing.assert_allclose(by_video.scores, by_dict.scores, rtol=0, atol=1e-6)
    assert by_video.topk == by_dict.topk and by_video.name in gesture_model.dataset_meta['classes']
    mixed = inference_recognizer(gesture_model, [dict(keypoint=expected['keypoint']), hand_video], backend=SpotHands())
    np.testing.assert_allclose(mixed[1].scores, by_dict.scores, rtol=0, atol=1e-6)


class SpotBodies(BrightSpots):
    name, layout, num_joints = 'spot-bodies', 'coco', 17

    def detect(self, frame):
        return FramePoses(np.zeros((0, 17, 2), np.float32), np.zeros((0, 17), np.float32))


def test_a_backend_of_other_joints_is_refused(hand_video, gesture_model):
    with pytest.raises(ValueError, match="spot-bodies back-end gives coco joints; the model takes 'handmp'"):
        inference_recognizer(gesture_model, hand_video, backend=SpotBodies())
