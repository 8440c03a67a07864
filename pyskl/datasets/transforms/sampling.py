"""Temporal samplers: which frames of a skeleton sequence a clip uses.

PYSKL's ``UniformSampleFrames`` splits the (optionally randomly cropped) sequence into ``clip_len`` equal bins and
takes one frame per bin. Test mode is deterministic: PYSKL re-seeds numpy's *global* RNG with ``seed`` (255) on every
call, which also resets the random stream every later transform and worker sees. Here test mode draws from a local
``np.random.RandomState(seed)``: the very same numbers (so bit-identical frame indices), without touching the global
RNG. Train mode draws from the global numpy RNG, which mmengine seeds per worker.

A (cropped) sequence shorter than ``clip_len`` is, by PYSKL's rule, looped (frames ``t mod T``), which plays "sit
down" as sit-stand-sit. ``short_clip='interp'`` instead stretches it to ``clip_len`` frames by linear interpolation
and ``'pad'`` follows it with zero frames. Both make new keypoint arrays holding just the sampled clips (PoseDecode
then takes them whole), as frame indices cannot express them.
"""
from functools import lru_cache
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from pyskl.registry import TRANSFORMS

from .loading import sample_error

SHORT_CLIP_MODES = ('loop', 'interp', 'pad')


def _as_interval(p_interval: Union[float, Sequence[float]]) -> tuple:
    if isinstance(p_interval, (int, float)):
        return float(p_interval), float(p_interval)
    if len(p_interval) != 2:
        raise ValueError(f'p_interval must be a number or a (low, high) pair, got {p_interval!r}')
    low, high = float(p_interval[0]), float(p_interval[1])
    if not 0 < low <= high <= 1:
        raise ValueError(f'p_interval must satisfy 0 < low <= high <= 1, got {p_interval!r}')
    return low, high


def _crop(rng, total: int, p_interval: tuple) -> tuple:
    """Length and offset of the random temporal crop (``ratio ~ U[p_interval]``). Draws ``rand`` then ``randint``,
    PYSKL's order, on every call (even when the interval is a single point)."""
    ratio = rng.rand() * (p_interval[1] - p_interval[0]) + p_interval[0]
    # PYSKL crashes when the crop rounds to 0 frames (randint(0, 0)); keep at least one frame.
    num_frames = max(int(ratio * total), 1)
    offset = rng.randint(total - num_frames + 1)
    return num_frames, offset


def _spread(rng, num_frames: int, clip_len: int) -> Optional[np.ndarray]:
    """Indices in ``[0, num_frames)`` for a crop at least ``clip_len`` long (None when it is shorter).

    ``clip_len <= n < 2 * clip_len``: skip ``n - clip_len`` of the ``clip_len + 1`` gaps at random; longer crops:
    one random frame from each of ``clip_len`` equal bins.
    """
    if num_frames < clip_len:
        return None
    if num_frames < 2 * clip_len:
        skipped = rng.choice(clip_len + 1, num_frames - clip_len, replace=False)
        shift = np.zeros(clip_len + 1, dtype=np.int64)
        shift[skipped] = 1
        return np.arange(clip_len) + np.cumsum(shift)[:-1]
    starts, sizes = _bins(num_frames, clip_len)
    return starts + rng.randint(sizes)


def interp_positions(num_frames: int, clip_len: int, jitter: np.ndarray) -> np.ndarray:
    """``clip_len`` fractional frame positions spanning a sequence of ``num_frames < clip_len`` frames.

    The long-crop rule in continuous time: frame ``k`` covers ``[k, k + 1)``; the span ``[0, num_frames)`` is cut into
    ``clip_len`` equal bins and bin ``i`` is read at ``(i + jitter[i]) * num_frames / clip_len``, i.e. at frame
    position ``t - 1/2`` (clipped to the first and last frame). ``jitter`` in ``[0, 1)``, one per bin.
    """
    t = (np.arange(clip_len) + jitter) * (num_frames / clip_len)
    return np.clip(t - 0.5, 0, num_frames - 1)


def pad_positions(num_frames: int, clip_len: int) -> np.ndarray:
    """The sequence's frames, then NaN (a zero frame) up to ``clip_len``."""
    positions = np.full(clip_len, np.nan)
    positions[:num_frames] = np.arange(num_frames)
    return positions


def resample(data: np.ndarray, positions: np.ndarray, present: Optional[np.ndarray] = None) -> np.ndarray:
    """``data [M, T, ...]`` read at fractional frame ``positions`` by linear interpolation, float32; NaN positions
    give zero frames.

    ``present [M, T, V]`` (joints that are not all-zero, as ``data`` has them when it is ``[M, T, V, C]``): a joint
    missing in one of the two frames around a position takes the nearer frame's value instead of being dragged
    towards the origin.
    """
    T = data.shape[1]
    valid = np.isfinite(positions)
    pos = np.where(valid, positions, 0.)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, T - 1)
    frac = (pos - lo).astype(np.float32)
    weight = np.broadcast_to(frac[None, :, None], (data.shape[0], len(pos)) + data.shape[2:3])
    if present is not None:  # one side missing: snap to the nearer frame
        half_missing = present.take(lo, axis=1) != present.take(hi, axis=1)
        weight = np.where(half_missing, (frac >= 0.5)[None, :, None], weight).astype(np.float32)
    before = np.asarray(data.take(lo, axis=1), dtype=np.float32)
    after = np.asarray(data.take(hi, axis=1), dtype=np.float32)
    weight = weight.reshape(weight.shape + (1, ) * (data.ndim - 3))
    out = before + weight * (after - before)
    out[:, ~valid] = 0
    return out


def resample_pose(results: dict, positions: np.ndarray, transform) -> None:
    """``keypoint`` (and ``keypoint_score``) of ``results`` replaced by their frames at ``positions``."""
    keypoint = results.get('keypoint')
    if keypoint is None or keypoint.ndim != 4:
        raise sample_error(transform, results, 'short_clip interp/pad resamples results["keypoint"] [M, T, V, C], '
                           f'got {None if keypoint is None else keypoint.shape}')
    present = np.any(keypoint != 0, axis=-1)
    results['keypoint'] = resample(keypoint, positions, present)
    if 'keypoint_score' in results:
        results['keypoint_score'] = resample(results['keypoint_score'], positions, present)


@lru_cache(maxsize=4096)
def _bins(num_frames: int, clip_len: int) -> tuple:
    """Starts and sizes of ``clip_len`` near-equal bins over ``num_frames`` frames (read-only, cached)."""
    bounds = np.arange(clip_len + 1) * num_frames // clip_len
    starts, sizes = bounds[:-1], np.diff(bounds)
    starts.setflags(write=False)
    sizes.setflags(write=False)
    return starts, sizes


def _check_total_frames(transform, results, num_frames):
    kp = results.get('keypoint')
    if kp is not None and kp.ndim == 4 and kp.shape[1] != num_frames:
        raise sample_error(transform, results, f'total_frames is {num_frames} but keypoint has {kp.shape[1]} frames '
                           f'(shape {kp.shape}, expected [M, T, V, C])')
    if num_frames < 1:
        raise sample_error(transform, results, f'total_frames must be positive, got {num_frames}')


@TRANSFORMS.register_module()
class UniformSampleFrames(BaseTransform):
    """Uniformly sample ``num_clips`` clips of ``clip_len`` frames: sets ``frame_inds`` (``num_clips * clip_len``,
    ``+ start_index``, looped over ``total_frames``), ``clip_len``, ``frame_interval=None`` and ``num_clips``.

    Args:
        clip_len: frames per clip.
        num_clips: clips to sample (10 for PYSKL's GCN testing).
        p_interval: a number or ``(low, high)``: each clip first crops a random ``U[low, high]`` fraction of the
            sequence (1 = no crop).
        seed: the seed of test mode (``results['test_mode']``), which makes sampling deterministic.
        short_clip: what a crop shorter than ``clip_len`` becomes. ``'loop'`` (PYSKL's): frames ``t mod T`` from a
            random start (spread-out starts in test mode). ``'interp'``: the crop's span resampled to ``clip_len``
            frames by linear interpolation, one random point per bin as for long crops (seeded in test mode).
            ``'pad'``: the crop's frames, then zero frames. With 'interp' or 'pad', a sample with a short crop gets
            new ``keypoint`` / ``keypoint_score`` arrays of just its clips and ``frame_inds = arange``.
    """

    def __init__(self, clip_len: int, num_clips: int = 1, p_interval=1, seed: int = 255, short_clip: str = 'loop'):
        if clip_len < 1 or num_clips < 1:
            raise ValueError(f'clip_len and num_clips must be positive, got {clip_len} and {num_clips}')
        if short_clip not in SHORT_CLIP_MODES:
            raise ValueError(f'{type(self).__name__}: short_clip must be one of {SHORT_CLIP_MODES}, got {short_clip!r}')
        self.clip_len = clip_len
        self.num_clips = num_clips
        self.p_interval = _as_interval(p_interval)
        self.seed = seed
        self.short_clip = short_clip
        self._test_cache = {}

    def _short_positions(self, rng, num_frames: int) -> np.ndarray:
        """Fractional positions (NaN: zero frame) of a clip of a crop shorter than ``clip_len`` (interp, pad)."""
        if self.short_clip == 'interp':
            return interp_positions(num_frames, self.clip_len, rng.rand(self.clip_len))
        return pad_positions(num_frames, self.clip_len)

    # Whether a looped short crop wraps within the crop (DG-STGCN's UniformSampleDecode); else the indices run past
    # it and wrap over the whole sequence later (PYSKL's UniformSampleFrames, in _sample).
    loop_within_crop = False

    def _clip(self, rng, total: int, loop_start) -> np.ndarray:
        """One clip: a random crop, ``clip_len`` frames spread over it; a crop shorter than ``clip_len`` is
        interpolated or padded (``short_clip``), or looped from frame ``loop_start(num_frames)`` of the crop."""
        num_frames, offset = _crop(rng, total, self.p_interval)
        inds = _spread(rng, num_frames, self.clip_len)
        if inds is None and self.short_clip != 'loop':
            return self._short_positions(rng, num_frames) + offset
        if inds is None:
            start = loop_start(num_frames)
            inds = np.arange(start, start + self.clip_len)
            if self.loop_within_crop:
                inds %= num_frames
        return inds + offset

    def _train_clip(self, rng, total: int, clip_idx: int) -> np.ndarray:
        return self._clip(rng, total, lambda num_frames: rng.randint(0, num_frames))  # a short crop: a random start

    def _test_clip(self, rng, total: int, clip_idx: int) -> np.ndarray:
        def spread_start(num_frames):  # short crops: clips start at spread-out frames instead of random ones
            return clip_idx if num_frames < self.num_clips else clip_idx * num_frames // self.num_clips
        return self._clip(rng, total, spread_start)

    def frame_indices(self, total_frames: int, test_mode: bool) -> np.ndarray:
        """All clips' frame indices in ``[0, total_frames)``, concatenated: int64, or float64 fractional positions
        (NaN for a zero frame) when ``short_clip`` is 'interp' or 'pad' and a crop was shorter than ``clip_len``."""
        if not test_mode:
            return self._sample(np.random.mtrand._rand, self._train_clip, total_frames)  # the global RNG
        # Test mode is a pure function of total_frames (the seed is fixed): remember the answers, read-only.
        inds = self._test_cache.get(total_frames)
        if inds is None:
            if len(self._test_cache) >= 4096:
                self._test_cache.clear()
            inds = self._sample(np.random.RandomState(self.seed), self._test_clip, total_frames)
            inds.setflags(write=False)
            self._test_cache[total_frames] = inds
        return inds

    def _sample(self, rng, sample_clip, total_frames: int) -> np.ndarray:
        inds = np.concatenate([sample_clip(rng, total_frames, i) for i in range(self.num_clips)])
        if inds.dtype.kind == 'f':  # positions of interp / pad clips: already inside the sequence
            return inds
        return np.mod(inds, total_frames).astype(np.int64)

    def transform(self, results: dict) -> dict:
        total_frames = int(results['total_frames'])
        _check_total_frames(self, results, total_frames)
        inds = self.frame_indices(total_frames, bool(results.get('test_mode', False)))
        if inds.dtype.kind == 'f':
            resample_pose(results, inds, self)
            results['frame_inds'] = np.arange(len(inds))  # the new arrays hold just the clips, in order
        else:
            results['frame_inds'] = inds + results.get('start_index', 0)  # a new, writable array
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(clip_len={self.clip_len}, num_clips={self.num_clips}, '
                f'p_interval={self.p_interval}, seed={self.seed}, short_clip={self.short_clip!r})')


@TRANSFORMS.register_module()
class UniformSample(UniformSampleFrames):
    """PYSKL's other name for :class:`UniformSampleFrames` (the GCN configs use this one)."""


@TRANSFORMS.register_module()
class UniformSampleDecode(UniformSampleFrames):
    """DG-STGCN's sampler: samples *and* gathers the clips in one step.

    ``keypoint_score`` (if any) is appended to ``keypoint`` as a channel, the result cast to float32 and replaced by
    the clips concatenated in time, ``[M, num_clips * clip_len, V, C]``. Every clip uses the *train* sampler (random
    short-crop starts, looped within the crop, or ``short_clip`` 'interp' / 'pad'); test mode only fixes the seed.
    ``start_index`` is not used.
    """

    loop_within_crop = True  # unlike UniformSampleFrames, a short crop loops within the crop
    _test_clip = UniformSampleFrames._train_clip  # test mode only fixes the seed

    def transform(self, results: dict) -> dict:
        if 'keypoint' not in results:
            raise sample_error(self, results, 'needs a keypoint array')
        kp = results.pop('keypoint')
        if 'keypoint_score' in results:
            kp = np.concatenate([kp, results.pop('keypoint_score')[..., None]], axis=-1)
        if kp.ndim != 4 or kp.shape[1] < 1:
            raise sample_error(self, results, f'keypoint must be [M, T, V, C] with T >= 1, got shape {kp.shape}')
        inds = self.frame_indices(kp.shape[1], bool(results.get('test_mode', False)))
        if inds.dtype.kind == 'f':
            # (a missing joint's coordinates and score are all zero, so the score channel marks it as well)
            results['keypoint'] = resample(kp, inds, np.any(kp != 0, axis=-1))
        else:
            results['keypoint'] = np.asarray(kp.take(inds, axis=1), dtype=np.float32)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        return results
