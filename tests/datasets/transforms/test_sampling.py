"""Temporal samplers: PYSKL's frame indices (seed-255 test mode), train-mode structure and the DG-STGCN variant."""
import numpy as np
import pytest

from pyskl.datasets.transforms import PoseDecode, UniformSample, UniformSampleDecode, UniformSampleFrames
from pyskl.datasets.transforms.sampling import interp_positions, resample
from pyskl.registry import TRANSFORMS


def sample(transform, total_frames, test_mode, **extra):
    results = dict(total_frames=total_frames, start_index=0, test_mode=test_mode, frame_dir='clip', **extra)
    return transform(results)


def pyskl_indices(total, clip_len, num_clips, test_mode, p_interval=(1, 1), seed=255):
    """PYSKL's sampler, written out plainly, drawing from the *global* RNG: test mode re-seeds it first and starts a
    clip shorter than ``clip_len`` at a spread offset, train mode at a random one."""
    if test_mode:
        np.random.seed(seed)
    clips = []
    for i in range(num_clips):
        ratio = np.random.rand() * (p_interval[1] - p_interval[0]) + p_interval[0]
        n = int(ratio * total)
        off = np.random.randint(total - n + 1)
        if n < clip_len:
            if test_mode:
                start = i if n < num_clips else i * n // num_clips
            else:
                start = np.random.randint(0, n)
            inds = np.arange(start, start + clip_len)
        elif n < 2 * clip_len:
            skip = np.random.choice(clip_len + 1, n - clip_len, replace=False)
            shift = np.zeros(clip_len + 1, dtype=np.int64)
            shift[skip] = 1
            inds = np.arange(clip_len) + np.cumsum(shift)[:-1]
        else:
            bids = np.array([j * n // clip_len for j in range(clip_len + 1)])
            inds = bids[:clip_len] + np.random.randint(np.diff(bids))
        clips.append(inds + off)
    return np.mod(np.concatenate(clips), total)


@pytest.mark.parametrize('total, clip0, clip1', [
    (300, [1, 5, 7, 9, 13, 16, 20, 21, 25, 27, 30, 35], [0, 3, 7, 10, 12, 17, 18, 21, 25, 27, 32, 34]),
    (150, [0, 2, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15], None),
])
def test_test_mode_reproduces_pyskl_reference_indices(total, clip0, clip1):
    inds = sample(UniformSample(clip_len=100, num_clips=10), total, True)['frame_inds'].reshape(10, 100)
    assert inds[0, :12].tolist() == clip0
    if clip1 is not None:
        assert inds[1, :12].tolist() == clip1


def test_test_mode_short_video_loops_from_spread_starts():
    inds = sample(UniformSample(clip_len=100, num_clips=10), 50, True)['frame_inds'].reshape(10, 100)
    assert inds[0].tolist() == [i % 50 for i in range(100)]
    assert inds[1, 0] == 5 and inds[1].tolist() == [(5 + i) % 50 for i in range(100)]


@pytest.mark.parametrize('total, p_interval', [(37, 1), (257, 1), (130, 1), (300, (0.5, 1)), (90, (0.3, 0.9))])
def test_test_mode_is_pyskl_global_seeding_with_a_local_rng(total, p_interval):
    transform = UniformSampleFrames(clip_len=64, num_clips=5, p_interval=p_interval)
    np.random.seed(7)
    before = np.random.rand(3)
    np.random.seed(7)
    ours = sample(transform, total, True)['frame_inds']
    after = np.random.rand(3)  # the global stream continues untouched
    np.testing.assert_array_equal(before, after)
    interval = p_interval if isinstance(p_interval, tuple) else (p_interval, p_interval)
    np.testing.assert_array_equal(ours, pyskl_indices(total, 64, 5, True, interval))
    np.testing.assert_array_equal(sample(transform, total, True)['frame_inds'], ours)  # deterministic, cached


def test_start_index_is_added_and_cached_indices_stay_intact():
    transform = UniformSample(clip_len=8, num_clips=2)
    first = sample(transform, 40, True, keypoint=np.zeros((1, 40, 3, 3)))
    expected = first['frame_inds'].copy()
    first['frame_inds'] += 1000  # a later step editing its results must not change the next sample's indices
    np.testing.assert_array_equal(sample(transform, 40, True)['frame_inds'], expected)
    shifted = transform(dict(total_frames=40, start_index=1, test_mode=True))['frame_inds']
    np.testing.assert_array_equal(shifted, expected + 1)
    assert first['clip_len'] == 8 and first['num_clips'] == 2 and first['frame_interval'] is None


def test_train_mode_draws_one_frame_per_bin_from_the_global_rng():
    transform = UniformSample(clip_len=10)
    np.random.seed(3)
    first = sample(transform, 100, False)['frame_inds']
    np.random.seed(3)
    again = sample(transform, 100, False)['frame_inds']
    np.testing.assert_array_equal(first, again)
    assert first.shape == (10, )
    np.testing.assert_array_equal(first // 10, np.arange(10))  # bins of 10 frames, one frame each
    draws = np.stack([sample(transform, 100, False)['frame_inds'] for _ in range(50)])
    assert len(np.unique(draws[:, 0])) > 1  # random within the bin


def test_train_mode_mid_length_skips_gaps_and_short_videos_loop():
    mid = sample(UniformSample(clip_len=10), 15, False)['frame_inds']
    assert np.all(np.diff(mid) >= 1) and np.all(np.diff(mid) <= 2) and mid.max() < 15
    short = sample(UniformSample(clip_len=10), 4, False)['frame_inds']
    np.testing.assert_array_equal(short, (short[0] + np.arange(10)) % 4)


def test_train_mode_crop_stays_inside_the_video():
    transform = UniformSample(clip_len=16, num_clips=3, p_interval=(0.5, 1))
    for _ in range(20):
        inds = sample(transform, 64, False)['frame_inds']
        assert inds.shape == (48, ) and inds.min() >= 0 and inds.max() < 64


def test_mismatched_total_frames_names_the_sample():
    with pytest.raises(ValueError, match="'clip'.*total_frames is 20 but keypoint has 30"):
        sample(UniformSample(clip_len=4), 20, False, keypoint=np.zeros((1, 30, 3, 3)))


def test_registered_under_both_names():
    assert type(TRANSFORMS.build(dict(type='UniformSample', clip_len=4))) is UniformSample
    assert isinstance(TRANSFORMS.build(dict(type='UniformSampleFrames', clip_len=4)), UniformSampleFrames)


def test_uniform_sample_decode_gathers_train_style_clips_seeded_in_test_mode():
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(2, 57, 5, 2)).astype(np.float16)
    score = rng.random((2, 57, 5)).astype(np.float16)
    results = UniformSampleDecode(clip_len=20, num_clips=3)(
        dict(keypoint=kp, keypoint_score=score, test_mode=True, total_frames=57))
    out = results['keypoint']
    assert out.shape == (2, 60, 5, 3) and out.dtype == np.float32 and 'keypoint_score' not in results
    # the reference: PYSKL's train sampler (bins for 57 >= 2 * 20 frames) after np.random.seed(255)
    np.random.seed(255)
    inds = []
    for _ in range(3):
        np.random.rand(), np.random.randint(1)
        bids = np.array([j * 57 // 20 for j in range(21)])
        inds.append(bids[:20] + np.random.randint(np.diff(bids)))
    full = np.concatenate([kp, score[..., None]], -1).astype(np.float32)
    np.testing.assert_array_equal(out, full[:, np.concatenate(inds)])
    assert results['num_clips'] == 3 and results['clip_len'] == 20


def test_uniform_sample_decode_short_crops_loop_within_the_video():
    kp = np.arange(7, dtype=np.float32)[None, :, None, None] * np.ones((1, 7, 2, 3), np.float32)
    out = UniformSampleDecode(clip_len=10)(dict(keypoint=kp, test_mode=False))['keypoint']
    frames = out[0, :, 0, 0].astype(int)
    np.testing.assert_array_equal(frames, (frames[0] + np.arange(10)) % 7)


# ------------------------------------------------------------------------------------- short clips: loop, interp, pad
@pytest.mark.parametrize('total, p_interval', [(5, 1), (11, (0.5, 1)), (20, 1), (45, (0.3, 1)), (90, 1)])
def test_loop_train_mode_is_pyskl_draw_for_draw(total, p_interval):
    np.random.seed(11)
    ours = sample(UniformSampleFrames(clip_len=16, num_clips=3, p_interval=p_interval, short_clip='loop'), total,
                  False)['frame_inds']
    np.random.seed(11)
    interval = p_interval if isinstance(p_interval, tuple) else (p_interval, p_interval)
    np.testing.assert_array_equal(ours, pyskl_indices(total, 16, 3, False, interval))
    assert ours.dtype == np.int64


def ramp(frames, joints=2, persons=1):
    """keypoint[m, t, v] = (t + 1, 10 * (v + 1), 100 * (m + 1)): the frame is readable from channel 0."""
    kp = np.zeros((persons, frames, joints, 3), np.float32)
    kp[..., 0] = np.arange(1, frames + 1)[None, :, None]
    kp[..., 1] = 10 * np.arange(1, joints + 1)
    kp[..., 2] = 100 * np.arange(1, persons + 1)[:, None, None]
    return kp


def test_interp_positions_by_hand():
    # 4 frames into 8 bins of half a frame, read at the bins' middles: t - 1/2 for t = 0.25, 0.75, ..., 3.75
    np.testing.assert_allclose(interp_positions(4, 8, np.full(8, 0.5)), [0, .25, .75, 1.25, 1.75, 2.25, 2.75, 3])
    np.testing.assert_allclose(interp_positions(3, 4, np.zeros(4)), [0, 0.25, 1, 1.75])
    np.testing.assert_allclose(interp_positions(1, 5, np.full(5, 0.9)), 0)


def test_resample_interpolates_linearly_and_pads_with_zeros():
    data = np.array([0., 1., 4., 9.], np.float32)[None, :, None, None] * np.ones((1, 4, 2, 2), np.float32)
    out = resample(data, np.array([0., 0.5, 2.25, 3., np.nan]))
    np.testing.assert_allclose(out[0, :, 0, 0], [0, 0.5, 4 + 0.25 * 5, 9, 0])
    assert out.dtype == np.float32 and out.shape == (1, 5, 2, 2)
    score = np.array([[[1.], [0.5], [0.], [1.]]], np.float32)  # [M, T, V]
    np.testing.assert_allclose(resample(score, np.array([0.5, 1.5]))[0, :, 0], [0.75, 0.25])


def test_resample_snaps_a_joint_missing_on_one_side_to_the_nearer_frame():
    data = ramp(3)
    data[0, 1, 1] = 0  # joint 1 undetected in frame 1
    out = resample(data, np.array([0.25, 0.75, 1.25, 1.5]), np.any(data != 0, axis=-1))
    np.testing.assert_allclose(out[0, :, 0, 0], [1.25, 1.75, 2.25, 2.5])  # joint 0: interpolated
    # joint 1, the nearer frame: 0, then the missing frame 1 (nothing), then frame 2 (from half way on)
    np.testing.assert_allclose(out[0, :, 1, 0], [1, 0, 0, 3])


@pytest.mark.parametrize('test_mode', [False, True])
def test_interp_stretches_a_short_clip_over_its_span(test_mode):
    transform = UniformSampleFrames(clip_len=8, num_clips=2, short_clip='interp')
    results = PoseDecode()(sample(transform, 4, test_mode, keypoint=ramp(4, persons=2),
                                  keypoint_score=np.ones((2, 4, 2), np.float32)))
    kp = results['keypoint']
    assert kp.shape == (2, 16, 2, 3) and results['frame_inds'].tolist() == list(range(16))
    frame = kp[0, :, 0, 0].reshape(2, 8) - 1  # the position read, 0..3
    low = np.clip(np.arange(8) * 4 / 8 - 0.5, 0, 3)
    high = np.clip(np.arange(1, 9) * 4 / 8 - 0.5, 0, 3)
    assert np.all(frame >= low - 1e-6) and np.all(frame <= high + 1e-6)  # one point in each bin, in order
    np.testing.assert_array_equal(frame[:, [0, -1]], [[0, 3], [0, 3]])  # the whole span, first to last frame
    np.testing.assert_array_equal(kp[..., 0], kp[:1, :, :1, 0].repeat(2, 0).repeat(2, 2))  # same for all joints
    np.testing.assert_array_equal(kp[..., 1], np.broadcast_to([10, 20], kp.shape[:3]))  # constant channels stay
    np.testing.assert_array_equal(kp[..., 2], np.broadcast_to([[[100]], [[200]]], kp.shape[:3]))
    np.testing.assert_array_equal(results['keypoint_score'], 1)
    assert results['total_frames'] == 4


def test_interp_test_mode_is_seeded_and_train_mode_jitters():
    transform = UniformSampleFrames(clip_len=8, short_clip='interp')
    first = sample(transform, 5, True, keypoint=ramp(5))['keypoint'][0, :, 0, 0]
    np.random.seed(0)
    again = sample(transform, 5, True, keypoint=ramp(5))['keypoint'][0, :, 0, 0]
    np.testing.assert_array_equal(first, again)
    trains = {tuple(sample(transform, 5, False, keypoint=ramp(5))['keypoint'][0, :, 0, 0]) for _ in range(5)}
    assert len(trains) == 5


@pytest.mark.parametrize('test_mode', [False, True])
def test_pad_puts_zero_frames_after_the_clip(test_mode):
    transform = UniformSampleFrames(clip_len=6, num_clips=2, short_clip='pad')
    results = PoseDecode()(sample(transform, 4, test_mode, keypoint=ramp(4),
                                  keypoint_score=np.ones((1, 4, 2), np.float32)))
    np.testing.assert_array_equal(results['keypoint'][0, :, 0, 0], [1, 2, 3, 4, 0, 0] * 2)
    np.testing.assert_array_equal(results['keypoint_score'][0, :, 0], [1, 1, 1, 1, 0, 0] * 2)


def test_pad_and_interp_keep_the_crop():
    def frames_read(short_clip):
        np.random.seed(4)
        return sample(UniformSampleFrames(clip_len=8, p_interval=(0.5, 0.5), short_clip=short_clip), 10, False,
                      keypoint=ramp(10))['keypoint'][0, :, 0, 0]

    pad = frames_read('pad')
    assert pad[5:].tolist() == [0, 0, 0] and np.all(np.diff(pad[:5]) == 1) and 1 <= pad[0] <= 6  # 5 cropped frames
    # the same draws crop the same 5 frames, stretched over 8 bins of 5/8 frame: one point in the first bin, one in
    # the last, none outside the crop
    interp = frames_read('interp')
    assert pad[0] <= interp[0] <= pad[0] + 1 / 8 and pad[4] - 1 / 8 <= interp[-1] <= pad[4]
    assert np.all(np.diff(interp) >= 0)


@pytest.mark.parametrize('short_clip', ['interp', 'pad'])
@pytest.mark.parametrize('test_mode', [False, True])
def test_long_clips_are_sampled_as_with_loop(short_clip, test_mode):
    for total in (16, 23, 40):
        np.random.seed(total)
        loop = sample(UniformSampleFrames(clip_len=16, num_clips=2), total, test_mode)['frame_inds']
        np.random.seed(total)
        kp = ramp(total)
        other = sample(UniformSampleFrames(clip_len=16, num_clips=2, short_clip=short_clip), total, test_mode,
                       keypoint=kp)
        np.testing.assert_array_equal(other['frame_inds'], loop)
        assert other['keypoint'] is kp  # PoseDecode gathers them as before


def test_uniform_sample_decode_interp_and_pad():
    kp = ramp(4)
    interp = UniformSampleDecode(clip_len=8, short_clip='interp')(dict(keypoint=kp, test_mode=True))['keypoint']
    assert interp.shape == (1, 8, 2, 3) and interp[0, 0, 0, 0] == 1 and interp[0, -1, 0, 0] == 4
    assert np.all(np.diff(interp[0, :, 0, 0]) >= 0)
    pad = UniformSampleDecode(clip_len=6, short_clip='pad')(
        dict(keypoint=kp, keypoint_score=np.ones((1, 4, 2), np.float32), test_mode=False))['keypoint']
    np.testing.assert_array_equal(pad[0, :, 0], [[t, 10, 100, 1] for t in (1, 2, 3, 4)] + [[0, 0, 0, 0]] * 2)


def test_short_clip_modes_are_checked():
    with pytest.raises(ValueError, match="short_clip must be one of \\('loop', 'interp', 'pad'\\), got 'repeat'"):
        UniformSample(clip_len=8, short_clip='repeat')
    with pytest.raises(ValueError, match="'clip'.*resamples results\\[\"keypoint\"\\]"):
        sample(UniformSample(clip_len=8, short_clip='pad'), 4, False)
