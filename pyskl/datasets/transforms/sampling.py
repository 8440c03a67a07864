"""Temporal samplers: which frames of a skeleton sequence a clip uses.

PYSKL's ``UniformSampleFrames`` splits the (optionally randomly cropped) sequence into ``clip_len`` equal bins and
takes one frame per bin. Test mode is deterministic: PYSKL re-seeds numpy's *global* RNG with ``seed`` (255) on every
call, which also resets the random stream every later transform and worker sees. Here test mode draws from a local
``np.random.RandomState(seed)``: the very same numbers (so bit-identical frame indices), without touching the global
RNG. Train mode draws from the global numpy RNG, which mmengine seeds per worker.
"""
from functools import lru_cache
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from pyskl.registry import TRANSFORMS

from .loading import sample_error


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
    """

    def __init__(self, clip_len: int, num_clips: int = 1, p_interval=1, seed: int = 255):
        if clip_len < 1 or num_clips < 1:
            raise ValueError(f'clip_len and num_clips must be positive, got {clip_len} and {num_clips}')
        self.clip_len = clip_len
        self.num_clips = num_clips
        self.p_interval = _as_interval(p_interval)
        self.seed = seed
        self._test_cache = {}

    def _train_clip(self, rng, total: int, clip_idx: int) -> np.ndarray:
        num_frames, offset = _crop(rng, total, self.p_interval)
        inds = _spread(rng, num_frames, self.clip_len)
        if inds is None:  # a short crop loops from a random start (the modulo comes later)
            start = rng.randint(0, num_frames)
            inds = np.arange(start, start + self.clip_len)
        return inds + offset

    def _test_clip(self, rng, total: int, clip_idx: int) -> np.ndarray:
        num_frames, offset = _crop(rng, total, self.p_interval)
        inds = _spread(rng, num_frames, self.clip_len)
        if inds is None:  # short crops: clips start at spread-out frames instead of random ones
            start = clip_idx if num_frames < self.num_clips else clip_idx * num_frames // self.num_clips
            inds = np.arange(start, start + self.clip_len)
        return inds + offset

    def frame_indices(self, total_frames: int, test_mode: bool) -> np.ndarray:
        """All clips' frame indices in ``[0, total_frames)``, concatenated."""
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
        return np.mod(inds, total_frames).astype(np.int64)

    def transform(self, results: dict) -> dict:
        total_frames = int(results['total_frames'])
        _check_total_frames(self, results, total_frames)
        inds = self.frame_indices(total_frames, bool(results.get('test_mode', False)))
        results['frame_inds'] = inds + results.get('start_index', 0)  # a new, writable array
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(clip_len={self.clip_len}, num_clips={self.num_clips}, '
                f'p_interval={self.p_interval}, seed={self.seed})')


@TRANSFORMS.register_module()
class UniformSample(UniformSampleFrames):
    """PYSKL's other name for :class:`UniformSampleFrames` (the GCN configs use this one)."""


@TRANSFORMS.register_module()
class UniformSampleDecode(UniformSampleFrames):
    """DG-STGCN's sampler: samples *and* gathers the clips in one step.

    ``keypoint_score`` (if any) is appended to ``keypoint`` as a channel, the result cast to float32 and replaced by
    the clips concatenated in time, ``[M, num_clips * clip_len, V, C]``. Every clip uses the *train* sampler (random
    short-crop starts, looped within the crop); test mode only fixes the seed. ``start_index`` is not used.
    """

    def _train_clip(self, rng, total: int, clip_idx: int) -> np.ndarray:
        num_frames, offset = _crop(rng, total, self.p_interval)
        inds = _spread(rng, num_frames, self.clip_len)
        if inds is None:  # unlike UniformSampleFrames, a short crop loops within the crop
            start = rng.randint(0, num_frames)
            inds = np.arange(start, start + self.clip_len) % num_frames
        return inds + offset

    _test_clip = _train_clip  # test mode only fixes the seed

    def transform(self, results: dict) -> dict:
        if 'keypoint' not in results:
            raise sample_error(self, results, 'needs a keypoint array')
        kp = results.pop('keypoint')
        if 'keypoint_score' in results:
            kp = np.concatenate([kp, results.pop('keypoint_score')[..., None]], axis=-1)
        if kp.ndim != 4 or kp.shape[1] < 1:
            raise sample_error(self, results, f'keypoint must be [M, T, V, C] with T >= 1, got shape {kp.shape}')
        inds = self.frame_indices(kp.shape[1], bool(results.get('test_mode', False)))
        results['keypoint'] = np.asarray(kp.take(inds, axis=1), dtype=np.float32)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        return results
