"""DecordInit / DecordDecode on small written videos, Normalize by hand, and the RGB frames through PYSKL's spatial
steps (Resize with mmcv's bilinear resize, CenterCrop, Flip)."""
import cv2
import numpy as np
import pytest
from mmcv.image import imnormalize_

from pyskl.datasets.transforms import CenterCrop, DecordDecode, DecordInit, Flip, Normalize, Resize
from pyskl.datasets.transforms.video import video_path
from pyskl.utils.video import VideoError, decord_available
from tests.conftest import coloured_frames, write_video

NO_DECORD = pytest.mark.skipif(not decord_available(), reason='decord is not installed')
BACKENDS = ['opencv', pytest.param('decord', marks=NO_DECORD)]


def test_the_video_of_a_sample():
    assert video_path(dict(frame_dir='videos/S001')) == 'videos/S001.mp4'  # PYSKL's RGBPose layout
    assert video_path(dict(filename='a/b.avi', frame_dir='x')) == 'a/b.avi'
    assert video_path(dict(filename='a/b')) == 'a/b.mp4'
    with pytest.raises(ValueError, match="needs 'filename' or 'frame_dir'"):
        video_path(dict(label=1))


@pytest.mark.parametrize('backend', BACKENDS)
def test_decord_init_and_decode_give_the_sampled_frames(tmp_path, backend):
    frames = coloured_frames(10)
    write_video(tmp_path / 'clip.mp4', frames)
    results = DecordInit(backend=backend)(dict(frame_dir=str(tmp_path / 'clip'), frame_inds=np.array([[7, 1, 1]])))
    assert results['total_frames'] == 10 and results['video_reader'].backend == backend
    results = DecordDecode()(results)
    assert results['video_reader'] is None
    imgs = results['imgs']
    assert imgs.shape == (3, 32, 40, 3) and imgs.dtype == np.uint8
    assert results['img_shape'] == results['original_shape'] == (32, 40)
    expected = np.stack(frames)[[7, 1, 1], ..., ::-1]  # written BGR, read RGB
    assert np.abs(imgs.astype(int) - expected).mean() < 6


def test_decoding_errors_name_the_step_and_the_file(tmp_path):
    with pytest.raises(VideoError, match=r'DecordInit: .*gone.mp4: no such file'):
        DecordInit()(dict(frame_dir=str(tmp_path / 'gone')))
    write_video(tmp_path / 'short.mp4', coloured_frames(4))
    results = DecordInit()(dict(filename=str(tmp_path / 'short.mp4'), frame_inds=np.array([0, 9])))
    with pytest.raises(VideoError, match=r'DecordDecode: .*short.mp4: frame 9 was asked for, but the video has 4'):
        DecordDecode()(results)
    with pytest.raises(ValueError, match="DecordDecode: sample 'v'.*needs 'video_reader'"):
        DecordDecode()(dict(frame_dir='v', frame_inds=np.arange(2)))
    with pytest.raises(ValueError, match="io_backend='disk'"):
        DecordInit(io_backend='petrel')
    with pytest.raises(ValueError, match='mode must be one of'):
        DecordDecode(mode='fast')


# ---------------------------------------------------------------------------------------------------- Normalize
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def test_normalize_by_hand():
    imgs = np.zeros((2, 1, 2, 3), np.uint8)
    imgs[1, 0, 1] = (255, 0, 60)
    results = Normalize(MEAN, STD)(dict(imgs=list(imgs)))
    out = results['imgs']
    assert out.dtype == np.float32 and out.shape == (2, 1, 2, 3)
    np.testing.assert_allclose(out[1, 0, 1], [(255 - 123.675) / 58.395, -116.28 / 57.12, (60 - 103.53) / 57.375],
                               rtol=1e-6)
    np.testing.assert_allclose(out[0, 0, 0], -np.array(MEAN) / STD, rtol=1e-6)
    assert results['img_norm_cfg']['to_bgr'] is False
    swapped = Normalize(MEAN, STD, to_bgr=True)(dict(imgs=imgs))['imgs']  # B, G, R then normalised
    np.testing.assert_allclose(swapped[1, 0, 1], [(60 - 123.675) / 58.395, -116.28 / 57.12, (255 - 103.53) / 57.375],
                               rtol=1e-6)
    assert imgs[1, 0, 1, 0] == 255  # the input is not edited


def test_normalize_computes_pyskls_bits():
    """PYSKL normalised frame by frame with mmcv's imnormalize_ and float32 mean / std; all frames at once gives the
    same bits."""
    imgs = np.random.default_rng(0).integers(0, 256, (3, 5, 7, 3), dtype=np.uint8)
    mean, std = np.array(MEAN, np.float32), np.array(STD, np.float32)
    expected = np.stack([imnormalize_(frame.astype(np.float32), mean, std, True) for frame in imgs])
    np.testing.assert_array_equal(Normalize(MEAN, STD, to_bgr=True)(dict(imgs=imgs))['imgs'], expected)


def test_normalize_errors():
    with pytest.raises(ValueError, match="Normalize: sample 'v'.*imgs \\[N, H, W, 3\\]"):
        Normalize(MEAN, STD)(dict(imgs=np.zeros((2, 4, 4), np.uint8), frame_dir='v'))
    with pytest.raises(ValueError, match='optical flow'):
        Normalize(MEAN, STD, adjust_magnitude=True)
    with pytest.raises(ValueError, match='std must not be 0'):
        Normalize([0, 0, 0], [1, 0, 1])


# ------------------------------------------------------------------------------------ the spatial steps on RGB
def test_resize_crop_and_flip_move_rgb_frames_like_pyskl():
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (2, 54, 96, 3), dtype=np.uint8)
    results = Resize(scale=(64, 48), keep_ratio=False)(dict(imgs=imgs, img_shape=(54, 96)))
    # PYSKL's mmcv 1.x imresize(..., 'bilinear') is cv2.resize with INTER_LINEAR: the same pixels
    for got, frame in zip(results['imgs'], imgs):
        np.testing.assert_array_equal(got, cv2.resize(frame, (64, 48), interpolation=cv2.INTER_LINEAR))
    resized = results['imgs']
    results = CenterCrop(40)(results)
    np.testing.assert_array_equal(results['imgs'], resized[:, 4:44, 12:52])
    flipped = Flip(flip_ratio=1.)(dict(results))['imgs']
    np.testing.assert_array_equal(flipped, results['imgs'][:, :, ::-1])
