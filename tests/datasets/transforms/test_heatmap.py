"""PoseC3D's heatmaps: the vectorised ``GeneratePoseTarget`` and the data preprocessor's renderer equal PYSKL's
per-keypoint definition (``benchmarks/reference_heatmap.py``), and ``Heatmap2Potion`` its formula."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pyskl.datasets.transforms import GeneratePoseTarget, Heatmap2Potion
from pyskl.datasets.transforms.heatmap import render_batch
from pyskl.models.data_preprocessors.preprocessor import ActionDataPreprocessor
from pyskl.structures import ActionDataSample

BENCHMARKS = Path(__file__).resolve().parents[3] / 'benchmarks'
TOL = 1e-4

# the settings the tests sweep: keypoint and limb maps, the flip test, scaling, unit values, wider Gaussians
CASES = {
    'keypoint': dict(),
    'limb': dict(with_kp=False, with_limb=True),
    'keypoint_double': dict(double=True),
    'limb_double': dict(with_kp=False, with_limb=True, double=True),
    'scaling': dict(scaling=0.55),
    'limb_scaling': dict(with_kp=False, with_limb=True, scaling=1.7, sigma=1.1),
    'no_score': dict(use_score=False),
    'wide_sigma': dict(sigma=2.3),
}


@pytest.fixture(scope='module')
def reference_heatmaps():
    import sys
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from reference_heatmap import reference_heatmaps
    finally:
        sys.path.remove(str(BENCHMARKS))
    return reference_heatmaps


def awkward_sample(seed, persons=2, frames=5, height=30, width=36):
    """Joints inside, on the border of and outside the image, missing joints (zeros with score 0), scores below the
    1e-3 cut-off, limbs shorter than a pixel."""
    rng = np.random.default_rng(seed)
    keypoint = rng.uniform(-4, [width + 4, height + 4], size=(persons, frames, 17, 2)).astype(np.float32)
    score = rng.uniform(0.05, 1, size=(persons, frames, 17)).astype(np.float32)
    missing = rng.random((persons, frames, 17)) < 0.15
    keypoint[missing], score[missing] = 0, 0
    score[rng.random(score.shape) < 0.1] = 5e-4  # below EPS: drawn by neither implementation
    keypoint[0, 0, 1] = keypoint[0, 0, 0] + [0.4, 0.3]  # limb (0, 1) shorter than one pixel
    keypoint[0, 1, 5] = [0., width - 1.]  # on the border
    return dict(frame_dir=f'awkward_{seed}', keypoint=keypoint, keypoint_score=score, img_shape=(height, width))


@pytest.mark.parametrize('case', list(CASES))
def test_vectorised_equals_the_loop_definition(case, reference_heatmaps):
    for seed in range(4):
        sample = awkward_sample(seed)
        expected = reference_heatmaps(sample['keypoint'], sample['keypoint_score'], sample['img_shape'],
                                      **CASES[case])
        out = GeneratePoseTarget(**CASES[case])(dict(sample))['imgs']
        assert out.dtype == np.float32 and out.shape == expected.shape
        assert np.abs(out - expected).max() <= TOL
        assert expected.max() > 0.5  # the case does draw something


def test_one_keypoint_by_hand():
    """sigma 1 at (2.5, 1.0) in a 4x6 map: window columns int(2.5 -+ 3) -> [0, 6), rows [0, 4)."""
    sample = dict(keypoint=np.array([[[[2.5, 1.0]]]], np.float32), keypoint_score=np.array([[[0.8]]], np.float32),
                  img_shape=(4, 6))
    out = GeneratePoseTarget(sigma=1.0, double=False, left_kp=(), right_kp=())(sample)['imgs']
    ys, xs = np.mgrid[0:4, 0:6]
    expected = 0.8 * np.exp(-((xs - 2.5)**2 + (ys - 1.0)**2) / 2)
    np.testing.assert_allclose(out[0, 0], expected, rtol=1e-6)


def test_window_truncates_like_pyskl():
    """PYSKL's box is [int(mu - 3 sigma), int(mu + 3 sigma) + 1): pixels just outside stay 0 although the Gaussian is
    still 1 % of its peak there."""
    sample = dict(keypoint=np.array([[[[10.0, 10.0]]]], np.float32), img_shape=(21, 21))
    out = GeneratePoseTarget(sigma=1.0, left_kp=(), right_kp=())(sample)['imgs'][0, 0]
    assert out[10, 7] == pytest.approx(math.exp(-4.5), rel=1e-6)  # |dx| = 3: inside
    assert out[10, 6] == 0 and out[10, 14] == 0  # |dx| = 4: outside
    assert out[10, 13] == pytest.approx(math.exp(-4.5), rel=1e-6)


def test_low_scores_and_missing_joints_draw_nothing():
    keypoint = np.array([[[[5.0, 5.0], [0.0, 0.0]]]], np.float32)
    score = np.array([[[9e-4, 0.0]]], np.float32)
    sample = dict(keypoint=keypoint, keypoint_score=score, img_shape=(12, 12))
    out = GeneratePoseTarget(left_kp=(), right_kp=())(dict(sample))['imgs']
    assert out.shape == (1, 2, 12, 12) and not out.any()
    # without scores every point counts: the missing joint at (0, 0) draws in the corner, as in PYSKL
    out = GeneratePoseTarget(use_score=False, left_kp=(), right_kp=())(dict(sample))['imgs']
    assert out[0, 1, 0, 0] == 1 and out[0, 0, 5, 5] == 1


def test_double_mirrors_and_swaps_left_and_right():
    sample = awkward_sample(7)
    single = GeneratePoseTarget()(dict(sample))['imgs']
    double = GeneratePoseTarget(double=True)(dict(sample))['imgs']
    assert double.shape[0] == 2 * single.shape[0]
    np.testing.assert_array_equal(double[:len(single)], single)
    np.testing.assert_array_equal(double[len(single):, 1], single[:, 2, :, ::-1])  # left eye <- mirrored right eye
    np.testing.assert_array_equal(double[len(single):, 0], single[:, 0, :, ::-1])  # the nose stays


def test_writes_heatmap_imgs_beside_rgb_and_keeps_keypoints():
    sample = awkward_sample(3)
    rgb = np.zeros((5, 30, 36, 3), np.uint8)
    keypoint = sample['keypoint'].copy()
    out = GeneratePoseTarget(scaling=0.5)(dict(sample, imgs=rgb))
    assert out['imgs'] is rgb and out['heatmap_imgs'].shape == (5, 17, 15, 18)
    np.testing.assert_array_equal(out['keypoint'], keypoint)  # PYSKL scaled them in place; here they stay


def test_bad_inputs_name_the_sample():
    sample = awkward_sample(0)
    with pytest.raises(ValueError, match='awkward_0.*joint 17'):
        GeneratePoseTarget(with_kp=False, with_limb=True, skeletons=[(0, 17)])(dict(sample))
    with pytest.raises(ValueError, match='awkward_0.*img_shape'):
        GeneratePoseTarget()({k: v for k, v in sample.items() if k != 'img_shape'})
    with pytest.raises(ValueError, match='exactly one'):
        GeneratePoseTarget(with_kp=True, with_limb=True)


def deferred_batch(samples, clips, **kwargs):
    """What a deferred pipeline hands the preprocessor: ``[clips, M, L, V, 3]`` per sample, and its settings."""
    transform = GeneratePoseTarget(deferred=True, **kwargs)
    points, data_samples = [], []
    for sample in samples:
        out = transform(dict(sample))
        packed = out['imgs']  # [M, clips * L, V, 3]
        persons, frames = packed.shape[:2]
        points.append(torch.from_numpy(packed.reshape(persons, clips, frames // clips, 17, 3).transpose(1, 0, 2, 3, 4)))
        data_samples.append(ActionDataSample(metainfo=dict(heatmap_cfg=out['heatmap_cfg'])))
    return points, data_samples


@pytest.mark.parametrize('case', list(CASES))
def test_preprocessor_renders_what_the_definition_gives(case, reference_heatmaps):
    """A batch of samples with different person counts, 2 clips each, rendered by ``ActionDataPreprocessor``:
    ``[N, views, C, L, H, W]`` with the mirrored views after the originals (PYSKL's FormatShape order)."""
    clips, kwargs = 2, CASES[case]
    samples = [awkward_sample(seed, persons=1 + seed % 2, frames=6) for seed in range(3)]
    points, data_samples = deferred_batch(samples, clips, **kwargs)
    out = ActionDataPreprocessor()(dict(inputs=points, data_samples=data_samples))['inputs']
    for sample, volume in zip(samples, out):
        expected = reference_heatmaps(sample['keypoint'], sample['keypoint_score'], sample['img_shape'], **kwargs)
        views = expected.reshape(-1, clips, 3, *expected.shape[1:]).transpose(0, 1, 3, 2, 4, 5)
        expected = views.reshape(-1, *views.shape[2:])  # [views, C, L, H, W]
        assert tuple(volume.shape) == expected.shape
        assert (volume.numpy() - expected).__abs__().max() <= TOL


def test_preprocessor_refuses_a_batch_with_mixed_settings():
    points, samples = deferred_batch([awkward_sample(0)], 1)
    points2, samples2 = deferred_batch([awkward_sample(1)], 1, sigma=1.0)
    with pytest.raises(ValueError, match='different heatmap settings'):
        ActionDataPreprocessor()(dict(inputs=points + points2, data_samples=samples + samples2))


def test_render_batch_shapes_and_an_empty_batch():
    """Persons with value 0 (padding) draw nothing; the views double with the flip test."""
    cfg = GeneratePoseTarget(double=True).render_cfg(8, 10)
    out = render_batch(torch.zeros((2, 3, 1, 4, 17, 3)), cfg)
    assert out.shape == (2, 6, 17, 4, 8, 10) and not out.any()


def potion_by_definition(heatmaps, clip_len, C, option):
    """PoTion written out: frame t's colour, its weighted sum, normalisations (one clip at a time)."""
    out = []
    for clip in heatmaps.reshape(-1, clip_len, *heatmaps.shape[1:]):
        total = 0
        for t in range(clip_len):
            colour = np.zeros(C)
            if t == clip_len - 1:
                colour[-1] = 1
            else:
                position = t / (clip_len - 1) * (C - 1)
                low = int(position)
                colour[low], colour[low + 1] = 1 - (position - low), position - low
            total = total + clip[t].transpose(1, 2, 0)[..., None] * colour  # [H, W, K, C]
        unit = total / (total.max(axis=(0, 1), keepdims=True) + 1e-4)
        intensity = unit.sum(-1, keepdims=True)
        parts = dict(U=[unit], I=[intensity], N=[unit / (intensity + 1)],
                     full=[unit, intensity, unit / (intensity + 1)])[option]
        out.append(np.concatenate(parts, -1).reshape(*unit.shape[:2], -1))
    return np.stack(out)


@pytest.mark.parametrize('option', ['U', 'I', 'N', 'full'])
def test_heatmap2potion_follows_its_formula(option):
    heatmaps = np.random.default_rng(0).random((2 * 5, 3, 4, 6)).astype(np.float32)
    out = Heatmap2Potion(C=3, option=option)(dict(imgs=heatmaps, clip_len=5))['imgs']
    np.testing.assert_allclose(out, potion_by_definition(heatmaps, 5, 3, option), rtol=1e-5, atol=1e-6)
    assert out.shape[:3] == (2, 4, 6)
