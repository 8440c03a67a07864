"""FormatGCNInput (the [num_clips, M, T, V, C] layout) and PackActionInputs (the model's input dict)."""
import numpy as np
import pytest
import torch

from pyskl.datasets.transforms import FormatGCNInput, FormatShape, PackActionInputs
from pyskl.structures import ActionDataSample


def frames_numbered(M, T, V=2, C=3):
    """keypoint[m, t] = 100 m + t everywhere."""
    values = 100 * np.arange(M)[:, None] + np.arange(T)[None]
    return np.broadcast_to(values[..., None, None], (M, T, V, C)).astype(np.float32)


def test_format_gcn_input_splits_clips_and_pads_persons():
    results = FormatGCNInput(num_person=2)(dict(keypoint=frames_numbered(1, 6), num_clips=3))
    out = results['keypoint']
    assert out.shape == (3, 2, 2, 2, 3) and out.flags['C_CONTIGUOUS']
    np.testing.assert_array_equal(out[:, 0, :, 0, 0], [[0, 1], [2, 3], [4, 5]])  # clip k holds frames 2k, 2k+1
    np.testing.assert_array_equal(out[:, 1], 0)


def test_format_gcn_input_loop_mode_copies_a_single_person():
    out = FormatGCNInput(num_person=3, mode='loop')(dict(keypoint=frames_numbered(1, 4)))['keypoint']
    assert out.shape == (1, 3, 4, 2, 3)
    np.testing.assert_array_equal(out[0, 1], out[0, 0])
    np.testing.assert_array_equal(out[0, 2], out[0, 0])


def test_format_gcn_input_truncates_persons_and_appends_scores():
    keypoint = frames_numbered(3, 4, C=2)
    score = np.full((3, 4, 2), 0.5, dtype=np.float32)
    results = FormatGCNInput(num_person=2)(dict(keypoint=keypoint, keypoint_score=score))
    out = results['keypoint']
    assert out.shape == (1, 2, 4, 2, 3) and 'keypoint_score' not in results
    np.testing.assert_array_equal(out[0, :, 0, 0, 0], [0, 100])
    np.testing.assert_array_equal(out[..., 2], 0.5)


def test_format_gcn_input_rejects_frames_that_do_not_split():
    with pytest.raises(ValueError, match="'s'.*7 frames do not split into 2 clips"):
        FormatGCNInput()(dict(keypoint=frames_numbered(2, 7), num_clips=2, frame_dir='s'))


def test_pack_action_inputs():
    keypoint = frames_numbered(2, 4)[None].astype(np.float64)
    packed = PackActionInputs()(dict(keypoint=keypoint, label=np.int64(5), frame_dir='a', sample_idx=3,
                                     total_frames=4, img_shape=(1, 1)))
    assert set(packed) == {'inputs', 'data_samples'}
    assert packed['inputs'].dtype == torch.float32 and tuple(packed['inputs'].shape) == keypoint.shape
    np.testing.assert_array_equal(packed['inputs'].numpy(), keypoint)
    sample = packed['data_samples']
    assert isinstance(sample, ActionDataSample)
    assert sample.gt_label.dtype == torch.long and sample.gt_label.tolist() == [5]
    assert sample.metainfo == dict(frame_dir='a', sample_idx=3, total_frames=4)


def test_pack_action_inputs_without_label_and_with_several_keys():
    packed = PackActionInputs(keys=('keypoint', 'extra'), meta_keys=('frame_dir', ))(
        dict(keypoint=np.zeros((1, 2), np.float32), extra=np.arange(3)))
    assert 'gt_label' not in packed['data_samples'] and packed['data_samples'].metainfo == {}
    assert packed['inputs']['extra'].dtype == torch.int64 and packed['inputs']['keypoint'].shape == (1, 2)
    with pytest.raises(ValueError, match="'b'.*inputs \\['keypoint'\\] are missing"):
        PackActionInputs()(dict(frame_dir='b'))


def numbered_frames(num_frames, shape):
    """Frame f holds the value f everywhere."""
    return np.broadcast_to(np.arange(num_frames, dtype=np.float32).reshape((-1, ) + (1, ) * len(shape)),
                           (num_frames, ) + shape).copy()


@pytest.mark.parametrize('views', [1, 2])  # 2: GeneratePoseTarget(double=True) appended the flipped frames
def test_format_shape_heatmaps_into_clips(views):
    heatmaps = numbered_frames(views * 2 * 3, (4, 5, 6))  # [views * 2 clips * 3 frames, K=4, H=5, W=6]
    results = FormatShape('NCTHW_Heatmap')(dict(imgs=heatmaps, num_clips=2, clip_len=3))
    imgs = results['imgs']
    assert imgs.shape == (views * 2, 4, 3, 5, 6)
    assert np.shares_memory(imgs, heatmaps)  # a view: the batch is copied once, when the preprocessor stacks it
    assert results['input_shape'] == imgs.shape
    # clip c, channel k, time t holds frame 3 c + t
    np.testing.assert_array_equal(imgs[:, 0, :, 0, 0], np.arange(views * 6).reshape(-1, 3))
    np.testing.assert_array_equal(imgs[:, 3, :, 4, 5], imgs[:, 0, :, 0, 0])


def test_format_shape_deferred_points_into_clips():
    """GeneratePoseTarget(deferred=True) leaves points [M, clips * L, V, 3]: they become [clips, M, L, V, 3]."""
    points = numbered_frames(2 * 3, (17, 3))[None].repeat(2, axis=0)  # [M=2, 2 clips * 3 frames, V, 3]
    points[1] += 100
    results = FormatShape('NCTHW_Heatmap')(dict(imgs=points, num_clips=2, clip_len=3, heatmap_cfg={}))
    imgs = results['imgs']
    assert imgs.shape == (2, 2, 3, 17, 3)
    np.testing.assert_array_equal(imgs[:, 0, :, 0, 0], [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(imgs[:, 1, :, 0, 0], [[100, 101, 102], [103, 104, 105]])


def test_format_shape_rgb_frames_and_rgbpose_heatmaps():
    frames = list(numbered_frames(2 * 2, (5, 6, 3)))  # 2 clips of 2 RGB frames [H, W, C], as a list
    frames[1][..., 2] = -1  # frame 1's last channel
    heatmaps = numbered_frames(2 * 4, (17, 5, 6))  # 2 clips of 4 heatmap frames
    results = FormatShape('NCTHW')(dict(imgs=frames, heatmap_imgs=heatmaps, num_clips=2,
                                        clip_len=dict(RGB=2, Pose=4)))
    imgs, pose = results['imgs'], results['heatmap_imgs']
    assert imgs.shape == (2, 3, 2, 5, 6) and results['input_shape'] == imgs.shape
    np.testing.assert_array_equal(imgs[:, 0, :, 0, 0], [[0, 1], [2, 3]])
    assert imgs[0, 2, 1, 0, 0] == -1 and imgs[0, 1, 1, 0, 0] == 1
    assert pose.shape == (2, 17, 4, 5, 6) and results['heatmap_input_shape'] == pose.shape
    np.testing.assert_array_equal(pose[:, 16, :, 0, 0], [[0, 1, 2, 3], [4, 5, 6, 7]])


def test_format_shape_nchw_and_bad_input():
    frames = numbered_frames(3, (5, 6, 2))
    results = FormatShape('NCHW')(dict(imgs=frames))
    assert results['imgs'].shape == (3, 2, 5, 6) and results['imgs'][2, 1, 4, 5] == 2
    with pytest.raises(ValueError, match="'h'.*7 frames of imgs do not split into 2 clips of 3"):
        FormatShape('NCTHW_Heatmap')(dict(imgs=numbered_frames(7, (1, 1, 1)), num_clips=2, clip_len=3,
                                          frame_dir='h'))
    with pytest.raises(ValueError, match='input_format'):
        FormatShape('NTCHW')


def test_pack_action_inputs_prefers_images():
    heatmaps = np.ones((1, 17, 2, 4, 4), np.float32)
    results = dict(imgs=heatmaps, keypoint=np.zeros((1, 2, 17, 2), np.float32), label=1)
    packed = PackActionInputs()(results)
    assert isinstance(packed['inputs'], torch.Tensor) and packed['inputs'].shape == heatmaps.shape
    rgbpose = PackActionInputs()(dict(results, heatmap_imgs=heatmaps[:, :3]))
    assert set(rgbpose['inputs']) == {'imgs', 'heatmap_imgs'}
    assert rgbpose['inputs']['heatmap_imgs'].shape == (1, 3, 2, 4, 4)
    assert PackActionInputs(keys='keypoint')(results)['inputs'].shape == (1, 2, 17, 2)
