"""RGB video: opening and decoding (``DecordInit`` / ``DecordDecode``, PYSKL's names) and pixel normalisation
(``Normalize``).

Decoding goes through :func:`pyskl.utils.video.open_video`: decord where it is installed (the ``video`` extra), else
OpenCV, which decodes the same pixels (see that module). Frames are RGB uint8 ``imgs`` ``[N, H, W, 3]`` (one array;
PYSKL kept a list of frames: every later step takes either).
"""
import os.path as osp
from typing import Sequence

import numpy as np
from mmcv.image import imnormalize_
from mmcv.transforms import BaseTransform

from pyskl.registry import TRANSFORMS
from pyskl.utils.video import BACKENDS, DECODE_MODES, VideoError, open_video

from .loading import sample_error


def video_path(results: dict) -> str:
    """``filename``, else ``frame_dir + '.mp4'`` (PYSKL's RGBPose layout); a name without suffix gets ``.mp4``."""
    if 'filename' in results:
        path = results['filename']
    elif 'frame_dir' in results:
        path = results['frame_dir'] + '.mp4'
    else:
        raise sample_error('video', results, "needs 'filename' or 'frame_dir' to find its video")
    return path if osp.splitext(path)[1] else path + '.mp4'


def open_sample_video(transform, results: dict, backend: str, num_threads: int):
    """The sample's :class:`~pyskl.utils.video.VideoReader`; a failure names the transform and the file."""
    path = video_path(results)
    try:
        return open_video(path, backend, num_threads)
    except VideoError as e:
        raise VideoError(f'{type(transform).__name__}: {e}') from e


def decode_frames(transform, reader, inds: np.ndarray, mode: str) -> np.ndarray:
    try:
        return reader.frames(inds, mode)
    except VideoError as e:
        raise VideoError(f'{type(transform).__name__}: {e}') from e
    finally:
        reader.close()


def _check_io_backend(transform, io_backend: str) -> None:
    if io_backend != 'disk':
        raise ValueError(f"{transform}: videos are read from local files (io_backend='disk'), got {io_backend!r}")


@TRANSFORMS.register_module()
class DecordInit(BaseTransform):
    """Open the sample's video (``filename``, or ``frame_dir + '.mp4'``): sets ``video_reader`` and
    ``total_frames`` (the video's frame count).

    Args:
        io_backend: ``'disk'`` (PYSKL's default; other mmcv file clients are not supported).
        num_threads: decoding threads (1 suits dataloader workers).
        backend: ``'auto'`` (decord if installed and it opens the file, else OpenCV), ``'decord'`` or ``'opencv'``.
    """

    def __init__(self, io_backend: str = 'disk', num_threads: int = 1, backend: str = 'auto'):
        _check_io_backend('DecordInit', io_backend)
        if backend not in BACKENDS:
            raise ValueError(f'DecordInit: backend must be one of {BACKENDS}, got {backend!r}')
        self.io_backend, self.num_threads, self.backend = io_backend, num_threads, backend

    def transform(self, results: dict) -> dict:
        reader = open_sample_video(self, results, self.backend, self.num_threads)
        results['video_reader'] = reader
        results['total_frames'] = reader.num_frames
        return results

    def __repr__(self):
        return f'{type(self).__name__}(io_backend={self.io_backend!r}, num_threads={self.num_threads}, ' \
               f'backend={self.backend!r})'


@TRANSFORMS.register_module()
class DecordDecode(BaseTransform):
    """Decode the frames ``frame_inds`` of ``video_reader`` (then closed and set to None) into ``imgs``
    ``[N, H, W, 3]`` RGB uint8; sets ``original_shape`` and ``img_shape``.

    Args:
        mode: ``'accurate'``: the frames asked for. ``'efficient'``: with decord, the key frame at or before each
            (PYSKL's fast and inexact seeking); with OpenCV, a seek per frame (exact).
    """

    def __init__(self, mode: str = 'accurate'):
        if mode not in DECODE_MODES:
            raise ValueError(f'DecordDecode: mode must be one of {DECODE_MODES}, got {mode!r}')
        self.mode = mode

    def transform(self, results: dict) -> dict:
        reader = results.get('video_reader')
        if reader is None:
            raise sample_error(self, results, "needs 'video_reader' (put DecordInit before it)")
        if 'frame_inds' not in results:
            raise sample_error(self, results, "needs 'frame_inds' (put a frame sampler before it)")
        inds = np.asarray(results['frame_inds']).reshape(-1)
        imgs = decode_frames(self, reader, inds, self.mode)
        results['video_reader'] = None
        results['imgs'] = imgs
        results['original_shape'] = results['img_shape'] = imgs.shape[1:3]
        return results

    def __repr__(self):
        return f'{type(self).__name__}(mode={self.mode!r})'


@TRANSFORMS.register_module()
class Normalize(BaseTransform):
    """``imgs`` (``[N, H, W, C]`` or a list of frames) as float32 ``(x - mean) / std`` per channel, with mmcv's
    ``imnormalize_`` (PYSKL's arithmetic, so the same bits); ``to_bgr`` swaps R and B first. Sets
    ``img_norm_cfg``.

    Args:
        mean, std: per-channel values (C of them).
        to_bgr: reverse the channel order before normalising.
        adjust_magnitude: PYSKL's option for optical flow, which pyskl does not read; only False is accepted.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], to_bgr: bool = False,
                 adjust_magnitude: bool = False):
        if adjust_magnitude:
            raise ValueError('Normalize: adjust_magnitude is for optical flow, which pyskl does not read')
        self.mean = np.array(mean, dtype=np.float32)
        self.std = np.array(std, dtype=np.float32)
        if self.mean.shape != self.std.shape or self.mean.ndim != 1:
            raise ValueError(f'Normalize: mean and std must be per-channel lists of one length, got {mean} and {std}')
        if (self.std == 0).any():
            raise ValueError(f'Normalize: std must not be 0, got {std}')
        self.to_bgr = to_bgr

    def transform(self, results: dict) -> dict:
        if 'imgs' not in results:
            raise sample_error(self, results, "needs 'imgs'")
        imgs = np.array(results['imgs'], dtype=np.float32)  # a new array: normalised in place below
        if imgs.ndim != 4 or imgs.shape[-1] != len(self.mean):
            raise sample_error(self, results, f'needs imgs [N, H, W, {len(self.mean)}] for {len(self.mean)} '
                               f'channel means, got shape {imgs.shape}')
        num, height, width, channels = imgs.shape
        # one OpenCV call over all frames stacked as one tall image: the same per-pixel operations
        imnormalize_(imgs.reshape(num * height, width, channels), self.mean, self.std, self.to_bgr)
        results['imgs'] = imgs
        results['img_norm_cfg'] = dict(mean=self.mean, std=self.std, to_bgr=self.to_bgr)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(mean={self.mean.tolist()}, std={self.std.tolist()}, to_bgr={self.to_bgr})'
