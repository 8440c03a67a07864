"""Skeleton transforms: normalisation, bones / motion, padding and augmentation, on small hand-made skeletons."""
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from pyskl.datasets.transforms import (Flip, GenSkeFeat, JointToBone, MergeSkeFeat, PadTo, PreNormalize2D,
                                       PreNormalize3D, RandomGaussianNoise, RandomRot, RandomScale, ToMotion)
from pyskl.graph import get_layout
from pyskl.registry import TRANSFORMS


# ---------------------------------------------------------------------------------------------------- PreNormalize3D
def canonical_body(rng, frames=4):
    """An NTU body already in PreNormalize3D's frame: joint 1 at the origin, 0 -> 1 along +z, 4 -> 8 along +x."""
    body = rng.normal(scale=0.3, size=(frames, 25, 3))
    body[0, 1] = 0
    body[0, 0] = (0, 0, -0.3)
    body[0, 8] = (0.2, 0.1, 0.25)
    body[0, 4] = (-0.15, 0.1, 0.25)
    return body


def test_prenormalize3d_undoes_a_rotation_and_translation():
    rng = np.random.default_rng(0)
    body = canonical_body(rng)
    body[2, 7] = 0  # a missing joint
    rotation = Rotation.from_euler('xyz', [0.4, -1.1, 2.0]).as_matrix()
    seen = body @ rotation.T + np.array([0.5, -0.2, 3.0])
    seen[2, 7] = 0
    keypoint = seen[None]
    results = PreNormalize3D()(dict(keypoint=keypoint.copy(), total_frames=4, frame_dir='s'))
    np.testing.assert_allclose(results['keypoint'][0], body, atol=1e-5)
    np.testing.assert_allclose(results['body_center'], [0.5, -0.2, 3.0], atol=1e-12)
    np.testing.assert_array_equal(keypoint, seen[None])  # the input array is not edited


def test_prenormalize3d_drops_absent_frames_and_puts_the_main_person_first():
    rng = np.random.default_rng(1)
    skeleton = rng.normal(size=(2, 6, 25, 3)).astype(np.float32)
    skeleton[0, [0, 2, 3, 5]] = 0  # person 0 is in 2 frames, person 1 in 5
    skeleton[1, 4] = 0
    results = PreNormalize3D(align_spine=False)(dict(keypoint=skeleton, total_frames=6))
    kept = [0, 1, 2, 3, 5]
    assert results['total_frames'] == 5 and results['keypoint'].shape == (2, 5, 25, 3)
    center = skeleton[1, 0, 1]
    np.testing.assert_allclose(results['keypoint'][0], skeleton[1, kept] - center, atol=1e-6)
    expected_second = np.where(skeleton[0, kept] != 0, skeleton[0, kept] - center, 0)
    np.testing.assert_allclose(results['keypoint'][1], expected_second, atol=1e-6)  # absent frames stay zero


def pyskl_prenormalize3d(skeleton):
    """PYSKL's PreNormalize3D written out plainly (float16 in, float64 out), for one or two persons."""
    T = skeleton.shape[1]
    present = [[i for i in range(T) if not np.all(np.isclose(skeleton[m, i], 0))] for m in range(len(skeleton))]
    if len(skeleton) == 2 and len(present[0]) < len(present[1]):
        skeleton = skeleton[:, present[1]][[1, 0]]
    else:
        skeleton = skeleton[:, present[0]]
    center = skeleton[0, 0, 1].copy()
    skeleton = (skeleton - center) * ((skeleton != 0).sum(-1) > 0)[..., None]
    for (a, b), target in (((0, 1), [0, 0, 1]), ((4, 8), [1, 0, 0])):
        v = skeleton[0, 0, b].astype(np.float64) - skeleton[0, 0, a]
        axis = np.cross(v, target)
        angle = np.arccos(np.clip(np.dot(v / np.linalg.norm(v), target), -1, 1))
        rotation = Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle).as_matrix()
        skeleton = np.einsum('mtvc,kc->mtvk', skeleton, rotation)
    return skeleton


def test_prenormalize3d_rounds_float16_input_as_pyskl():
    rng = np.random.default_rng(2)
    skeleton = (rng.normal(scale=0.4, size=(2, 30, 25, 3)) + [0.3, -0.5, 3.2]).astype(np.float16)
    skeleton[1, 20:] = 0
    skeleton[0, 3, 11] = 0
    ours = PreNormalize3D()(dict(keypoint=skeleton, total_frames=30))['keypoint']
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, pyskl_prenormalize3d(skeleton), atol=2e-6)


def test_prenormalize3d_without_centering_keeps_position_and_sets_no_center():
    skeleton = canonical_body(np.random.default_rng(3))[None] + 1.0
    results = PreNormalize3D(align_center=False, align_spine=False)(dict(keypoint=skeleton, total_frames=4))
    np.testing.assert_allclose(results['keypoint'], skeleton)
    assert 'body_center' not in results


def test_prenormalize3d_rejects_three_persons_naming_the_sample():
    with pytest.raises(ValueError, match="PreNormalize3D: sample 'S001'.*1 or 2 persons, got 3"):
        PreNormalize3D()(dict(keypoint=np.ones((3, 2, 25, 3)), total_frames=2, frame_dir='S001'))


def test_prenormalize3d_leaves_an_empty_skeleton_alone():
    results = PreNormalize3D()(dict(keypoint=np.zeros((2, 5, 25, 3), np.float16), total_frames=5))
    assert results['total_frames'] == 5 and not results['keypoint'].any()


# ---------------------------------------------------------------------------------------------------- PreNormalize2D
def test_prenormalize2d_fix_maps_the_image_to_unit_square_and_zeroes_unsure_joints():
    keypoint = np.array([[[[960., 540.], [0., 1080.], [1920., 0.]]]], dtype=np.float16)  # [1, 1, 3, 2]
    score = np.array([[[0.9, 0.5, 0.005]]], dtype=np.float16)
    results = PreNormalize2D()(dict(keypoint=keypoint, keypoint_score=score, img_shape=(1080, 1920)))
    out = results['keypoint']
    assert 'keypoint_score' not in results and out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0, :, :2], [[0, 0], [-1, 1], [0, 0]])  # joint 2: score 0.005 <= 0.01
    np.testing.assert_allclose(out[0, 0, :, 2], score[0, 0].astype(np.float32))


def test_prenormalize2d_auto_scales_pixels_but_leaves_unit_coordinates():
    pixels = np.array([[[[100., 50.], [300., 250.], [200., 150.]]]], dtype=np.float32)
    out = PreNormalize2D(mode='auto', threshold=0)(dict(keypoint=pixels))['keypoint']
    np.testing.assert_allclose(out[0, 0], [[-1, -1], [1, 1], [0, 0]])
    unit = pixels / 1000
    np.testing.assert_allclose(PreNormalize2D(mode='auto')(dict(keypoint=unit))['keypoint'], unit)


# ------------------------------------------------------------------------------------------------- bones and motion
def two_frame_ntu():
    keypoint = np.zeros((1, 2, 25, 3), dtype=np.float32)
    keypoint[0, 0] = np.arange(75).reshape(25, 3)
    keypoint[0, 1] = keypoint[0, 0] * 2
    return keypoint


def test_joint_to_bone_on_ntu_by_hand():
    keypoint = two_frame_ntu()
    bone = JointToBone()(dict(keypoint=keypoint))['keypoint']
    assert bone.shape == keypoint.shape and bone.dtype == np.float32
    frame0 = keypoint[0, 0]
    np.testing.assert_array_equal(bone[0, 0, 0], frame0[0] - frame0[1])    # pair (0, 1)
    np.testing.assert_array_equal(bone[0, 0, 21], frame0[21] - frame0[22])  # hand tip -> thumb, PYSKL's pair
    np.testing.assert_array_equal(bone[0, 1, 8], 2 * (frame0[8] - frame0[20]))
    np.testing.assert_array_equal(bone[0, :, 20], 0)  # the centre is its own parent


def test_joint_to_bone_with_a_custom_layout():
    chain = dict(num_node=3, inward=[(1, 0), (2, 1)], center=0)
    keypoint = np.array([[[[0., 0.], [1., 2.], [4., 6.]]]])
    bone = JointToBone(dataset=chain, target='b')(dict(keypoint=keypoint))['b']
    np.testing.assert_array_equal(bone[0, 0], [[0, 0], [1, 2], [3, 4]])


def test_joint_to_bone_averages_the_score_channel_of_2d_layouts():
    keypoint = np.zeros((1, 1, 17, 3), dtype=np.float32)
    keypoint[..., 0] = np.arange(17)
    keypoint[..., 2] = np.linspace(0, 1, 17)
    bone = JointToBone(dataset='coco')(dict(keypoint=keypoint))['keypoint'][0, 0]
    np.testing.assert_allclose(bone[7], [7 - 5, 0, (keypoint[0, 0, 7, 2] + keypoint[0, 0, 5, 2]) / 2])


def test_joint_to_bone_rejects_a_joint_count_that_does_not_match():
    with pytest.raises(ValueError, match="'x'.*17 joints but the skeleton layout has 25"):
        JointToBone()(dict(keypoint=np.zeros((1, 2, 17, 3)), frame_dir='x'))


def test_to_motion_by_hand():
    keypoint = two_frame_ntu()
    motion = ToMotion(target='m')(dict(keypoint=keypoint))['m']
    np.testing.assert_array_equal(motion[0, 0], keypoint[0, 1] - keypoint[0, 0])
    np.testing.assert_array_equal(motion[0, 1], 0)


@pytest.mark.parametrize('layout', ['coco', 'handmp'])
def test_to_motion_averages_scores_for_every_2d_layout(layout):
    V = get_layout(layout).num_node
    data = np.random.default_rng(0).random((1, 3, V, 3)).astype(np.float32)
    motion = ToMotion(dataset=layout, source='j', target='jm')(dict(j=data))['jm']
    np.testing.assert_allclose(motion[0, :2, :, :2], data[0, 1:, :, :2] - data[0, :2, :, :2], rtol=1e-6)
    np.testing.assert_allclose(motion[0, :2, :, 2], (data[0, 1:, :, 2] + data[0, :2, :, 2]) / 2, rtol=1e-6)


def test_gen_ske_feat_concatenates_the_requested_streams():
    keypoint = two_frame_ntu()
    results = GenSkeFeat(feats=['j', 'b', 'jm', 'bm'])(dict(keypoint=keypoint))
    out = results['keypoint']
    assert out.shape == (1, 2, 25, 12) and set(results) == {'keypoint'}
    bone = JointToBone()(dict(keypoint=keypoint))['keypoint']
    np.testing.assert_array_equal(out[..., :3], keypoint)
    np.testing.assert_array_equal(out[..., 3:6], bone)
    np.testing.assert_array_equal(out[..., 6:9], ToMotion()(dict(keypoint=keypoint))['motion'])
    np.testing.assert_array_equal(out[..., 9:], ToMotion()(dict(keypoint=bone))['motion'])


def test_gen_ske_feat_merges_keypoint_score_for_2d_skeletons():
    keypoint = np.random.default_rng(0).random((1, 2, 17, 2)).astype(np.float32)
    score = np.full((1, 2, 17), 0.5, dtype=np.float32)
    out = GenSkeFeat(dataset='coco', feats=['b'])(dict(keypoint=keypoint, keypoint_score=score))['keypoint']
    assert out.shape == (1, 2, 17, 3)
    np.testing.assert_allclose(out[..., 2], 0.5)  # mean of two 0.5 scores, not their difference
    with pytest.raises(ValueError, match='nturgb\\+d layout is for 3D'):
        GenSkeFeat()(dict(keypoint=np.zeros((1, 2, 25, 2)), keypoint_score=np.zeros((1, 2, 25))))
    with pytest.raises(ValueError, match='feats must be'):
        GenSkeFeat(feats=['joint'])


def test_merge_ske_feat_pops_and_concatenates():
    results = MergeSkeFeat(feat_list=['a', 'b'], target='c')(dict(a=np.zeros((1, 2, 3, 2)), b=np.ones((1, 2, 3, 1))))
    assert set(results) == {'c'} and results['c'].shape == (1, 2, 3, 3)


# ----------------------------------------------------------------------------------------------------------- PadTo
@pytest.mark.parametrize('mode, expected', [('loop', [0, 1, 2, 0, 1, 2, 0]), ('zero', [0, 1, 2, -1, -1, -1, -1])])
def test_pad_to(mode, expected):
    keypoint = np.arange(3, dtype=np.float32)[None, :, None, None] + np.zeros((1, 3, 2, 2), np.float32)
    results = PadTo(7, mode=mode)(dict(keypoint=keypoint, keypoint_score=keypoint[..., 0] + 1, total_frames=3))
    expected = np.array(expected, dtype=np.float32)
    np.testing.assert_array_equal(results['keypoint'][0, :, 0, 0], np.where(expected < 0, 0, expected))
    assert results['keypoint_score'].shape == (1, 7, 2) and results['total_frames'] == 7


# ---------------------------------------------------------------------------------------------------- augmentation
def test_random_rot_3d_is_a_rotation_within_theta():
    skeleton = np.random.default_rng(0).normal(size=(2, 4, 25, 3)).astype(np.float32)
    np.random.seed(0)
    out = RandomRot(theta=0.3)(dict(keypoint=skeleton))['keypoint']
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), np.linalg.norm(skeleton, axis=-1), rtol=1e-5)
    matrix = np.linalg.lstsq(skeleton.reshape(-1, 3), out.reshape(-1, 3), rcond=None)[0].T
    assert np.linalg.det(matrix) == pytest.approx(1, abs=1e-5)
    assert np.degrees(np.arccos((np.trace(matrix) - 1) / 2)) < np.degrees(0.3 * np.sqrt(3)) + 1e-3


def test_random_rot_2d_angle_is_symmetric_in_theta():
    """PYSKL drew 2D angles from U(-theta, 1.0); they must stay within [-theta, theta]."""
    point = np.array([[[[1., 0.]]]])
    np.random.seed(0)
    angles = [np.arctan2(*RandomRot(theta=0.1)(dict(keypoint=point))['keypoint'][0, 0, 0, ::-1]) for _ in range(200)]
    assert max(np.abs(angles)) <= 0.1 + 1e-9 and min(angles) < -0.05 and max(angles) > 0.05


def test_random_rot_leaves_empty_skeletons():
    zeros = np.zeros((1, 2, 25, 3))
    assert RandomRot()(dict(keypoint=zeros))['keypoint'] is zeros


def test_random_scale_per_channel_range():
    np.random.seed(0)
    ones = np.ones((1, 2, 3, 3), dtype=np.float32)
    for _ in range(20):
        out = RandomScale(scale=(0.1, 0.2, 0.0))(dict(keypoint=ones))['keypoint']
        factors = out[0, 0, 0]
        assert abs(factors[0] - 1) <= 0.1 and abs(factors[1] - 1) <= 0.2 and factors[2] == 1
        assert np.all(out == factors)  # one factor per channel for the whole sequence


@pytest.mark.parametrize('base, shared', [('frame', False), ('video', False), ('video', True)])
def test_random_gaussian_noise_spares_absent_frames(base, shared):
    rng = np.random.default_rng(0)
    skeleton = rng.normal(size=(2, 5, 25, 3)) + 5
    skeleton[1, 3:] = 0
    np.random.seed(1)
    out = RandomGaussianNoise(sigma=0.01, base=base, shared=shared)(dict(keypoint=skeleton))['keypoint']
    assert out.shape == skeleton.shape
    np.testing.assert_array_equal(out[1, 3:], 0)
    present = skeleton.reshape(10, 25, 3)[[0, 1, 2, 3, 4, 5, 6, 7]]
    extent = np.linalg.norm(present.max(axis=(0, 1)) - present.min(axis=(0, 1)))  # bounds frame extents too
    shift = np.linalg.norm(out - skeleton, axis=-1)
    assert 0 < shift.max() < 5 * 0.01 * extent  # N(0, sigma) scaled by the extent: 5 sigma never happens here
    if shared:  # one noise pattern for every frame
        np.testing.assert_allclose(out[0] - skeleton[0], np.broadcast_to(out[0, :1] - skeleton[0, :1], (5, 25, 3)))


# ------------------------------------------------------------------------------------------------------------ Flip
def test_flip_mirrors_x_and_swaps_left_and_right():
    keypoint = np.zeros((1, 1, 17, 2), dtype=np.float32)
    keypoint[0, 0, :, 0] = np.arange(17) * 10
    keypoint[0, 0, :, 1] = np.arange(17)
    score = np.linspace(0, 1, 17, dtype=np.float32)[None, None]
    results = Flip(flip_ratio=1, layout='coco', flip_label_map={3: 4})(
        dict(keypoint=keypoint, keypoint_score=score, img_shape=(100, 200), label=3))
    out = results['keypoint'][0, 0]
    assert results['flip'] and results['label'] == 4
    np.testing.assert_array_equal(out[0], [0, 0])  # nose at x = 0 stays as a missing joint
    np.testing.assert_array_equal(out[5], [200 - 60, 6])  # left shoulder <- right shoulder (joint 6), mirrored
    np.testing.assert_array_equal(out[6], [200 - 50, 5])
    np.testing.assert_array_equal(results['keypoint_score'][0, 0, [1, 2]], score[0, 0, [2, 1]])
    assert keypoint[0, 0, 5, 0] == 50  # the input is not edited


def test_flip_with_ratio_zero_or_explicit_joints():
    keypoint = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4)[..., :2] + 1
    kept = Flip(flip_ratio=0)(dict(keypoint=keypoint, img_shape=(10, 10)))
    assert not kept['flip'] and kept['keypoint'] is keypoint
    out = Flip(flip_ratio=1, left_kp=[0], right_kp=[2])(dict(keypoint=keypoint, img_shape=(10, 10)))['keypoint']
    np.testing.assert_array_equal(out[0, 0, :, 0], 10 - keypoint[0, 0, [2, 1, 0], 0])
    with pytest.raises(ValueError, match='img_shape'):
        Flip(flip_ratio=1)(dict(keypoint=keypoint))


def test_flip_mirrors_images_with_the_keypoints():
    frames = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)  # [N, H, W, C]
    keypoint = np.array([[[[1., 2.]]]], dtype=np.float32)
    results = Flip(flip_ratio=1)(dict(imgs=frames, keypoint=keypoint, img_shape=(3, 4)))
    np.testing.assert_array_equal(results['imgs'], frames[:, :, [3, 2, 1, 0]])
    np.testing.assert_array_equal(results['keypoint'][0, 0, 0], [3, 2])  # x -> 4 - x
    as_list = Flip(flip_ratio=1)(dict(imgs=list(frames[..., 0])))['imgs']
    assert isinstance(as_list, list) and as_list[1].flags['C_CONTIGUOUS']
    np.testing.assert_array_equal(as_list[1], frames[1, :, ::-1, 0])
    assert Flip(flip_ratio=0)(dict(imgs=frames))['imgs'] is frames
    with pytest.raises(ValueError, match='optical flow'):
        Flip(flip_ratio=1)(dict(imgs=frames, modality='Flow'))


def test_everything_is_registered():
    for name in ('PreNormalize3D', 'PreNormalize2D', 'JointToBone', 'ToMotion', 'MergeSkeFeat', 'GenSkeFeat', 'PadTo',
                 'RandomRot', 'RandomScale', 'RandomGaussianNoise', 'Flip'):
        assert TRANSFORMS.get(name) is not None, name


# --------------------------------------------------------------------------------------------- layouts in the pipeline
KINECT_V1 = dict(
    num_node=20, center=2, body_center=1, spine=(0, 1), shoulders=(8, 4),
    inward=[(0, 1), (1, 2), (3, 2), (4, 2), (5, 4), (6, 5), (7, 6), (8, 2), (9, 8), (10, 9), (11, 10), (12, 0),
            (13, 12), (14, 13), (15, 14), (16, 0), (17, 16), (18, 17), (19, 18)],
    left=[4, 5, 6, 7, 12, 13, 14, 15], right=[8, 9, 10, 11, 16, 17, 18, 19])
# a 15-joint 2D skeleton (JHMDB's order): 0 neck, 1 belly, 2 face, 3/4 shoulders, ...
JHMDB = dict(num_node=15, center=1, inward=[(0, 1), (2, 0), (3, 0), (4, 0), (5, 1), (6, 1), (7, 3), (8, 4), (9, 5),
                                            (10, 6), (11, 7), (12, 8), (13, 9), (14, 10)])


def test_prenormalize3d_with_the_ntu_layout_is_pyskl_default():
    skeleton = np.random.default_rng(5).normal(size=(2, 6, 25, 3)).astype(np.float16)
    skeleton[1, 3] = 0
    ours = PreNormalize3D(layout='nturgb+d')(dict(keypoint=skeleton, total_frames=6))
    default = PreNormalize3D()(dict(keypoint=skeleton, total_frames=6))
    np.testing.assert_array_equal(ours['keypoint'], default['keypoint'])
    np.testing.assert_array_equal(ours['body_center'], default['body_center'])


def test_prenormalize3d_centres_and_aligns_a_custom_layout_by_its_joints():
    rng = np.random.default_rng(2)
    body = canonical_body(rng)[:, :20]  # Kinect v1 shares NTU's joints 0-19 here: spine 0 -> 1, shoulders 8 / 4
    rotation = Rotation.from_euler('xyz', [-0.3, 0.8, 1.7]).as_matrix()
    seen = (body @ rotation.T + np.array([1.0, 0.4, 2.5]))[None]
    results = PreNormalize3D(layout=KINECT_V1)(dict(keypoint=seen.copy(), total_frames=4))
    np.testing.assert_allclose(results['keypoint'][0], body, atol=1e-5)
    np.testing.assert_allclose(results['body_center'], [1.0, 0.4, 2.5], atol=1e-12)
    # without the layout, PYSKL's rule centres a 20-joint skeleton on its last joint (Kinect v1's right foot)
    pyskl_rule = PreNormalize3D()(dict(keypoint=seen.copy(), total_frames=4))
    np.testing.assert_array_equal(pyskl_rule['body_center'], seen[0, 0, 19])


def test_prenormalize3d_needs_the_layout_axes_or_no_alignment():
    with pytest.raises(ValueError, match="layout 'custom' names no spine and shoulders"):
        PreNormalize3D(layout=JHMDB)
    results = PreNormalize3D(layout=JHMDB, align_spine=False)(
        dict(keypoint=np.arange(1, 91, dtype=np.float32).reshape(1, 2, 15, 3), total_frames=2))
    np.testing.assert_array_equal(results['keypoint'][0, 0, 1], 0)  # centred on the belly, the layout's centre
    with pytest.raises(ValueError, match="'s1'.*25 joints but the skeleton layout has 20"):
        PreNormalize3D(layout=KINECT_V1)(dict(keypoint=np.ones((1, 2, 25, 3)), total_frames=2, frame_dir='s1'))


def jhmdb_sample(rng, frames=3):
    keypoint = rng.uniform(0, 200, size=(1, frames, 15, 2)).astype(np.float32)
    score = rng.uniform(0.5, 1, size=(1, frames, 15)).astype(np.float32)
    return dict(keypoint=keypoint, keypoint_score=score, img_shape=(240, 320), frame_dir='v')


@pytest.mark.parametrize('feats', [['b'], ['jm'], ['bm']])
def test_a_custom_2d_layout_keeps_its_score_channel_after_prenormalize2d(feats):
    results = PreNormalize2D(layout=JHMDB)(jhmdb_sample(np.random.default_rng(0)))
    score = results['keypoint'][..., 2].copy()
    out = GenSkeFeat(layout=JHMDB, feats=feats)(results)['keypoint']
    parent = np.array([dict(get_layout(JHMDB).bones).get(v, v) for v in range(15)])
    bone_score = (score + score[..., parent]) / 2  # a bone's confidence: the mean of its joints'
    expected = dict(b=bone_score, jm=(score[:, 1:] + score[:, :-1]) / 2,
                    bm=(bone_score[:, 1:] + bone_score[:, :-1]) / 2)[feats[0]]
    np.testing.assert_allclose(out[:, :expected.shape[1], :, 2], expected, rtol=1e-6)
    assert out[:, :expected.shape[1], :, 2].min() > 0.4  # not the all-zero difference of the scores


def test_joint_to_bone_and_to_motion_keep_a_custom_layout_score_too():
    results = PreNormalize2D()(jhmdb_sample(np.random.default_rng(1)))
    score = results['keypoint'][..., 2].copy()
    bone = JointToBone(layout=JHMDB, target='b')(results)['b']
    np.testing.assert_allclose(bone[..., 1, 2], score[..., 1])  # the centre's bone: its own score
    motion = ToMotion(layout=JHMDB)(results)['motion']
    np.testing.assert_allclose(motion[:, 0, :, 2], (score[:, 0] + score[:, 1]) / 2, rtol=1e-6)
    # a 3D skeleton of a custom layout keeps PYSKL's rule: the third channel is z
    z = np.random.default_rng(2).normal(size=(1, 2, 15, 3)).astype(np.float32)
    np.testing.assert_allclose(ToMotion(layout=JHMDB)(dict(keypoint=z))['motion'][:, 0], z[:, 1] - z[:, 0])


def test_a_layout_is_given_once():
    with pytest.raises(ValueError, match='give the skeleton layout once'):
        GenSkeFeat(dataset='coco', layout='coco')
    assert GenSkeFeat(layout='coco').layout.name == 'coco' and GenSkeFeat().layout.name == 'nturgb+d'


def test_layout_joint_counts_are_checked_by_prenormalize2d_and_flip():
    sample = jhmdb_sample(np.random.default_rng(3))
    with pytest.raises(ValueError, match="'v'.*15 joints but the skeleton layout has 17"):
        PreNormalize2D(layout='coco')(dict(sample))
    with pytest.raises(ValueError, match="'v'.*15 joints but the skeleton layout has 17"):
        Flip(flip_ratio=1, layout='coco')(dict(sample))
    flipped = Flip(flip_ratio=1, layout=dict(JHMDB, left=[4], right=[3]))(dict(sample))['keypoint']
    np.testing.assert_allclose(flipped[0, 0, 3, 0], 320 - sample['keypoint'][0, 0, 4, 0])
