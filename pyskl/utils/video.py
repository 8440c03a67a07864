"""Reading and writing videos with OpenCV (and Pillow, matplotlib's dependency, for GIFs)."""
import os
import os.path as osp
from typing import Iterator, Optional, Tuple

import cv2
import numpy as np

from .fileio import atomic_write


class VideoError(RuntimeError):
    """A video that is missing or cannot be decoded; the message names the file."""


def iter_frames(path: str) -> Iterator[np.ndarray]:
    """Decode ``path`` frame by frame: BGR uint8 ``[H, W, 3]`` arrays, as many as decoding gives (a container's frame
    count is often wrong, so it is not consulted). Raises :class:`VideoError` for a missing file, one OpenCV cannot
    open, or one that yields no frame."""
    if not osp.isfile(path):
        raise VideoError(f'{path}: no such file')
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise VideoError(f'{path}: OpenCV cannot open it (not a video, or a codec its FFmpeg build lacks)')
        count = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            count += 1
            yield frame
        if count == 0:
            raise VideoError(f'{path}: no frame could be decoded (empty or corrupt video)')
    finally:
        capture.release()


def video_fps(path: str, default: float = 30.) -> float:
    """The frame rate the container states, or ``default`` where it states none."""
    capture = cv2.VideoCapture(path)
    fps = capture.get(cv2.CAP_PROP_FPS) if capture.isOpened() else 0
    capture.release()
    return fps if fps and np.isfinite(fps) and fps > 0 else default


class VideoWriter:
    """Write BGR frames of one size to ``.mp4`` (OpenCV, codec ``mp4v``) or ``.gif`` (Pillow).

    The file appears whole on :meth:`close` (written beside it, then renamed), so an interrupted run leaves no
    half-written video. Use as a context manager.
    """

    SUFFIXES = ('.mp4', '.gif')

    def __init__(self, path: str, fps: float):
        self.suffix = osp.splitext(path)[1].lower()
        if self.suffix not in self.SUFFIXES:
            raise ValueError(f'{path}: can write {" or ".join(self.SUFFIXES)} videos, not {self.suffix or "no suffix"}')
        if not fps > 0:
            raise ValueError(f'{path}: the frame rate must be positive, got {fps}')
        self.path, self.fps = path, float(fps)
        self.size: Optional[Tuple[int, int]] = None  # (w, h)
        self.num_frames = 0
        self._gif_frames = []
        self._writer = None
        self._tmp = None

    def write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if self.size is None:
            self.size = (w, h)
            if self.suffix == '.mp4':
                self._open_mp4()
        elif self.size != (w, h):
            raise ValueError(f'{self.path}: frame {self.num_frames} is {w}x{h}, the first was {self.size[0]}x'
                             f'{self.size[1]}')
        if self._writer is not None:
            self._writer.write(np.ascontiguousarray(frame, dtype=np.uint8))
        else:
            self._gif_frames.append(frame[..., ::-1].copy())  # Pillow wants RGB
        self.num_frames += 1

    def _open_mp4(self) -> None:
        directory = osp.dirname(osp.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        self._tmp = osp.join(directory, f'.{osp.basename(self.path)}.{os.getpid()}.tmp.mp4')
        self._writer = cv2.VideoWriter(self._tmp, cv2.VideoWriter_fourcc(*'mp4v'), self.fps, self.size)
        if not self._writer.isOpened():
            raise VideoError(f'{self.path}: OpenCV cannot write mp4v video here')

    def close(self) -> None:
        if self.num_frames == 0:
            raise ValueError(f'{self.path}: no frame to write')
        if self._writer is not None:
            self._writer.release()
            os.replace(self._tmp, self.path)
            self._writer = None
        elif self._gif_frames:
            from PIL import Image
            images = [Image.fromarray(frame) for frame in self._gif_frames]
            with atomic_write(self.path, 'wb') as f:
                images[0].save(f, format='GIF', save_all=True, append_images=images[1:], loop=0,
                               duration=round(1000 / self.fps))
            self._gif_frames = []

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            if osp.exists(self._tmp):
                os.remove(self._tmp)
        self._gif_frames = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.discard()
