"""Temporal samplers: PYSKL's frame indices (seed-255 test mode), train-mode structure and the DG-STGCN variant."""
import numpy as np
import pytest

from pyskl.datasets.transforms import UniformSample, UniformSampleDecode, UniformSampleFrames
from pyskl.registry import TRANSFORMS


def sample(transform, total_frames, test_mode, **extra):
    results = dict(total_frames=total_frames, start_index=0, test_mode=test_mode, frame_dir='clip', **extra)
    return transform(results)


def pyskl_test_indices(total, clip_len, num_clips, p_interval=(1, 1), seed=255):
    """PYSKL's test-mode sampler, written out plainly: it re-seeds the *global* RNG and loops over clips."""
    np.random.seed(seed)
    clips = []
    for i in range(num_clips):
        ratio = np.random.rand() * (p_interval[1] - p_interval[0]) + p_interval[0]
        n = int(ratio * total)
        off = np.random.randint(total - n + 1)
        if n < clip_len:
            start = i if n < num_clips else i * n // num_clips
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
    np.testing.assert_array_equal(ours, pyskl_test_indices(total, 64, 5, interval))
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
