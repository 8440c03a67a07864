"""Reading and writing videos.

Reading: :func:`iter_frames` (BGR frames one by one, OpenCV, for skeleton extraction and drawing) and
:func:`open_video` (chosen frames as one RGB array, for the RGB pipelines) with two back-ends:

* ``'decord'`` (PYSKL's, the ``video`` extra): ``mode='accurate'`` decodes forward to the frames asked for (PYSKL's
  ``get_batch`` seeks, and returns wrong frames on some AVIs, see :class:`DecordReader`); ``'efficient'`` seeks to
  each frame and takes the next *key* frame, as PYSKL's ``DecordDecode`` did (fast on long videos, but not the
  frames asked for unless every frame is a key frame).
* ``'opencv'`` (always installed): one pass that decodes up to the last frame asked for and converts only those
  (``'accurate'``), or a seek per frame (``'efficient'``; OpenCV's seek decodes forward from the key frame before
  it, so these are the frames asked for too). It gives decord's pixels (both decode with FFmpeg).

``backend='auto'`` takes decord where it is installed and opens the file, else OpenCV. Every failure is a
:class:`VideoError` naming the file: missing, not a video, or fewer frames than asked for (a truncated file).

Writing: :class:`VideoWriter` (mp4 with OpenCV, gif with Pillow, matplotlib's dependency), whole or not at all;
:func:`compress_video` re-encodes a video smaller (FFmpeg's H.264 when ``ffmpeg`` is on the PATH, else OpenCV).
"""
import os
import os.path as osp
import shutil
import subprocess
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .errors import UserError
from .fileio import atomic_write

BACKENDS = ('auto', 'decord', 'opencv')
DECODE_MODES = ('accurate', 'efficient')


class VideoError(UserError, RuntimeError):
    """A video that is missing or cannot be decoded; the message names the file."""


def _check_file(path: str) -> None:
    if not osp.isfile(path):
        raise VideoError(f'{path}: no such file')


def _open_capture(path: str, num_threads: int = 0) -> cv2.VideoCapture:
    """An opened OpenCV capture (FFmpeg; ``num_threads`` 0 lets FFmpeg choose), or a :class:`VideoError`."""
    _check_file(path)
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, int(num_threads)])
    if not capture.isOpened():
        capture.release()
        raise VideoError(f'{path}: OpenCV cannot open it (not a video, a truncated file, or a codec its FFmpeg build '
                         'lacks)')
    return capture


def iter_frames(path: str) -> Iterator[np.ndarray]:
    """Decode ``path`` frame by frame: BGR uint8 ``[H, W, 3]`` arrays, as many as decoding gives (a container's frame
    count is often wrong, so it is not consulted). Raises :class:`VideoError` for a missing file, one OpenCV cannot
    open, or one that yields no frame."""
    capture = _open_capture(path)
    try:
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


def _capture_properties(path: str, *props: int) -> Tuple[float, ...]:
    """The values of OpenCV's ``cv2.CAP_PROP_*`` ``props`` for a video, read from one capture (which decodes
    nothing); :func:`_open_capture`'s :class:`VideoError` where it cannot be opened."""
    capture = _open_capture(path)
    try:
        return tuple(capture.get(prop) for prop in props)
    finally:
        capture.release()


def video_fps(path: str, default: float = 30.) -> float:
    """The frame rate the container states, or ``default`` where it states none (or cannot be opened)."""
    try:
        fps, = _capture_properties(path, cv2.CAP_PROP_FPS)
    except VideoError:
        return default
    return fps if fps and np.isfinite(fps) and fps > 0 else default


def decord_available() -> bool:
    try:
        import decord  # noqa: F401
    except ImportError:
        return False
    return True


class VideoReader:
    """Chosen frames of one video as RGB uint8 ``[N, H, W, 3]``; ``num_frames`` is the video's frame count. Use as a
    context manager, or call :meth:`close`."""

    backend = ''

    def __init__(self, path: str):
        self.path = path
        self.num_frames = 0

    def frames(self, indices: Sequence[int], mode: str = 'accurate') -> np.ndarray:
        """The frames ``indices`` (any order, repeats allowed) in that order."""
        if mode not in DECODE_MODES:
            raise ValueError(f'decode mode must be one of {DECODE_MODES}, got {mode!r}')
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if indices.size == 0:
            raise ValueError(f'{self.path}: no frame indices to decode')
        if indices.min() < 0 or indices.max() >= self.num_frames:
            bad = indices[(indices < 0) | (indices >= self.num_frames)]
            raise VideoError(f'{self.path}: frame {bad[0]} was asked for, but the video has {self.num_frames} frames '
                             '(a truncated video, or an annotation whose total_frames is not the video\'s)')
        return self._frames(indices, mode)

    def _frames(self, indices: np.ndarray, mode: str) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f'{type(self).__name__}({self.path!r}, num_frames={self.num_frames})'


class DecordReader(VideoReader):
    """decord's ``VideoReader`` (its frame count is that of the packets it indexed, so a truncated file is shorter).

    ``'accurate'`` decodes forward from the first frame, keeping the frames asked for. PYSKL called ``get_batch``,
    which seeks by timestamp and, on files with unreliable timestamps, sometimes returns another frame: on
    ``ntu_sample.avi`` (an AVI with B-frames) its last frame came back as frame 0, 31 or 61-70 in 20-80 % of the
    calls, depending on the other indices (decord issue #195 reports the same on HMDB51's AVIs). Decoding forward
    gives the frames asked for, the same as ``get_batch`` where that is right. ``'efficient'`` is PYSKL's: a seek per
    frame, landing on key frames.

    With ``fallback`` (``backend='auto'``), frames decord fails to decode (e.g. from a file cut inside a packet) are
    decoded again with OpenCV, whose error then names what is wrong.
    """

    backend = 'decord'

    def __init__(self, path: str, num_threads: int = 1, fallback: bool = False):
        super().__init__(path)
        _check_file(path)
        self.num_threads, self.fallback = num_threads, fallback
        self._open()
        self.num_frames = len(self._reader)

    def _open(self):
        import decord
        try:
            self._reader = decord.VideoReader(self.path, num_threads=self.num_threads)
        except Exception as e:  # decord raises its own DECORDError (a RuntimeError) with C++ context
            raise VideoError(f'{self.path}: decord cannot open it ({_first_line(e)})') from e
        self._position = 0  # the index of the frame next() returns

    def _decode_forward(self, indices):
        wanted = np.unique(indices)
        if wanted[0] < self._position:
            self._open()  # a fresh reader rather than seek(0): no seeking at all
        decoded = {}
        for index in wanted.tolist():
            while self._position < index:  # next() converts frames it decodes; skip_frames() misses the last ones
                self._reader.next()
                self._position += 1
            decoded[index] = self._reader.next().asnumpy()
            self._position += 1
        return np.stack([decoded[index] for index in indices.tolist()])

    def _decode_key_frames(self, indices):
        self._position = self.num_frames  # after seeking, the next accurate call starts afresh
        self._reader.seek(0)
        frames = []
        for index in indices.tolist():
            self._reader.seek(index)
            frames.append(self._reader.next().asnumpy())
        return np.stack(frames)

    def _frames(self, indices, mode):
        try:
            return self._decode_forward(indices) if mode == 'accurate' else self._decode_key_frames(indices)
        except Exception as e:  # StopIteration too: decoding ended before a frame its index promised
            if not self.fallback:
                raise VideoError(f'{self.path}: decord cannot decode frames {_index_range(indices)} '
                                 f'({_first_line(e)})') from e
        with OpenCVReader(self.path, self.num_threads) as reader:
            return reader.frames(indices, mode)

    def close(self):
        self._reader = None


class OpenCVReader(VideoReader):
    """OpenCV's FFmpeg capture. The frame count is the container's (decoded through when the container states
    none); asking for a frame that does not decode (a truncated file) is a :class:`VideoError`."""

    backend = 'opencv'

    def __init__(self, path: str, num_threads: int = 1):
        super().__init__(path)
        self.num_threads = num_threads
        self._capture = _open_capture(path, num_threads)
        self._position = 0  # the index of the frame the next grab() decodes
        count = self._capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.num_frames = int(count) if count > 0 else self._count_frames()

    def _count_frames(self) -> int:
        count = 0
        while self._capture.grab():
            count += 1
        self._rewind()
        return count

    def _rewind(self):
        self._capture.release()
        self._capture = _open_capture(self.path, self.num_threads)
        self._position = 0

    def _retrieve(self, index: int) -> np.ndarray:
        ok, frame = self._capture.retrieve()
        if not ok:
            raise VideoError(f'{self.path}: frame {index} does not decode (corrupt video)')
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def _skip_to(self, index: int) -> None:
        """Decode (without converting) up to and including frame ``index``."""
        while self._position <= index:
            if not self._capture.grab():
                raise VideoError(f'{self.path}: frame {index} was asked for, but decoding stopped after '
                                 f'{self._position} of the {self.num_frames} frames the container states (a '
                                 'truncated or corrupt video)')
            self._position += 1

    def _frames(self, indices, mode):
        wanted = np.unique(indices)
        seek = mode != 'accurate'
        if not seek and wanted[0] < self._position:
            self._rewind()
        decoded = {}
        for index in wanted.tolist():
            if seek:  # OpenCV's seek decodes forward from the key frame before it: the frame asked for
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
                self._position = index
            self._skip_to(index)
            decoded[index] = self._retrieve(index)
        return np.stack([decoded[index] for index in indices.tolist()])

    def close(self):
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def _index_range(indices: np.ndarray) -> str:
    return f'{indices.min()}..{indices.max()}' if indices.size > 1 else str(indices[0])


def open_video(path: str, backend: str = 'auto', num_threads: int = 1) -> VideoReader:
    """A :class:`VideoReader` for ``path``: ``'decord'``, ``'opencv'``, or ``'auto'`` (decord where it is installed
    and opens the file, else OpenCV). Raises :class:`VideoError` naming the file."""
    if backend not in BACKENDS:
        raise ValueError(f'video backend must be one of {BACKENDS}, got {backend!r}')
    _check_file(path)
    if backend == 'opencv' or (backend == 'auto' and not decord_available()):
        return OpenCVReader(path, num_threads)
    if backend == 'decord':
        if not decord_available():
            raise ImportError("backend='decord' needs decord: pip install 'pyskl[video]' (or use backend='auto', "
                              "which falls back to OpenCV)")
        return DecordReader(path, num_threads)
    try:
        return DecordReader(path, num_threads, fallback=True)
    except VideoError as decord_error:
        try:
            return OpenCVReader(path, num_threads)
        except VideoError as opencv_error:
            reason = _first_line(decord_error.__cause__ or decord_error)
            raise VideoError(f'{opencv_error}; decord cannot open it either ({reason})') from opencv_error


def _temporary_beside(path: str) -> str:
    """A temporary name in ``path``'s folder (created), to write to and rename when complete."""
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    return osp.join(directory, f'.{osp.basename(path)}.{os.getpid()}.tmp.mp4')


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
        self._tmp = _temporary_beside(self.path)
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


# ---------------------------------------------------------------------------------------------------------------------
# Re-encoding

ENCODERS = ('auto', 'ffmpeg', 'opencv')


def ffmpeg_available() -> bool:
    return shutil.which('ffmpeg') is not None


def _concrete_encoder(encoder: str) -> str:
    """``'auto'`` made ``'ffmpeg'`` or ``'opencv'`` (whichever is available); any other name as it is."""
    if encoder == 'auto':
        return 'ffmpeg' if ffmpeg_available() else 'opencv'
    return encoder


def video_size(path: str) -> Tuple[int, int]:
    """``(width, height)`` of a video, or a :class:`VideoError`."""
    width, height = _capture_properties(path, cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT)
    size = int(width), int(height)
    if min(size) <= 0:
        raise VideoError(f'{path}: OpenCV reads no frame size from it')
    return size


def scaled_size(width: int, height: int, short_side: int) -> Tuple[int, int]:
    """The size whose short side is ``short_side`` (the long side keeps the aspect ratio, rounded to an even number
    as video encoders want, like FFmpeg's ``scale=-2:short_side``); a video already that small keeps its size
    (rounded down to even sides)."""
    if min(width, height) <= short_side:
        return width - width % 2, height - height % 2
    long_side = 2 * round(max(width, height) * short_side / min(width, height) / 2)
    return (long_side, short_side) if width >= height else (short_side, long_side)


def _compress_ffmpeg(src: str, tmp: str, size: Tuple[int, int], crf: int) -> None:
    command = ['ffmpeg', '-nostdin', '-y', '-loglevel', 'error', '-i', src, '-threads', '1', '-vf',
               f'scale={size[0]}:{size[1]}', '-c:v', 'libx264', '-crf', str(crf), '-pix_fmt', 'yuv420p', '-an', tmp]
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise VideoError(f'{src}: ffmpeg failed (exit status {done.returncode}): {done.stderr.strip()[-500:]}')


def _compress_opencv(src: str, dst: str, size: Tuple[int, int]) -> None:
    with VideoWriter(dst, video_fps(src)) as writer:  # itself written beside dst and renamed
        for frame in iter_frames(src):
            if frame.shape[1::-1] != size:
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            writer.write(frame)


def compress_video(src: str, dst: str, short_side: int = 540, encoder: str = 'auto', crf: int = 18) -> str:
    """Re-encode ``src`` into the mp4 ``dst`` with its short side scaled down to ``short_side`` (PYSKL's NTU RGB+D
    preparation: 1920x1080 to 960x540); no audio. ``dst`` appears whole or not at all.

    Args:
        encoder: ``'ffmpeg'`` (H.264 with libx264 at ``crf``, like PYSKL's ``compress_nturgbd.py``), ``'opencv'``
            (MPEG-4 part 2, ``mp4v``, at OpenCV's bit rate; needs nothing but OpenCV) or ``'auto'`` (ffmpeg when it
            is on the PATH).
        crf: x264's constant rate factor (lower is better and bigger; 18 looks lossless).

    Returns the encoder used. Raises :class:`VideoError` naming ``src`` when it cannot be read or encoded.
    """
    if encoder not in ENCODERS:
        raise ValueError(f'encoder must be one of {ENCODERS}, got {encoder!r}')
    encoder = _concrete_encoder(encoder)
    if encoder == 'ffmpeg' and not ffmpeg_available():
        raise VideoError(f"{src}: encoder='ffmpeg' but no ffmpeg is on the PATH")
    size = scaled_size(*video_size(src), short_side)
    if encoder == 'opencv':
        _compress_opencv(src, dst, size)
        return encoder
    tmp = _temporary_beside(dst)
    try:
        _compress_ffmpeg(src, tmp, size, crf)
        os.replace(tmp, dst)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return encoder


VIDEO_SUFFIXES = ('.avi', '.mp4', '.mkv', '.mov', '.webm', '.m4v', '.mpg', '.mpeg', '.wmv', '.flv')


def find_compress_jobs(src: str, dst: str, suffixes: Sequence[str] = VIDEO_SUFFIXES,
                       strip_suffix: str = '') -> List[Tuple[str, str]]:
    """``(source, output)`` pairs for every video under ``src``, sorted; errors when two sources map to one output."""
    suffixes = tuple(s.lower() for s in suffixes)
    jobs, seen = [], {}
    dst_real = osp.realpath(dst)
    for folder, subfolders, files in os.walk(src):
        # the outputs are not inputs when DST lies inside SRC
        subfolders[:] = sorted(d for d in subfolders if osp.realpath(osp.join(folder, d)) != dst_real)
        for name in sorted(files):
            stem, suffix = osp.splitext(name)
            if name.startswith('.') or suffix.lower() not in suffixes:
                continue
            if strip_suffix and stem.endswith(strip_suffix):
                stem = stem[:-len(strip_suffix)]
            source = osp.join(folder, name)
            output = osp.normpath(osp.join(dst, osp.relpath(folder, src), stem + '.mp4'))
            if output in seen:
                raise ValueError(f'{seen[output]} and {source} would both be written to {output}')
            seen[output] = source
            jobs.append((source, output))
    return jobs


def _compress(job: Tuple[str, str], height: int, encoder: str, crf: int) -> Tuple[str, Optional[str]]:
    source, output = job
    try:
        compress_video(source, output, height, encoder, crf)
    except (VideoError, OSError, ValueError) as e:
        return source, str(e) if source in str(e) else f'{source}: {e}'
    return source, None


def compress_folder(src: str, dst: str, height: int = 540, workers: int = 1, encoder: str = 'auto', crf: int = 18,
                    suffixes: Sequence[str] = VIDEO_SUFFIXES, strip_suffix: str = '', progress: bool = True) -> dict:
    """:func:`compress_video` for every video under ``src`` whose output (``dst/<subfolder>/<name>.mp4``,
    ``strip_suffix`` taken off the name) does not exist yet, ``workers`` at a time, with a progress bar. Returns
    ``dict(done=[...], skipped=[...], failed={source: reason}, encoder=...)``, the encoder ``'ffmpeg'`` or
    ``'opencv'`` when ``encoder='auto'`` (decided once for all videos); raises before any work for a missing
    ``src``, a folder without videos, or two videos that would be written to one name."""
    if not osp.isdir(src):
        raise FileNotFoundError(f'source folder {src} does not exist')
    jobs = find_compress_jobs(src, dst, suffixes, strip_suffix)
    if not jobs:
        raise ValueError(f'no video ({", ".join(suffixes)}) under {src}')
    todo = [job for job in jobs if not osp.exists(job[1])]
    encoder = _concrete_encoder(encoder)
    report = dict(done=[], skipped=[source for source, output in jobs if osp.exists(output)], failed={},
                  encoder=encoder)
    from tqdm import tqdm
    with tqdm(total=len(todo), unit='video', disable=not (progress and todo), dynamic_ncols=True) as bar:
        if workers == 1 or len(todo) <= 1:
            for job in todo:
                _record(report, bar, *_compress(job, height, encoder, crf))
        else:
            with ProcessPoolExecutor(min(workers, len(todo))) as pool:
                futures = [pool.submit(_compress, job, height, encoder, crf) for job in todo]
                for future in as_completed(futures):
                    _record(report, bar, *future.result())
    return report


def _record(report: dict, bar, source: str, error: Optional[str]) -> None:
    if error is None:
        report['done'].append(source)
    else:
        report['failed'][source] = error
        bar.write(f'failed: {error}')
    bar.update()
