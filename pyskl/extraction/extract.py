"""Skeleton annotations from videos: the video list, one video's record, and the resumable multi-process run.

The list file has one video a line: ``path [label [split]]`` (fields split by tabs if the line has one, else by
spaces; blank lines and ``#`` comments are skipped; a missing label is -1). ``frame_dir`` is the file name without
its extension and must be unique.

Every finished video is saved at once, atomically, as ``<out stem>.cache/<frame_dir>.pkl``; a rerun reuses the records
made from the same file with the same back-end settings and extracts only the rest. The annotation pickle is written
last, in the list's order: a bare list of annotations, or ``dict(split=..., annotations=...)`` when the list names
splits. A video that fails (missing, undecodable, a back-end error) is listed with its reason in
``<out stem>.report.txt``; the annotation is then only written with ``skip_failed=True`` (without those videos).
"""
import os.path as osp
import pickle
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Dict, List, Optional, Sequence, Tuple, Type, Union

import cv2
import numpy as np
from tqdm import tqdm

from pyskl.utils.errors import InputNotFoundError
from pyskl.utils.fileio import atomic_write, dump_pickle
from pyskl.utils.tracking import track_poses
from pyskl.utils.video import VideoError, iter_frames
from .backends import FramePoses, PoseBackend, build_backend


# ---------------------------------------------------------------------------------------------------------------------
# The video list

@dataclass(frozen=True)
class VideoEntry:
    path: str
    label: int
    split: Optional[str]
    frame_dir: str
    line: int


def parse_video_list(list_file: str) -> List[VideoEntry]:
    """Read a video list (see the module docstring); errors name the file and line."""
    if not osp.isfile(list_file):
        raise InputNotFoundError(f'video list {list_file} does not exist')
    entries, seen = [], {}
    with open(list_file, encoding='utf-8') as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith('#'):
                continue
            fields = [x.strip() for x in line.split('\t')] if '\t' in line else line.split()
            where = f'{list_file}, line {number}'
            if len(fields) > 3:
                raise ValueError(f'{where}: expected "path [label [split]]", got {len(fields)} fields (separate the '
                                 'fields with tabs when a path has spaces)')
            path, label, split = fields[0], -1, fields[2] if len(fields) == 3 else None
            if len(fields) >= 2:
                try:
                    label = int(fields[1])
                except ValueError:
                    raise ValueError(f'{where}: the label must be an integer class index, got {fields[1]!r}')
                if label < 0:
                    raise ValueError(f'{where}: the label must be >= 0, got {label}')
            frame_dir = osp.splitext(osp.basename(path))[0]
            if not frame_dir:
                raise ValueError(f'{where}: {path!r} names no file')
            if frame_dir in seen:
                raise ValueError(f'{where}: {path} and line {seen[frame_dir]} have the same name {frame_dir!r} '
                                 '(frame_dir, the file name without extension, must be unique)')
            seen[frame_dir] = number
            entries.append(VideoEntry(path, label, split, frame_dir, number))
    if not entries:
        raise ValueError(f'video list {list_file} names no video')
    return entries


# ---------------------------------------------------------------------------------------------------------------------
# One video

def stack_poses(poses: Sequence[FramePoses], backend: PoseBackend) -> Tuple[np.ndarray, np.ndarray]:
    """``keypoint [M, T, V, 2]`` and ``keypoint_score [M, T, V]``, zeros where nobody was found."""
    if backend.max_persons > 1:  # PYSKL's greedy tracker links the persons of consecutive frames
        return track_poses([found.keypoint for found in poses], [found.keypoint_score for found in poses],
                           max_tracks=backend.max_persons, num_joints=backend.num_joints)
    keypoint = np.zeros((1, len(poses), backend.num_joints, 2), np.float32)
    score = np.zeros((1, len(poses), backend.num_joints), np.float32)
    for t, found in enumerate(poses):
        if len(found.keypoint):
            best = int(np.argmax(found.keypoint_score.mean(-1)))
            keypoint[0, t], score[0, t] = found.keypoint[best], found.keypoint_score[best]
    return keypoint, score


def _stated_frame_count(path: str) -> Optional[int]:
    """The container's frame count (often approximate: only for a progress bar), or None."""
    capture = cv2.VideoCapture(path)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    capture.release()
    return count if count > 0 else None


def extract_video(backend: PoseBackend, path: str, dtype=np.float16, progress: bool = False) -> dict:
    """One video's skeletons: ``keypoint`` (``dtype``: float16 by default, like PYSKL's files), ``keypoint_score``,
    ``img_shape``, ``original_shape`` and ``total_frames`` (the frames decoding gave). ``progress`` shows a bar over
    the frames. Raises :class:`VideoError` naming the file."""
    shapes = set()

    def frames():
        for frame in iter_frames(path):
            shapes.add(frame.shape[:2])
            yield frame

    decoded = frames()
    if progress:
        decoded = tqdm(decoded, total=_stated_frame_count(path), unit='frame', desc=f'{backend.name} poses',
                       dynamic_ncols=True)
    poses = backend(decoded)
    if len(shapes) != 1:
        raise VideoError(f'{path}: its frames change size ({sorted(shapes)})')
    keypoint, score = stack_poses(poses, backend)
    img_shape = shapes.pop()
    return dict(total_frames=len(poses), img_shape=img_shape, original_shape=img_shape,
                keypoint=keypoint.astype(dtype), keypoint_score=score.astype(dtype))


# ---------------------------------------------------------------------------------------------------------------------
# The resumable run

def output_paths(out: str) -> Tuple[str, str]:
    """The cache folder and the report file beside the annotation ``out``."""
    stem = osp.splitext(out)[0]
    return stem + '.cache', stem + '.report.txt'


class RecordCache:
    """One pickle per finished video, reused only for the same video file and the same back-end settings."""

    def __init__(self, folder: str, settings: dict):
        self.folder, self.settings = folder, settings

    def _file(self, entry: VideoEntry) -> str:
        return osp.join(self.folder, entry.frame_dir + '.pkl')

    def _source(self, entry: VideoEntry) -> dict:
        return dict(video=osp.abspath(entry.path), backend=self.settings)

    def load(self, entry: VideoEntry) -> Optional[dict]:
        try:
            with open(self._file(entry), 'rb') as f:
                saved = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
            return None
        return saved['record'] if isinstance(saved, dict) and saved.get('source') == self._source(entry) else None

    def save(self, entry: VideoEntry, record: dict) -> None:
        dump_pickle(dict(source=self._source(entry), record=record), self._file(entry))


@dataclass
class ExtractionReport:
    out: str
    backend: dict
    num_videos: int
    reused: int = 0
    extracted: int = 0
    frames: int = 0
    seconds: float = 0.
    failed: Dict[str, str] = field(default_factory=dict)  # path -> reason (which names the file)
    nobody: List[str] = field(default_factory=list)  # videos in which the back-end found no one
    written: bool = False

    def text(self) -> str:
        speed = f', {self.frames / self.seconds:.1f} frames/s' if self.seconds > 0 and self.frames else ''
        lines = [f'annotation: {self.out} ({"written" if self.written else "NOT written"})',
                 f'back-end: {self.backend}',
                 f'videos: {self.num_videos} listed, {self.reused} from the cache, {self.extracted} extracted '
                 f'({self.frames} frames in {self.seconds:.1f}s{speed}), {len(self.failed)} failed']
        if self.failed:
            lines += ['', f'failed ({len(self.failed)}):'] + list(self.failed.values())
        if self.nobody:
            lines += ['', f'nobody found (all-zero skeletons kept) ({len(self.nobody)}):'] + self.nobody
        return '\n'.join(lines) + '\n'


_worker = {}  # the back-end and cache of a pool process


def _init_worker(backend, backend_kwargs: dict, cache: RecordCache) -> None:
    _worker.update(backend=build_backend(backend, **backend_kwargs), cache=cache)


def _run_in_worker(entry: VideoEntry):
    return _extract_and_save(_worker['backend'], _worker['cache'], entry)


def _extract_and_save(backend: PoseBackend, cache: RecordCache, entry: VideoEntry):
    """``(entry, record, None)`` or ``(entry, None, reason)``; never raises for one bad video."""
    try:
        record = extract_video(backend, entry.path)
    except VideoError as e:
        return entry, None, str(e)
    except Exception as e:  # a back-end failure on this video: listed, and the others go on
        return entry, None, f'{entry.path}: {type(e).__name__}: {e}'
    cache.save(entry, record)
    return entry, record, None


def extract_skeletons(entries: Sequence[VideoEntry], out: str, backend: Union[str, Type[PoseBackend]] = 'mediapipe',
                      backend_kwargs: Optional[dict] = None, workers: int = 1, skip_failed: bool = False,
                      progress: bool = True) -> ExtractionReport:
    """Extract every listed video into the annotation ``out`` (see the module docstring); returns the report, which
    is also written beside ``out``. ``backend`` is a name or a :class:`PoseBackend` subclass (an importable one when
    ``workers > 1``: each worker process builds its own from ``backend_kwargs``)."""
    backend_kwargs = dict(backend_kwargs or {})
    if workers < 1:
        raise ValueError(f'workers must be >= 1, got {workers}')
    cache_dir, report_file = output_paths(out)
    local = build_backend(backend, **backend_kwargs)  # fails here, before any work, if the back-end cannot run
    report = ExtractionReport(out, local.settings(), len(entries))
    cache = RecordCache(cache_dir, report.backend)

    records = {entry.frame_dir: cache.load(entry) for entry in entries}
    todo = [entry for entry in entries if records[entry.frame_dir] is None]
    report.reused = len(entries) - len(todo)
    start = time.perf_counter()
    if workers > 1 and len(todo) > 1:
        local.close()  # each worker builds its own
        results = _run_pool(todo, cache, backend, backend_kwargs, workers)
    else:
        results = (_extract_and_save(local, cache, entry) for entry in todo)
    try:
        with tqdm(total=len(todo), unit='video', disable=not (progress and todo), dynamic_ncols=True) as bar:
            for entry, record, reason in results:
                if reason is None:
                    records[entry.frame_dir] = record
                    report.extracted += 1
                    report.frames += record['total_frames']
                else:
                    report.failed[entry.path] = reason
                bar.update(1)
    finally:
        local.close()
    report.seconds = time.perf_counter() - start

    failed = {entry.frame_dir for entry in entries if records[entry.frame_dir] is None}
    annotations = [dict(frame_dir=entry.frame_dir, label=entry.label, **records[entry.frame_dir])
                   for entry in entries if entry.frame_dir not in failed]
    report.nobody = [anno['frame_dir'] for anno in annotations if not np.any(anno['keypoint_score'])]
    if annotations and (skip_failed or not failed):
        splits = {}
        for entry in entries:
            if entry.split is not None and entry.frame_dir not in failed:
                splits.setdefault(entry.split, []).append(entry.frame_dir)
        dump_pickle(dict(split=splits, annotations=annotations) if splits else annotations, out)
        report.written = True
    with atomic_write(report_file, 'w') as f:
        f.write(report.text())
    return report


def _run_pool(todo, cache, backend, backend_kwargs, workers):
    # spawn: a fresh interpreter per worker, so no model state or thread pool is inherited half-initialised
    with ProcessPoolExecutor(min(workers, len(todo)), mp_context=get_context('spawn'), initializer=_init_worker,
                             initargs=(backend, backend_kwargs, cache)) as pool:
        futures = {pool.submit(_run_in_worker, entry): entry for entry in todo}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as e:  # the worker process itself died (e.g. killed for memory)
                entry = futures[future]
                yield entry, None, f'{entry.path}: worker process failed: {type(e).__name__}: {e}'
