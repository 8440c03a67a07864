"""PoseCompact, Resize, RandomResizedCrop, CenterCrop and RandomCrop on small hand-computed frames."""
import random

import numpy as np
import pytest

from pyskl.datasets.transforms import CenterCrop, PoseCompact, RandomCrop, RandomResizedCrop, Resize
from pyskl.registry import TRANSFORMS


def skeleton(points, missing=1):
    """One person, one frame: the given (x, y) joints followed by ``missing`` joints at (0, 0)."""
    joints = np.array(list(points) + [(0, 0)] * missing, dtype=np.float32)
    return joints[None, None]


# ---------------------------------------------------------------------------------------------------- PoseCompact
def test_pose_compact_pads_the_tight_box_and_moves_present_joints():
    # tight box x 100..200, y 50..250; padded by 1.25 about (150, 150): x 87.5..212.5, y 25..275, truncated
    results = PoseCompact()(dict(keypoint=skeleton([(100, 50), (200, 250), (150, 0)]), img_shape=(1080, 1920)))
    assert results['img_shape'] == (250, 125)
    np.testing.assert_array_equal(results['keypoint'][0, 0], [[13, 25], [113, 225], [63, 0], [0, 0]])
    assert results['crop_quadruple'] == (87 / 1920, 25 / 1080, 125 / 1920, 250 / 1080)


def test_pose_compact_widens_to_the_hw_ratio_and_composes_the_crop_quadruple():
    results = PoseCompact(hw_ratio=1.)(dict(keypoint=skeleton([(100, 50), (200, 250)]), img_shape=(1080, 1920),
                                            crop_quadruple=(0.1, 0.2, 0.5, 0.5)))
    # half sides (62.5, 125) -> (125, 125): the box is x 25..275, y 25..275
    assert results['img_shape'] == (250, 250)
    np.testing.assert_array_equal(results['keypoint'][0, 0, :2], [[75, 25], [175, 225]])
    expected = (0.1 + 0.5 * 25 / 1920, 0.2 + 0.5 * 25 / 1080, 0.5 * 250 / 1920, 0.5 * 250 / 1080)
    np.testing.assert_allclose(results['crop_quadruple'], expected, rtol=0, atol=1e-15)
    tall = PoseCompact(padding=0, hw_ratio=(2., 3.))(dict(keypoint=skeleton([(0.5, 20), (40.5, 60)]),
                                                           img_shape=(100, 100)))
    assert tall['img_shape'] == (80, 40)  # height raised to 2 x width: y 0..80, x 0.5..40.5 -> 0..40


def test_pose_compact_clips_to_the_image_unless_padding_is_allowed():
    # hw_ratio 1: both half sides 125.625 about (60, 120.5): x -65.625..185.625, y -5.125..246.125
    sample = dict(keypoint=skeleton([(10, 20), (110, 221)]), img_shape=(1080, 1920))
    padded = PoseCompact(hw_ratio=1.)(dict(sample))
    assert padded['img_shape'] == (251, 250)  # int() truncates towards zero: -65 and -5, 185 and 246
    np.testing.assert_array_equal(padded['keypoint'][0, 0, :2], [[75, 25], [175, 226]])
    clipped = PoseCompact(hw_ratio=1., allow_imgpad=False)(dict(sample))
    assert clipped['img_shape'] == (246, 185)
    np.testing.assert_array_equal(clipped['keypoint'][0, 0, :2], [[10, 20], [110, 221]])
    assert clipped['crop_quadruple'] == (0., 0., 185 / 1920, 246 / 1080)


def test_pose_compact_leaves_small_boxes_but_zeroes_nan():
    keypoint = skeleton([(100, 50), (109, 250), (np.nan, 60)])
    results = PoseCompact()(dict(keypoint=keypoint, img_shape=(1080, 1920)))  # 9 pixels wide < threshold 10
    assert results['img_shape'] == (1080, 1920) and 'crop_quadruple' not in results
    np.testing.assert_array_equal(results['keypoint'][0, 0, 2], [0, 60])
    assert np.isnan(keypoint[0, 0, 2, 0])  # the input is not edited
    empty = PoseCompact()(dict(keypoint=np.zeros((1, 2, 3, 2), np.float32), img_shape=(10, 10)))
    assert empty['img_shape'] == (10, 10)
    with pytest.raises(ValueError, match="PoseCompact: sample 'v'.*img_shape"):
        PoseCompact()(dict(keypoint=keypoint, frame_dir='v'))


# --------------------------------------------------------------------------------------------------------- Resize
def test_resize_short_side_of_a_full_hd_frame():
    keypoint = skeleton([(1920, 1080), (960, 540)])
    results = Resize(scale=(-1, 64))(dict(keypoint=keypoint, img_shape=(1080, 1920)))
    # factor 64 / 1080; width int(1920 * 64 / 1080 + 0.5) = int(114.3) = 114
    assert results['img_shape'] == (64, 114) and results['keep_ratio']
    factor = np.array([114 / 1920, 64 / 1080], dtype=np.float32)
    np.testing.assert_array_equal(results['scale_factor'], factor)
    np.testing.assert_array_equal(results['keypoint'], keypoint * factor)
    # PYSKL reads (s, -1) as a short side too
    assert Resize(scale=(64, -1))(dict(img_shape=(1080, 1920)))['img_shape'] == (64, 114)


def test_resize_factors_and_bounded_sizes_accumulate_the_scale_factor():
    assert Resize(scale=0.5)(dict(img_shape=(1080, 1920)))['img_shape'] == (540, 960)
    # within (340, 256): factor min(340 / 1920, 256 / 1080) = 340 / 1920, height int(191.25 + 0.5)
    assert Resize(scale=(340, 256))(dict(img_shape=(1080, 1920)))['img_shape'] == (191, 340)
    first = Resize(scale=(-1, 64))(dict(img_shape=(1080, 1920), keypoint=skeleton([(1920, 1080)])))
    results = Resize(scale=(56, 56), keep_ratio=False)(first)
    assert results['img_shape'] == (56, 56) and not results['keep_ratio']
    expected = np.array([114 / 1920, 64 / 1080], np.float32) * np.array([56 / 114, 56 / 64], np.float32)
    np.testing.assert_array_equal(results['scale_factor'], expected)
    np.testing.assert_allclose(results['keypoint'][0, 0, 0], [56, 56], rtol=1e-6)


def test_resize_resizes_images_and_only_x_y():
    imgs = np.full((2, 4, 6, 3), 7, dtype=np.uint8)
    keypoint = np.array([[[[4, 2, 0.5]]]], dtype=np.float32)  # x, y and a score
    results = Resize(scale=(3, -1))(dict(imgs=imgs, img_shape=(4, 6), keypoint=keypoint))
    # short side 4 -> 3: width int(6 * 0.75 + 0.5) = 5
    assert results['imgs'].shape == (2, 3, 5, 3) and (results['imgs'] == 7).all()
    np.testing.assert_allclose(results['keypoint'][0, 0, 0], [4 * 5 / 6, 2 * 3 / 4, 0.5], rtol=1e-6)
    as_list = Resize(scale=(5, 3), keep_ratio=False)(dict(imgs=list(imgs), img_shape=(4, 6)))['imgs']
    assert isinstance(as_list, list) and [img.shape for img in as_list] == [(3, 5, 3)] * 2


def test_resize_rejects_unusable_scales():
    with pytest.raises(ValueError, match='short side'):
        Resize(scale=(-1, 64), keep_ratio=False)
    with pytest.raises(ValueError, match='float scale'):
        Resize(scale=0.5, keep_ratio=False)
    with pytest.raises(TypeError, match='scale'):
        Resize(scale=64)


# ---------------------------------------------------------------------------------------------- RandomResizedCrop
def test_random_resized_crop_draws_pyskl_numbers_in_pyskl_order():
    np.random.seed(0)
    random.seed(0)
    keypoint = skeleton([(30, 10), (50, 40)])
    results = RandomResizedCrop(area_range=(0.56, 1.0))(dict(keypoint=keypoint, img_shape=(64, 114),
                                                             crop_quadruple=(0.25, 0.1, 0.5, 0.8)))
    # numpy seed 0: ten aspect ratios exp(U(log 3/4, log 4/3)), then ten areas U(0.56, 1) * 64 * 114; the
    # candidates (w, h) = (83, 80) (81, 71) (79, 75) (85, 83) (64, 67) are all taller than 64 rows, the sixth,
    # (69, 63), fits. Python's random (seed 0): randint(0, 114 - 69) = 24, then randint(0, 64 - 63) = 1.
    np.testing.assert_array_equal(results['crop_bbox'], [24, 1, 93, 64])
    assert results['img_shape'] == (63, 69)
    # every joint moves, the missing one (0, 0) too
    np.testing.assert_array_equal(results['keypoint'][0, 0], [[6, 9], [26, 39], [-24, -1]])
    assert results['crop_quadruple'].dtype == np.float32
    np.testing.assert_allclose(results['crop_quadruple'],
                               [0.25 + 24 / 114 * 0.5, 0.1 + 1 / 64 * 0.8, 69 / 114 * 0.5, 63 / 64 * 0.8], rtol=1e-7)


def test_random_resized_crop_falls_back_to_the_centred_square():
    random.seed(3)
    state = random.getstate()
    imgs = [np.arange(100 * 60).reshape(100, 60)] * 2
    # aspect ratios 3..4 need a crop wider than 60 columns: no candidate fits
    results = RandomResizedCrop(area_range=(0.9, 1.0), aspect_ratio_range=(3., 4.))(
        dict(imgs=imgs, img_shape=(100, 60)))
    np.testing.assert_array_equal(results['crop_bbox'], [0, 20, 60, 80])
    np.testing.assert_array_equal(results['imgs'][1], imgs[1][20:80])
    assert results['img_shape'] == (60, 60) and random.getstate() == state  # no offset drawn
    np.testing.assert_allclose(results['crop_quadruple'], [0, 0.2, 1, 0.6], rtol=1e-7)


def test_random_resized_crop_rejects_bad_ranges():
    with pytest.raises(ValueError, match='area_range'):
        RandomResizedCrop(area_range=(0.5, 1.5))
    with pytest.raises(ValueError, match='aspect_ratio_range'):
        RandomResizedCrop(aspect_ratio_range=(2., 1.))


# ---------------------------------------------------------------------------------------- CenterCrop, RandomCrop
def test_center_crop_takes_the_middle():
    imgs = np.arange(2 * 64 * 114).reshape(2, 64, 114)
    results = CenterCrop(56)(dict(imgs=imgs, keypoint=skeleton([(30, 10)]), img_shape=(64, 114)))
    # left (114 - 56) // 2 = 29, top (64 - 56) // 2 = 4
    np.testing.assert_array_equal(results['crop_bbox'], [29, 4, 85, 60])
    np.testing.assert_array_equal(results['imgs'], imgs[:, 4:60, 29:85])
    np.testing.assert_array_equal(results['keypoint'][0, 0], [[1, 6], [-29, -4]])
    np.testing.assert_allclose(results['crop_quadruple'], [29 / 114, 4 / 64, 56 / 114, 56 / 64], rtol=1e-7)
    assert CenterCrop((40, 20))(dict(img_shape=(64, 114)))['crop_bbox'].tolist() == [37, 22, 77, 42]
    with pytest.raises(ValueError, match="'big'.*exceeds"):
        CenterCrop(80)(dict(imgs=imgs, img_shape=(64, 114), frame_dir='big'))


def test_random_crop_draws_y_then_x():
    np.random.seed(1)  # randint(0, 8) = 5, then randint(0, 58) = 43
    results = RandomCrop(56)(dict(keypoint=skeleton([(50, 10)]), img_shape=(64, 114)))
    np.testing.assert_array_equal(results['crop_bbox'], [43, 5, 99, 61])
    np.testing.assert_array_equal(results['keypoint'][0, 0, 0], [7, 5])
    assert results['img_shape'] == (56, 56)
    assert RandomCrop(64)(dict(img_shape=(64, 64)))['crop_bbox'].tolist() == [0, 0, 64, 64]


def test_everything_is_registered():
    for name in ('PoseCompact', 'Resize', 'RandomResizedCrop', 'CenterCrop', 'RandomCrop'):
        assert TRANSFORMS.get(name) is not None, name
