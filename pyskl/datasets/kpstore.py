"""Kinetics-400's skeletons without a server: the kpfiles of one split packed into one memory-mapped file.

PYSKL's K400 annotation is a table of contents: each entry names the "kpfile" that holds its skeletons (``raw_file``,
a pickle ``{frame_dir: {'keypoint': [N, V, 3]}}``, x, y, score of N skeletons), and PYSKL served them from a memcached
server. Here the first process that needs them packs the skeletons of the split's entries, in entry order, into
``<annotation>.kpstore/<split>-<digest>.bin`` (float16 ``[sum of N, V, 3]``, the dtype ``DecompressPose`` outputs)
plus an index ``<split>.index.npz`` (each entry's first row and row count). Both files are written atomically; a
lock lets one process build while the others wait. Every process then maps the file read-only, so the operating
system's page cache holds the skeletons once however many dataloader workers read them, and nothing is unpickled per
sample. The digest covers the entries (``frame_dir``, ``raw_file``) and each kpfile's size and modification time: a
changed kpfile or split builds a new store.

``raw_file`` may be absolute, relative to the working directory (as PYSKL read it), or relative to the annotation
file's folder.
"""
import contextlib
import hashlib
import os
import os.path as osp
import pickle
import re
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from pyskl.utils.errors import UserError
from pyskl.utils.fileio import atomic_write

STORE_DTYPE = np.float16
_FORMAT_VERSION = 1  # part of the digest: a new layout never reads an old store


class KeypointStoreError(UserError, ValueError):
    """A kpfile is missing or does not hold what the annotation says; the message names the kpfile and sample."""


def resolve_kpfile(raw_file: str, ann_file: str) -> Optional[str]:
    """The kpfile's path: as given (absolute, or relative to the working directory), else relative to the annotation
    file's folder; ``None`` if neither exists."""
    if osp.isfile(raw_file):
        return osp.abspath(raw_file)
    beside = osp.join(osp.dirname(osp.abspath(ann_file)), raw_file)
    if not osp.isabs(raw_file) and osp.isfile(beside):
        return beside
    return None


def default_cache_dir(ann_file: str) -> str:
    """``<dir>/<name>.kpstore`` beside ``<dir>/<name>.pkl``."""
    return osp.splitext(osp.abspath(ann_file))[0] + '.kpstore'


@contextlib.contextmanager
def _exclusive(lock_file: str):
    """An advisory lock between processes (POSIX ``flock``; no lock where it is unavailable)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: concurrent builders still write atomically, the last one wins
        yield
        return
    with open(lock_file, 'a') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class KeypointStore:
    """The skeletons ``[N_i, V, 3]`` of entries ``0 .. len - 1``, read from a memory-mapped file.

    Build or open one with :meth:`open_or_build`. ``get(i)`` returns a fresh, writable float16 copy. Pickling (e.g.
    for ``spawn`` dataloader workers) carries the file name, never the data; each process maps the file itself.
    """

    def __init__(self, data_file: str, starts: np.ndarray, counts: np.ndarray, num_joints: int):
        self.data_file = data_file
        self.starts, self.counts = starts, counts
        self.num_joints = int(num_joints)
        self._rows = None

    @property
    def num_rows(self) -> int:
        return int(self.counts.sum())

    def __len__(self) -> int:
        return len(self.starts)

    def get(self, index: int) -> np.ndarray:
        if self._rows is None:
            self._rows = self._map()
        start = self.starts[index]
        return np.array(self._rows[start:start + self.counts[index]])

    def _map(self) -> np.ndarray:
        shape = (self.num_rows, self.num_joints, 3)
        if self.num_rows == 0:  # an empty file cannot be mapped
            return np.zeros(shape, STORE_DTYPE)
        return np.memmap(self.data_file, dtype=STORE_DTYPE, mode='r', shape=shape)

    def __getstate__(self):
        state = dict(self.__dict__)
        state['_rows'] = None
        return state

    # -- building -------------------------------------------------------------------------------------------------
    @classmethod
    def open_or_build(cls, entries: Sequence[dict], ann_file: str, name: str,
                      cache_dir: Optional[str] = None) -> 'KeypointStore':
        """The store of ``entries`` (dicts with ``frame_dir``, ``raw_file`` and ``frame_inds``), built on first use.

        Args:
            entries: The annotation entries whose skeletons live in kpfiles, in the order ``get`` indexes them.
            ann_file: The annotation file (relative ``raw_file`` paths may be relative to its folder).
            name: Names the store within the cache folder (the split).
            cache_dir: Where the store goes; default ``<annotation>.kpstore`` beside the annotation.
        """
        kpfiles = cls._kpfiles(entries, ann_file)
        digest = cls._digest(entries, kpfiles)
        cache_dir = cache_dir or default_cache_dir(ann_file)
        name = re.sub(r'[^\w.-]', '_', name)
        index_file = osp.join(cache_dir, f'{name}.index.npz')
        store = cls._open(index_file, digest, cache_dir)
        if store is None:
            try:
                os.makedirs(cache_dir, exist_ok=True)
                with _exclusive(osp.join(cache_dir, f'{name}.lock')):
                    store = cls._open(index_file, digest, cache_dir)  # another process may have built it meanwhile
                    if store is None:
                        data_file = osp.join(cache_dir, f'{name}-{digest}.bin')
                        store = cls._build(entries, kpfiles, ann_file, index_file, data_file, digest)
                        _remove_stale(cache_dir, name, keep=data_file)
            except PermissionError as e:
                raise PermissionError(f'cannot write the keypoint store of {ann_file} in {cache_dir} ({e}); pass '
                                      'PoseDataset(kpstore_dir=...) a writable folder') from e
        if len(store) != len(entries):
            raise RuntimeError(f'{index_file} indexes {len(store)} entries, expected {len(entries)}')
        return store

    @staticmethod
    def _kpfiles(entries: Sequence[dict], ann_file: str) -> Dict[str, str]:
        """``{raw_file: resolved path}``; a missing kpfile (or ``frame_inds``) is an error naming the sample."""
        found = {}
        for entry in entries:
            if 'frame_inds' not in entry:
                raise KeypointStoreError(f"{ann_file}: sample '{entry['frame_dir']}': a 'raw_file' entry needs "
                                         "'frame_inds' (the frame of each skeleton)")
            raw_file = entry['raw_file']
            if raw_file in found:
                continue
            path = resolve_kpfile(raw_file, ann_file)
            if path is None:
                beside = osp.join(osp.dirname(osp.abspath(ann_file)), raw_file)
                raise KeypointStoreError(f"{ann_file}: sample '{entry['frame_dir']}': kpfile {raw_file!r} does not "
                                         f'exist (looked in the working directory and at {beside})')
            found[raw_file] = path
        return found

    @staticmethod
    def _digest(entries: Sequence[dict], kpfiles: Dict[str, str]) -> str:
        sha = hashlib.sha1(f'kpstore v{_FORMAT_VERSION}\n'.encode())
        for entry in entries:
            sha.update(f"{entry['frame_dir']}\0{entry['raw_file']}\n".encode())
        for raw_file, path in kpfiles.items():
            stat = os.stat(path)
            sha.update(f'{raw_file}\0{stat.st_size}\0{stat.st_mtime_ns}\n'.encode())
        return sha.hexdigest()[:16]

    @classmethod
    def _open(cls, index_file: str, digest: str, cache_dir: str) -> Optional['KeypointStore']:
        """The store described by ``index_file`` if it is complete and made from the same inputs, else ``None``."""
        if not osp.isfile(index_file):
            return None
        with np.load(index_file, allow_pickle=False) as index:
            if str(index['digest']) != digest:
                return None
            starts, counts = index['starts'], index['counts']
            num_joints, data_file = int(index['num_joints']), osp.join(cache_dir, str(index['data_file']))
        expected = int(counts.sum()) * num_joints * 3 * np.dtype(STORE_DTYPE).itemsize
        if not osp.isfile(data_file) or osp.getsize(data_file) != expected:
            return None
        return cls(data_file, starts, counts, num_joints)

    @classmethod
    def _build(cls, entries: Sequence[dict], kpfiles: Dict[str, str], ann_file: str, index_file: str,
               data_file: str, digest: str) -> 'KeypointStore':
        from tqdm import tqdm

        by_kpfile: Dict[str, List[int]] = {}
        for i, entry in enumerate(entries):
            by_kpfile.setdefault(entry['raw_file'], []).append(i)
        starts = np.zeros(len(entries), np.int64)
        counts = np.zeros(len(entries), np.int64)
        num_joints, row = None, 0
        print_log(f'{ann_file}: packing the skeletons of {len(entries)} samples from {len(by_kpfile)} kpfiles into '
                  f'{data_file} (once)', logger='current')
        with atomic_write(data_file, 'wb') as out:
            for raw_file, members in tqdm(by_kpfile.items(), desc='Packing kpfiles', unit='kpfile'):
                content = _load_kpfile(kpfiles[raw_file])
                for i in members:
                    keypoint = _skeletons_of(content, entries[i], kpfiles[raw_file])
                    if num_joints is None:
                        num_joints = keypoint.shape[1]
                    elif keypoint.shape[1] != num_joints:
                        raise KeypointStoreError(f"kpfile {kpfiles[raw_file]}: sample '{entries[i]['frame_dir']}' has "
                                                 f'V={keypoint.shape[1]} joints, earlier samples have {num_joints}')
                    out.write(np.ascontiguousarray(keypoint, dtype=STORE_DTYPE).tobytes())
                    starts[i], counts[i] = row, len(keypoint)
                    row += len(keypoint)
                del content
        num_joints = 17 if num_joints is None else num_joints
        with atomic_write(index_file, 'wb') as f:
            np.savez(f, starts=starts, counts=counts, num_joints=np.int64(num_joints), digest=np.str_(digest),
                     data_file=np.str_(osp.basename(data_file)))
        return cls(data_file, starts, counts, num_joints)


def _remove_stale(cache_dir: str, name: str, keep: str) -> None:
    """Delete the older stores of ``name`` (processes still mapping one keep reading it: POSIX unlink)."""
    pattern = re.compile(re.escape(name) + r'-[0-9a-f]{16}\.bin')
    for file in os.listdir(cache_dir):
        path = osp.join(cache_dir, file)
        if pattern.fullmatch(file) and path != keep:
            with contextlib.suppress(OSError):
                os.remove(path)


def _load_kpfile(path: str) -> dict:
    try:
        with open(path, 'rb') as f:
            content = pickle.load(f)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError) as e:
        raise KeypointStoreError(f'kpfile {path} is not a readable pickle: {type(e).__name__}: {e}') from e
    if not isinstance(content, dict):
        raise KeypointStoreError(f'kpfile {path} must hold a dict {{frame_dir: {{"keypoint": [N, V, 3]}}}}, got '
                                 f'{type(content).__name__}')
    return content


def _skeletons_of(content: dict, entry: dict, path: str) -> np.ndarray:
    """``entry``'s ``keypoint [N, V, 3]`` from a kpfile's content, checked against the entry's ``frame_inds``."""
    frame_dir = entry['frame_dir']
    if frame_dir not in content:
        raise KeypointStoreError(f"kpfile {path} has no entry for sample '{frame_dir}' (it holds {len(content)} "
                                 'samples)')
    pack = content[frame_dir]
    keypoint = pack.get('keypoint') if isinstance(pack, dict) else None
    if not isinstance(keypoint, np.ndarray) or keypoint.ndim != 3 or keypoint.shape[-1] != 3:
        shape = getattr(keypoint, 'shape', type(keypoint).__name__)
        raise KeypointStoreError(f"kpfile {path}: sample '{frame_dir}': expected {{'keypoint': [N, V, 3] array}} "
                                 f'(x, y, score of N skeletons), got {shape}')
    if len(entry['frame_inds']) != len(keypoint):
        raise KeypointStoreError(f"kpfile {path}: sample '{frame_dir}' has {len(keypoint)} skeletons but its "
                                 f"'frame_inds' lists {len(entry['frame_inds'])}")
    return keypoint


__all__ = ['KeypointStore', 'KeypointStoreError', 'resolve_kpfile', 'default_cache_dir']
