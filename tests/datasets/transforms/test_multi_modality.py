"""RGBPoseConv3D's steps: per-modality sampling, decoding video + skeletons, cropping and padding both, and the whole
RGBPose pipeline on a rendered synthetic video."""
import numpy as np
import pytest
from mmengine.dataset import Compose

from pyskl.datasets.synthetic import write_synthetic_videos
from pyskl.datasets.transforms import (GeneratePoseTarget, MMCompact, MMDecode, MMPad, MMUniformSampleFrames,
                                       PoseCompact, UniformSampleFrames)
from pyskl.registry import DATASETS
from pyskl.utils.video import VideoError
from tests.conftest import coloured_frames, write_video


# -------------------------------------------------------------------------------------------- MMUniformSampleFrames
def test_each_modality_gets_pyskls_test_indices():
    """PYSKL re-seeded before each modality in test mode: both get UniformSampleFrames' indices for their length
    (its reference: T=300, clip_len 100, 10 clips -> clip 0 starts 1, 5, 7, 9, 13, ...)."""
    sampler = MMUniformSampleFrames(clip_len=dict(RGB=100, Pose=100), num_clips=10)
    results = sampler(dict(total_frames=300, test_mode=True, modality='Pose'))
    for modality in ('RGB', 'Pose'):
        assert results[f'{modality}_inds'].shape == (1000, )
        np.testing.assert_array_equal(results[f'{modality}_inds'][:12], [1, 5, 7, 9, 13, 16, 20, 21, 25, 27, 30, 35])
    assert results['modality'] == ['RGB', 'Pose'] and results['clip_len'] == dict(RGB=100, Pose=100)
    assert results['num_clips'] == 10 and results['frame_interval'] is None
    short = MMUniformSampleFrames(clip_len=dict(RGB=8, Pose=32), num_clips=2)(dict(total_frames=90, test_mode=True))
    for modality, length in (('RGB', 8), ('Pose', 32)):
        expected = UniformSampleFrames(length, num_clips=2).frame_indices(90, test_mode=True)
        np.testing.assert_array_equal(short[f'{modality}_inds'], expected)


def test_training_draws_the_modalities_in_order_from_the_global_rng():
    np.random.seed(4)
    results = MMUniformSampleFrames(clip_len=dict(RGB=8, Pose=32), p_interval=(0.5, 1))(dict(total_frames=75))
    np.random.seed(4)
    rgb = UniformSampleFrames(8, p_interval=(0.5, 1)).frame_indices(75, test_mode=False)
    pose = UniformSampleFrames(32, p_interval=(0.5, 1)).frame_indices(75, test_mode=False)
    np.testing.assert_array_equal(results['RGB_inds'], rgb)
    np.testing.assert_array_equal(results['Pose_inds'], pose)
    results['RGB_inds'][0] = -1  # a writable copy, not the sampler's cached test indices


def test_sampler_errors():
    with pytest.raises(TypeError, match='clip_len must be a dict'):
        MMUniformSampleFrames(clip_len=8)
    with pytest.raises(ValueError, match=r"unknown modalities \['Flow'\]"):
        MMUniformSampleFrames(clip_len=dict(Flow=8))
    with pytest.raises(ValueError, match="sample 'v'.*total_frames is 9 but keypoint has 5"):
        MMUniformSampleFrames(clip_len=dict(Pose=4))(dict(total_frames=9, keypoint=np.zeros((1, 5, 17, 2)),
                                                          frame_dir='v'))


# ---------------------------------------------------------------------------------------------------------- MMDecode
def skeletons(num_frames, img_shape, seed=0):
    """One person, 17 joints spread over the middle of an ``img_shape`` frame, joint 16 missing (0, 0)."""
    h, w = img_shape
    rng = np.random.default_rng(seed)
    keypoint = rng.uniform([0.3 * w, 0.2 * h], [0.7 * w, 0.8 * h], (1, num_frames, 17, 2)).astype(np.float32)
    keypoint[:, :, 16] = 0
    return keypoint


def test_mm_decode_decodes_both_modalities_and_rescales_the_skeletons(tmp_path):
    frames = coloured_frames(6, size=(64, 48))
    write_video(tmp_path / 'S001.mp4', frames)
    keypoint = skeletons(6, (480, 640))  # found in a 640x480 original; the video is 64x48
    results = MMDecode()(dict(frame_dir=str(tmp_path / 'S001'), modality=['RGB', 'Pose'], keypoint=keypoint,
                              img_shape=(480, 640), RGB_inds=np.array([[5, 0]]), Pose_inds=np.array([1, 1, 3])))
    assert results['imgs'].shape == (2, 48, 64, 3)
    assert np.abs(results['imgs'].astype(int) - np.stack(frames)[[5, 0], ..., ::-1]).mean() < 6
    assert results['img_shape'] == results['original_shape'] == (48, 64)
    np.testing.assert_allclose(results['keypoint'], keypoint[:, [1, 1, 3]] / 10, rtol=1e-6)
    assert results['keypoint'].dtype == np.float32 and (results['keypoint'][:, :, 16] == 0).all()
    np.testing.assert_array_equal(results['keypoint_score'], np.ones((1, 3, 17)))  # unit scores when missing


def test_mm_decode_keeps_skeletons_found_in_the_videos_size(tmp_path):
    write_video(tmp_path / 'v.mp4', coloured_frames(4, size=(64, 48)))
    keypoint, score = skeletons(4, (48, 64)), np.full((1, 4, 17), 0.5, np.float32)
    results = MMDecode(backend='opencv')(dict(filename=str(tmp_path / 'v.mp4'), modality=['Pose', 'RGB'],
                                              keypoint=keypoint, keypoint_score=score, img_shape=(48, 64),
                                              RGB_inds=np.arange(2), Pose_inds=np.arange(4)))
    np.testing.assert_array_equal(results['keypoint'], keypoint)
    np.testing.assert_array_equal(results['keypoint_score'], score)


def test_mm_decode_errors_name_the_sample_or_the_video(tmp_path):
    base = dict(frame_dir=str(tmp_path / 'nothing'), RGB_inds=np.arange(2), Pose_inds=np.arange(2))
    with pytest.raises(VideoError, match=r'MMDecode: .*nothing.mp4: no such file'):
        MMDecode()(dict(base, modality=['RGB']))
    with pytest.raises(ValueError, match="MMDecode: sample '.*nothing'.*'Pose' modality needs 'keypoint'"):
        MMDecode()(dict(base, modality=['Pose']))
    with pytest.raises(ValueError, match="needs 'Flow_inds'|cannot decode modality 'Flow'"):
        MMDecode()(dict(base, modality=['Flow']))
    with pytest.raises(ValueError, match="'modality' as a list"):
        MMDecode()(dict(base, modality='RGB'))
    write_video(tmp_path / 'short.mp4', coloured_frames(3))
    with pytest.raises(VideoError, match=r'short.mp4: frame 7 was asked for, but the video has 3 frames'):
        MMDecode()(dict(base, frame_dir=str(tmp_path / 'short'), modality=['RGB'], RGB_inds=np.array([0, 7])))


# ------------------------------------------------------------------------------------------------ MMCompact, MMPad
def test_mm_compact_crops_frames_and_skeletons_alike_padding_with_zeros():
    imgs = np.arange(2 * 100 * 100 * 3, dtype=np.int64).reshape(2, 100, 100, 3) % 251 + 1  # no zero pixel
    keypoint = np.array([[[[10, 20], [70, 80], [0, 0]]]], np.float32)  # box x 10..70, y 20..80
    sample = dict(imgs=imgs, keypoint=keypoint, img_shape=(100, 100))
    # half sides 30 * 1.25 = 37.5 about (40, 50): x 2.5..77.5 -> 2..77, y 12.5..87.5 -> 12..87
    results = MMCompact(hw_ratio=1.)(dict(sample))
    assert results['img_shape'] == (75, 75) and results['imgs'].shape == (2, 75, 75, 3)
    np.testing.assert_array_equal(results['imgs'], imgs[:, 12:87, 2:77])
    expected = PoseCompact(hw_ratio=1.)(dict(sample))
    np.testing.assert_array_equal(results['keypoint'], expected['keypoint'])
    assert results['crop_quadruple'] == expected['crop_quadruple']
    # a box reaching 40 pixels past the left edge: x -40..40 (int() towards zero), y 20..60
    left = MMCompact(padding=0, hw_ratio=None)(dict(sample, keypoint=np.array([[[[-40, 20], [40, 60]]]], np.float32)))
    assert left['imgs'].shape == (2, 40, 80, 3)
    assert (left['imgs'][:, :, :40] == 0).all()
    np.testing.assert_array_equal(left['imgs'][:, :, 40:], imgs[:, 20:60, :40])
    small = MMCompact()(dict(sample, keypoint=np.array([[[[10, 20], [15, 80]]]], np.float32)))  # 5 wide < 10
    assert small['imgs'] is imgs and small['img_shape'] == (100, 100)


def test_mm_pad_centres_the_frame_with_grey():
    imgs = np.zeros((1, 10, 20, 3), np.uint8)
    keypoint = np.array([[[[5, 5], [0, 0]]]], np.float32)
    results = MMPad(hw_ratio=1.)(dict(imgs=imgs, keypoint=keypoint, img_shape=(10, 20)))
    assert results['img_shape'] == (20, 20) and results['imgs'].shape == (1, 20, 20, 3)
    assert (results['imgs'][:, :5] == 127).all() and (results['imgs'][:, 15:] == 127).all()
    assert (results['imgs'][:, 5:15] == 0).all()
    # every joint moves down by the top margin, the missing one too (PYSKL's way)
    np.testing.assert_array_equal(results['keypoint'][0, 0], [[5, 10], [0, 5]])
    grown = MMPad(padding=0.25)(dict(img_shape=(10, 20)))
    assert grown['img_shape'] == (13, 25)  # 12.5 and 25 round half up


def test_heatmaps_go_beside_the_rgb_frames():
    keypoint = skeletons(2, (32, 32))
    rgb = np.zeros((2, 32, 32, 3), np.uint8)
    results = GeneratePoseTarget(scaling=0.5)(dict(imgs=rgb, keypoint=keypoint, img_shape=(32, 32)))
    assert results['imgs'] is rgb and results['heatmap_imgs'].shape == (2, 17, 16, 16)


# ------------------------------------------------------------------------------------------------ the whole pipeline
def rgbpose_pipeline(flip_ratio):
    return [
        dict(type='MMUniformSampleFrames', clip_len=dict(RGB=4, Pose=8), num_clips=2),
        dict(type='MMDecode'),
        dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='Flip', flip_ratio=flip_ratio, left_kp=[1, 3, 5, 7, 9, 11, 13, 15],
             right_kp=[2, 4, 6, 8, 10, 12, 14, 16]),
        dict(type='GeneratePoseTarget', sigma=0.7, with_kp=True, scaling=0.5),
        dict(type='Normalize', mean=[128, 128, 128], std=[64, 64, 64]),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs'),
    ]


def test_rgbpose_pipeline_on_a_rendered_synthetic_video(tmp_path):
    ann_file, videos = tmp_path / 'coco2d.pkl', tmp_path / 'videos'
    write_synthetic_videos(str(ann_file), str(videos), num_train=1, num_val=0, seed=0)
    dataset = DATASETS.build(dict(type='PoseDataset', ann_file=str(ann_file), data_prefix=str(videos),
                                  test_mode=True, pipeline=rgbpose_pipeline(flip_ratio=0)))
    sample = dataset[0]
    inputs = sample['inputs']
    assert inputs['imgs'].shape == (2, 3, 4, 32, 32) and inputs['heatmap_imgs'].shape == (2, 17, 8, 16, 16)
    assert inputs['heatmap_imgs'].amax() > 0.5
    # up to Flip, with and without it: the frames mirror exactly, the joints to x -> 32 - x with left and right
    # swapped (PYSKL's convention; missing joints stay at 0), so the two modalities stay aligned
    plain = Compose(rgbpose_pipeline(flip_ratio=0)[:5])(dataset.get_data_info(0))
    flipped = Compose(rgbpose_pipeline(flip_ratio=1)[:5])(dataset.get_data_info(0))
    np.testing.assert_array_equal(flipped['imgs'], plain['imgs'][:, :, ::-1])
    swap = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    x = plain['keypoint'][..., 0]
    np.testing.assert_allclose(flipped['keypoint'][:, :, swap, 0], np.where(x != 0, 32 - x, 0), rtol=1e-6)
    np.testing.assert_array_equal(flipped['keypoint'][:, :, swap, 1], plain['keypoint'][..., 1])
