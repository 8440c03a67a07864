"""NTU RGB+D's official ``.skeleton`` files -> PYSKL's ``ntu60_3danno.pkl`` / ``ntu120_3danno.pkl``.

The numbers are those of PYSKL's ``tools/data/ntu_preproc.py`` (its released files were made with it):

* every frame lists its bodies; a body's joints are the first 3 numbers (x, y, z in metres) of its 25 joint lines.
  Frames with no body are skipped, so a body's frames count on the time line of frames that have somebody;
* a body's *motion* is the summed variance of its x, y and z over all its joints and frames;
* one body: it is the sample (M = 1). Otherwise bodies seen in <= 11 frames are dropped, then "spread" noise (frames
  whose skeleton is wider than 0.8 x its height; a body with >= 69.754 % such frames is dropped, the others keep the
  smaller of their motion and their motion over the upright frames); one body left: M = 1;
* otherwise the bodies, most moving first, go into 2 person slots: a body takes slot 0 if its frames do not overlap
  the span slot 0 already covers, else slot 1 likewise, else it is dropped; leading and trailing frames where both
  slots are empty are cut, and the slots are swapped when only slot 1 is present in the first frame;
* ``keypoint`` float16 ``[M, T, 25, 3]``, ``label = A### - 1``, ``total_frames = T``; no score, no image shape.

Splits: xsub (PYSKL's training subjects), xview (camera 1 is val) for NTU-60, xset (even setups train) for NTU-120.
"""
import multiprocessing as mp
import os
import os.path as osp
import pickle
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from pyskl.utils.errors import InputNotFoundError, UserError
from pyskl.utils.fileio import dump_pickle

NUM_JOINTS = 25
MIN_BODY_FRAMES = 12          # bodies seen in <= 11 frames are noise
SPREAD_WH_RATIO = 0.8         # a frame is "spread" when x-extent > 0.8 * y-extent
SPREAD_NOISE_RATIO = 0.69754  # bodies with >= 69.754 % spread frames are noise
EMPTY_EPS = 1e-3              # a frame is empty when the summed |coordinates| of both slots is below this

XSUB_TRAIN_SUBJECTS = frozenset([
    1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38, 45, 46, 47, 49, 50, 52, 53, 54, 55, 56,
    57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103])

_NAME = re.compile(r'S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})')


class SkeletonFileError(UserError, ValueError):
    """A ``.skeleton`` file that does not follow the official format; the message names the file and the line."""


@dataclass
class Body:
    keypoint: np.ndarray  # [t, 25, 3] float32, the frames the body is seen in
    start: int            # index of its first frame (on the time line of frames with somebody)
    motion: float


# ----------------------------------------------------------------------------------------------------------------
# Reading a .skeleton file
# ----------------------------------------------------------------------------------------------------------------
def parse_name(name: str) -> Dict[str, int]:
    """``'S001C002P003R002A013'`` -> ``dict(setup=1, camera=2, subject=3, replication=2, action=13)``."""
    match = _NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"'{name}' is not an NTU RGB+D sample name (SsssCcccPpppRrrrAaaa)")
    return dict(zip(('setup', 'camera', 'subject', 'replication', 'action'), map(int, match.groups())))


def _body_motion(keypoint: np.ndarray) -> float:
    return np.var(keypoint.reshape(-1, 3), axis=0).sum()


def read_skeleton_file(path: str) -> List[Body]:
    """The bodies of one ``.skeleton`` file, in order of first appearance."""
    with open(path) as f:
        lines = [(number, text) for number, text in enumerate(f, 1) if text.strip()]
    cursor = 0

    def fail(what: str, at: Optional[int] = None):
        if at is None:
            at = cursor
        where = f'line {lines[at][0]}' if at < len(lines) else 'end of file'
        raise SkeletonFileError(f'{path}: {where}: {what}')

    def take_int(what: str) -> int:
        nonlocal cursor
        if cursor >= len(lines):
            fail(f'file ends where {what} should be')
        try:
            value = int(lines[cursor][1].split()[0])
        except ValueError:
            fail(f'expected {what} (an integer), got {lines[cursor][1].strip()!r}')
        cursor += 1
        return value

    frames: Dict[int, List[np.ndarray]] = {}  # body id -> joints per frame; dicts keep first-appearance order
    starts: Dict[int, int] = {}
    num_frames = take_int('the number of frames')
    frame = 0
    for _ in range(num_frames):
        num_bodies = take_int('the number of bodies')
        for _ in range(num_bodies):
            body_id = take_int('a body line (bodyID first)')
            num_joints = take_int('the number of joints')
            if num_joints != NUM_JOINTS:
                fail(f'a body must have {NUM_JOINTS} joints, got {num_joints}', cursor - 1)
            if cursor + NUM_JOINTS > len(lines):
                fail(f'file ends inside a body (needs {NUM_JOINTS} joint lines)', len(lines))
            rows = [text.split()[:3] for _, text in lines[cursor:cursor + NUM_JOINTS]]
            for offset, row in enumerate(rows):
                if len(row) < 3:
                    fail(f'a joint line needs at least x, y, z, got {lines[cursor + offset][1].strip()!r}',
                         cursor + offset)
            try:
                joints = np.array(rows, dtype=np.float32)
            except ValueError:
                bad = next(i for i, row in enumerate(rows) if not _all_numbers(row))
                fail(f'joint x, y, z must be numbers, got {lines[cursor + bad][1].strip()!r}', cursor + bad)
            cursor += NUM_JOINTS
            starts.setdefault(body_id, frame)
            frames.setdefault(body_id, []).append(joints)
        if num_bodies > 0:
            frame += 1
    if cursor != len(lines):
        fail(f'unexpected content after the {num_frames} frames the file announces')
    bodies = []
    for body_id, joints in frames.items():
        keypoint = np.stack(joints)
        bodies.append(Body(keypoint, starts[body_id], _body_motion(keypoint)))
    return bodies


def _all_numbers(row) -> bool:
    try:
        [float(x) for x in row]
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------------------------------------------
# Choosing the persons
# ----------------------------------------------------------------------------------------------------------------
def _upright_frames(keypoint: np.ndarray) -> np.ndarray:
    """Frames whose x-extent is at most 0.8 x the y-extent (the rest are 'spread' noise)."""
    extent = keypoint.max(1) - keypoint.min(1)  # [t, 3], float32
    # PYSKL multiplied NumPy 1.x float32 scalars by a Python float, which computes in float64.
    return extent[:, 0] <= SPREAD_WH_RATIO * extent[:, 1].astype(np.float64)


def drop_spread_noise(bodies: List[Body]) -> List[Body]:
    """Drop mostly-spread bodies; the others keep min(motion, motion over their upright frames)."""
    kept = []
    for body in bodies:
        upright = _upright_frames(body.keypoint)
        num_upright, num_frames = int(upright.sum()), len(upright)
        if num_upright == num_frames:
            kept.append(body)
        elif 1 - num_upright / num_frames < SPREAD_NOISE_RATIO:
            kept.append(Body(body.keypoint, body.start, min(body.motion, _body_motion(body.keypoint[upright]))))
    return kept


def _by_motion(bodies: List[Body]) -> List[Body]:
    return sorted(bodies, key=lambda body: -body.motion)  # stable: equal motions keep their order


def _place_in_two_slots(bodies: List[Body]) -> np.ndarray:
    """Greedy placement into 2 person slots by non-overlapping time spans -> ``[2, T, 25, 3]``."""
    num_frames = max(body.start + len(body.keypoint) for body in bodies)
    keypoint = np.zeros((2, num_frames, NUM_JOINTS, 3), np.float32)
    first = bodies[0]
    # Slot 1's span starts as (0, 0), so once used it covers frames 0 .. its end (PYSKL's rule, kept for its numbers).
    spans = [[first.start, first.start + len(first.keypoint)], [0, 0]]
    keypoint[0, spans[0][0]:spans[0][1]] = first.keypoint
    for body in bodies[1:]:
        start, end = body.start, body.start + len(body.keypoint)
        for slot, span in enumerate(spans):
            if max(span[0], start) >= min(span[1], end):  # no overlap
                keypoint[slot, start:end] = body.keypoint
                span[:] = min(span[0], start), max(span[1], end)
                break
    return keypoint


def _trim_empty_frames(keypoint: np.ndarray) -> np.ndarray:
    present = np.abs(keypoint).sum(axis=(0, 2, 3)) >= EMPTY_EPS
    first, last = np.argmax(present), len(present) - np.argmax(present[::-1])
    return keypoint[:, first:last]


def select_persons(bodies: List[Body]) -> np.ndarray:
    """PYSKL's choice of persons: ``[M, T, 25, 3]`` float32 (M = 1 or 2) from a file's bodies."""
    if not bodies:
        raise ValueError('no body to select from')
    bodies = _by_motion(bodies)
    if len(bodies) == 1:
        return bodies[0].keypoint[None]
    # PYSKL stops with an assertion when a filter leaves no body (never on NTU's files); the filter is skipped then.
    bodies = [body for body in bodies if len(body.keypoint) >= MIN_BODY_FRAMES] or bodies
    if len(bodies) == 1:
        return bodies[0].keypoint[None]
    bodies = _by_motion(drop_spread_noise(bodies) or bodies)
    if len(bodies) == 1:
        return bodies[0].keypoint[None]
    keypoint = _trim_empty_frames(_place_in_two_slots(bodies))
    spine = np.abs(keypoint[:, 0, 1]).sum(-1)  # joint 1 (spine middle) in the first frame, per slot
    if spine[0] < EMPTY_EPS and spine[1] > EMPTY_EPS:
        keypoint = keypoint[::-1]
    return keypoint


def skeleton_annotation(path: str) -> Optional[dict]:
    """One sample's annotation from its ``.skeleton`` file; ``None`` when no frame has a body."""
    name = osp.basename(path).split('.')[0]
    label = parse_name(name)['action'] - 1
    bodies = read_skeleton_file(path)
    if not bodies:
        return None
    keypoint = select_persons(bodies).astype(np.float16)
    return dict(frame_dir=name, label=label, keypoint=keypoint, total_frames=keypoint.shape[1])


# ----------------------------------------------------------------------------------------------------------------
# Splits and files
# ----------------------------------------------------------------------------------------------------------------
def ntu_splits(names: Iterable[str], benchmark: str) -> Dict[str, List[str]]:
    """PYSKL's splits: ``benchmark='ntu60'`` -> xsub/xview, ``'ntu120'`` -> xsub/xset (names keep their order)."""
    if benchmark not in ('ntu60', 'ntu120'):
        raise ValueError(f"benchmark must be 'ntu60' or 'ntu120', got {benchmark!r}")
    split = {key: [] for key in ('xsub_train', 'xsub_val')}
    second = 'xview' if benchmark == 'ntu60' else 'xset'
    split.update({f'{second}_train': [], f'{second}_val': []})
    for name in names:
        info = parse_name(name)
        split['xsub_train' if info['subject'] in XSUB_TRAIN_SUBJECTS else 'xsub_val'].append(name)
        if benchmark == 'ntu60':
            split['xview_val' if info['camera'] == 1 else 'xview_train'].append(name)
        else:
            split['xset_train' if info['setup'] % 2 == 0 else 'xset_val'].append(name)
    return split


def read_name_list(path: str) -> List[str]:
    """Sample names, one per line; blank lines and lines that are no sample name (a header) are skipped."""
    with open(path) as f:
        return [line.strip() for line in f if _NAME.fullmatch(line.strip())]


def _cache_key(path: str) -> Tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def _convert_one(job: Tuple[str, Optional[str]]):
    """Worker: parse one file (or read its cached result). Returns ``(name, annotation or None, error or None)``."""
    path, cache_file = job
    name = osp.basename(path).split('.')[0]
    key = _cache_key(path)
    if cache_file is not None and osp.isfile(cache_file):
        try:
            with open(cache_file, 'rb') as f:
                cached = pickle.load(f)
            if cached['source'] == key:
                return name, cached['annotation'], None
        except Exception:  # an unreadable cache entry is simply redone
            pass
    try:
        annotation = skeleton_annotation(path)
    except SkeletonFileError as e:
        return name, None, str(e)
    except ValueError as e:
        return name, None, f'{path}: {e}'
    if cache_file is not None:
        dump_pickle(dict(source=key, annotation=annotation), cache_file)
    return name, annotation, None


@dataclass
class NTUConversion:
    written: Dict[str, str]      # 'ntu60' / 'ntu120' -> file
    num_samples: Dict[str, int]  # samples per written file
    skipped_missing: List[str]   # on the missing-skeleton list
    empty: List[str]             # files without any body
    errors: List[str]            # malformed files (with skip_bad=True)


def convert_ntu_skeletons(skeleton_dir: str, out_dir: str, missing: Iterable[str] = (), num_workers: int = 1,
                          cache_dir: Optional[str] = None, skip_bad: bool = False,
                          progress: bool = True) -> NTUConversion:
    """Parse every ``*.skeleton`` in ``skeleton_dir`` and write ``ntu60_3danno.pkl`` (and ``ntu120_3danno.pkl`` when
    an action above 60 is present) into ``out_dir``, atomically.

    ``missing``: sample names to leave out (PYSKL's ``ntu120_missing.txt``). ``cache_dir``: each file's result is kept
    there, so a rerun (after a crash or a kill) parses only the files not done yet (or changed since). A malformed
    file raises :class:`SkeletonFileError` naming the file and the line, after every other file was parsed; with
    ``skip_bad=True`` such files are listed in the result and left out instead.
    """
    if not osp.isdir(skeleton_dir):
        raise InputNotFoundError(f'skeleton folder {skeleton_dir} does not exist')
    missing = set(missing)
    names = sorted(f[:-len('.skeleton')] for f in os.listdir(skeleton_dir) if f.endswith('.skeleton'))
    if not names:
        raise FileNotFoundError(f'no .skeleton files in {skeleton_dir}')
    for name in names:
        parse_name(name)  # a stray file fails here, before any work
    skipped = [name for name in names if name in missing]
    names = [name for name in names if name not in missing]
    if cache_dir is not None:
        os.makedirs(cache_dir, exist_ok=True)
    jobs = [(osp.join(skeleton_dir, f'{name}.skeleton'),
             None if cache_dir is None else osp.join(cache_dir, f'{name}.pkl')) for name in names]

    annotations, errors = {}, {}
    for name, annotation, error in _run(jobs, num_workers, progress):
        if error is not None:
            errors[name] = error
        else:
            annotations[name] = annotation
    if errors and not skip_bad:
        listing = '\n  '.join(errors[name] for name in sorted(errors))
        cached = '; the other files are cached' if cache_dir is not None else ''
        raise SkeletonFileError(f'{len(errors)} malformed .skeleton file(s) (fix or remove them and rerun, or skip '
                                f'them with skip_bad{cached}):\n  {listing}')

    # PYSKL kept files without any body as None entries (its filter tested the dict, not the entry); they are dropped.
    empty = [name for name in names if name in annotations and annotations[name] is None]
    good = [name for name in names if annotations.get(name) is not None]
    written, counts = {}, {}
    if any(parse_name(name)['action'] > 60 for name in good):
        written['ntu120'], counts['ntu120'] = _write(out_dir, 'ntu120', good, annotations)
    ntu60 = [name for name in good if parse_name(name)['action'] <= 60]
    written['ntu60'], counts['ntu60'] = _write(out_dir, 'ntu60', ntu60, annotations)
    return NTUConversion(written, counts, skipped, empty, [errors[name] for name in sorted(errors)])


def _run(jobs, num_workers: int, progress: bool):
    from tqdm import tqdm
    bar = tqdm(total=len(jobs), desc='Parsing .skeleton files', unit='file', disable=not progress)
    try:
        if num_workers <= 1:
            for job in jobs:
                yield _convert_one(job)
                bar.update()
        else:
            with mp.get_context('spawn').Pool(num_workers) as pool:
                for result in pool.imap_unordered(_convert_one, jobs, chunksize=16):
                    yield result
                    bar.update()
    finally:
        bar.close()


def _write(out_dir: str, benchmark: str, names: List[str], annotations: Dict[str, dict]) -> Tuple[str, int]:
    path = osp.join(out_dir, f'{benchmark}_3danno.pkl')
    dump_pickle(dict(split=ntu_splits(names, benchmark), annotations=[annotations[name] for name in names]), path)
    return path, len(names)
