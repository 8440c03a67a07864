"""Your skeletons -> PYSKL's annotation file: OpenPose JSON folders, mmpose / MediaPipe JSON, plain numpy arrays.

Each reader turns one sample (a video) into ``keypoint [M, T, V, C]`` (+ ``keypoint_score [M, T, V]``, ``img_shape``
where known); :func:`build_annotations` adds the labels and splits from a CSV (``name,label[,split]``) and
:func:`write_annotations` writes the pickle atomically. ``tools/data/convert_skeletons.py`` is the command line.

Pose-estimator outputs list the persons of each frame in no particular order; they are linked into M tracks with
PYSKL's tracker (:mod:`pyskl.utils.tracking`), keeping the ``max_persons`` longest.

The JSON schema :func:`read_pose_json` accepts (what mmpose and MediaPipe scripts dump):

* top level: a list of frames, or a dict with the frames under ``frames`` or ``instance_info`` (mmpose's
  ``--save-predictions``), and optionally ``img_shape: [h, w]``;
* a frame: a list of persons, or a dict with the persons under ``instances`` (mmpose), ``predictions`` (mmpose's
  inferencer: a list of lists of persons; the first is used) or ``persons``; a ``frame_id`` on every frame places it
  (ids not listed between the first and the last are frames with nobody);
* a person: mmpose style ``{"keypoints": [[x, y], ...], "keypoint_scores": [s, ...]}`` in pixels (``keypoints`` rows
  may be ``[x, y, score]``; no score means 1), or MediaPipe style: a list of landmarks ``{"x": .., "y": ..,
  "visibility": ..}`` (or ``{"landmarks": [...]}``) in normalised [0, 1] image coordinates; the score is
  ``visibility`` (else ``presence``, else 1). With an ``img_shape`` the normalised coordinates become pixels;
  without, they stay in [0, 1] with ``img_shape = (1, 1)`` (``PreNormalize2D`` then maps them to [-1, 1]).
"""
import csv
import glob
import json
import math
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from pyskl.extraction.backends import MEDIAPIPE_POSE_TO_COCO  # MediaPipe Pose's 33 landmarks -> COCO-17
from pyskl.utils.errors import UserError
from pyskl.utils.fileio import dump_pickle
from pyskl.utils.label_maps import label_map_beside, write_label_map
from pyskl.utils.tracking import track_poses

# OpenPose BODY_25 -> OpenPose COCO-18 (PYSKL's 'openpose' layout): drop MidHip (8) and the 6 foot points.
BODY25_TO_OPENPOSE = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
JOINT_MAPS = {'body25_to_openpose': BODY25_TO_OPENPOSE, 'mediapipe_pose_to_coco': MEDIAPIPE_POSE_TO_COCO}

# OpenPose BODY_25 kept whole: a custom layout for configs (graph_cfg=dict(layout=BODY25_LAYOUT, ...)).
BODY25_LAYOUT = dict(
    name='body25', num_node=25, center=1,
    inward=[(8, 1), (2, 1), (5, 1), (3, 2), (4, 3), (6, 5), (7, 6), (9, 8), (10, 9), (11, 10), (12, 8), (13, 12),
            (14, 13), (0, 1), (15, 0), (17, 15), (16, 0), (18, 16), (19, 14), (20, 19), (21, 14), (22, 11), (23, 22),
            (24, 11)],
    left=[5, 6, 7, 12, 13, 14, 16, 18, 19, 20, 21], right=[2, 3, 4, 9, 10, 11, 15, 17, 22, 23, 24])


class ConversionError(UserError, ValueError):
    """Input that cannot be converted; the message names the file (and the sample or line)."""


# ----------------------------------------------------------------------------------------------------------------
# Readers: one sample each
# ----------------------------------------------------------------------------------------------------------------
def _load_json(path: str):
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ConversionError(f'{path}: not valid JSON: {e}') from e


def _tracked(keypoints, scores, path, max_persons, max_gap, img_shape=None) -> dict:
    if not keypoints:
        raise ConversionError(f'{path}: no frame')
    if not any(len(k) for k in keypoints):
        raise ConversionError(f'{path}: nobody is detected in any of its {len(keypoints)} frames')
    keypoint, score = track_poses(keypoints, scores, max_tracks=max_persons, max_gap=max_gap)
    sample = dict(keypoint=keypoint, keypoint_score=score, total_frames=keypoint.shape[1])
    if img_shape is not None:
        sample.update(img_shape=tuple(img_shape), original_shape=tuple(img_shape))
    return sample


def _frame_index(path: str) -> Tuple[int, str]:
    match = re.search(r'(\d+)_keypoints\.json$', osp.basename(path))
    return (int(match.group(1)) if match else -1, osp.basename(path))


def read_openpose_folder(folder: str, max_persons: int = 2, keep_body25: bool = False, max_gap: int = 30,
                         img_shape: Optional[Sequence[int]] = None) -> dict:
    """One video's OpenPose output (``*_keypoints.json``, one per frame) -> a tracked sample.

    BODY_25 output is mapped to the 18 joints of PYSKL's ``openpose`` layout, unless ``keep_body25`` (layout
    :data:`BODY25_LAYOUT`); COCO-18 output is the ``openpose`` layout already.
    """
    files = sorted(glob.glob(osp.join(folder, '*_keypoints.json')), key=_frame_index)
    if not files:
        raise ConversionError(f'{folder}: no *_keypoints.json file')
    keypoints, scores, num_joints = [], [], None
    for path in files:
        people = _load_json(path).get('people', [])
        poses = []
        for i, person in enumerate(people):
            flat = np.asarray(person.get('pose_keypoints_2d', []), np.float32)
            if flat.size % 3 or flat.size // 3 not in (18, 25):
                raise ConversionError(f'{path}: person {i}: pose_keypoints_2d has {flat.size} numbers; BODY_25 has '
                                      '75 (25 joints x (x, y, c)) and COCO-18 has 54')
            poses.append(flat.reshape(-1, 3))
        if poses:
            if num_joints is None:
                num_joints = len(poses[0])
            if any(len(pose) != num_joints for pose in poses):
                raise ConversionError(f'{path}: persons with {sorted({len(p) for p in poses})} joints; earlier frames '
                                      f'have {num_joints}')
        pose = np.stack(poses) if poses else np.zeros((0, num_joints or 18, 3), np.float32)
        if pose.shape[1] == 25 and not keep_body25:
            pose = pose[:, BODY25_TO_OPENPOSE]
        keypoints.append(pose[..., :2])
        scores.append(pose[..., 2])
    return _tracked(keypoints, scores, folder, max_persons, max_gap, img_shape)


def _json_frames(data, path: str):
    """The frame list and the file's img_shape (or None)."""
    img_shape = None
    if isinstance(data, dict):
        img_shape = data.get('img_shape')
        for key in ('frames', 'instance_info'):
            if key in data:
                data = data[key]
                break
        else:
            raise ConversionError(f"{path}: a dict file needs its frames under 'frames' or 'instance_info'; found "
                                  f'keys {sorted(data)}')
    if not isinstance(data, list):
        raise ConversionError(f'{path}: frames must be a list, got {type(data).__name__}')
    return data, img_shape


def _frame_persons(frame, path: str, index: int) -> list:
    if isinstance(frame, list):
        return frame
    if isinstance(frame, dict):
        if 'instances' in frame:
            return frame['instances']
        if 'persons' in frame:
            return frame['persons']
        if 'predictions' in frame:
            predictions = frame['predictions']
            return predictions[0] if predictions and isinstance(predictions[0], list) else predictions
    raise ConversionError(f"{path}: frame {index}: expected a list of persons or a dict with 'instances', "
                          f"'predictions' or 'persons', got {type(frame).__name__}")


def _person_pose(person, path: str, index: int) -> Tuple[np.ndarray, bool]:
    """``[V, 3]`` (x, y, score) and whether the coordinates are normalised (MediaPipe)."""
    where = f'{path}: frame {index}'
    if isinstance(person, dict) and 'keypoints' in person:  # mmpose
        keypoints = np.asarray(person['keypoints'], np.float32)
        if keypoints.ndim != 2 or keypoints.shape[1] not in (2, 3):
            raise ConversionError(f"{where}: 'keypoints' must be [[x, y], ...] or [[x, y, score], ...], got shape "
                                  f'{keypoints.shape}')
        if 'keypoint_scores' in person:
            score = np.asarray(person['keypoint_scores'], np.float32).reshape(-1)
            if len(score) != len(keypoints):
                raise ConversionError(f"{where}: {len(keypoints)} keypoints but {len(score)} keypoint_scores")
        else:
            score = keypoints[:, 2] if keypoints.shape[1] == 3 else np.ones(len(keypoints), np.float32)
        return np.concatenate([keypoints[:, :2], score[:, None]], axis=1), False
    landmarks = person.get('landmarks') if isinstance(person, dict) else person
    if isinstance(landmarks, list) and landmarks and all(isinstance(p, dict) and {'x', 'y'} <= set(p)
                                                         for p in landmarks):
        pose = [(p['x'], p['y'], p.get('visibility', p.get('presence', 1.0))) for p in landmarks]
        return np.asarray(pose, np.float32), True
    raise ConversionError(f"{where}: a person must be a dict with 'keypoints' (mmpose) or a list of landmarks "
                          f"{{x, y, visibility}} (MediaPipe), got {str(person)[:80]}")


def read_pose_json(path: str, max_persons: int = 2, joint_map: Optional[Sequence[int]] = None, max_gap: int = 30,
                   img_shape: Optional[Sequence[int]] = None) -> dict:
    """One video's mmpose or MediaPipe results (the schema in this module's docstring) -> a tracked sample.

    ``joint_map`` picks and orders joints (e.g. :data:`MEDIAPIPE_POSE_TO_COCO`). ``img_shape`` (h, w) is used when
    the file has none.
    """
    frames, file_shape = _json_frames(_load_json(path), path)
    img_shape = file_shape if file_shape is not None else img_shape
    if all(isinstance(f, dict) and 'frame_id' in f for f in frames) and frames:
        ids = [int(f['frame_id']) for f in frames]
        slots = {frame_id: i for i, frame_id in enumerate(ids)}
        order = [slots.get(t) for t in range(min(ids), max(ids) + 1)]  # mmpose's demos count from 1
    else:
        order = list(range(len(frames)))
    keypoints, scores, normalised, num_joints = [], [], set(), None
    for index in order:
        poses = []
        if index is not None:
            for person in _frame_persons(frames[index], path, index):
                pose, is_normalised = _person_pose(person, path, index)
                normalised.add(is_normalised)
                poses.append(pose)
        if poses:
            lengths = {len(p) for p in poses} | ({num_joints} if num_joints else set())
            if len(lengths) > 1:
                raise ConversionError(f'{path}: frame {index}: persons have {sorted(lengths)} joints')
            num_joints = len(poses[0])
        pose = np.stack(poses) if poses else np.zeros((0, num_joints or 0, 3), np.float32)
        if joint_map is not None and len(pose):
            if max(joint_map) >= pose.shape[1]:
                raise ConversionError(f'{path}: the joint map needs {max(joint_map) + 1} joints, poses have '
                                      f'{pose.shape[1]}')
            pose = pose[:, list(joint_map)]
        elif joint_map is not None:
            pose = np.zeros((0, len(joint_map), 3), np.float32)
        keypoints.append(pose[..., :2])
        scores.append(pose[..., 2])
    if len(normalised) > 1:
        raise ConversionError(f'{path}: mixes normalised (MediaPipe) and pixel (mmpose) persons')
    sample = _tracked(keypoints, scores, path, max_persons, max_gap)
    if normalised == {True}:
        if img_shape is not None:  # to pixels, so that both axes keep their scale
            sample['keypoint'] *= np.array([img_shape[1], img_shape[0]], np.float32)
        else:
            img_shape = (1, 1)
    if img_shape is not None:
        sample.update(img_shape=tuple(int(x) for x in img_shape), original_shape=tuple(int(x) for x in img_shape))
    return sample


def numpy_sample(array: np.ndarray, where: str, score_channel: bool = False,
                 img_shape: Optional[Sequence[int]] = None, keypoint_score: Optional[np.ndarray] = None) -> dict:
    """``[T, V, C]`` or ``[M, T, V, C]`` joints -> a sample. ``score_channel``: the last of C = 3 channels is a 2D
    detector's score, stored as ``keypoint_score``."""
    array = np.asarray(array)
    if array.ndim == 3:
        array = array[None]
        keypoint_score = None if keypoint_score is None else np.asarray(keypoint_score)[None]
    if array.ndim != 4 or array.dtype.kind not in 'fiu':
        raise ConversionError(f'{where}: expected numbers [T, V, C] or [M, T, V, C], got {array.dtype} '
                              f'{array.shape}')
    array = array.astype(np.float32)
    if score_channel:
        if array.shape[-1] != 3:
            raise ConversionError(f'{where}: score_channel needs C = 3 (x, y, score), got shape {array.shape}')
        array, keypoint_score = array[..., :2], array[..., 2]
    elif array.shape[-1] not in (2, 3):
        raise ConversionError(f'{where}: C must be 2 (x, y) or 3 (x, y, z), got shape {array.shape}')
    sample = dict(keypoint=np.ascontiguousarray(array), total_frames=array.shape[1])
    if keypoint_score is not None:
        keypoint_score = np.asarray(keypoint_score, np.float32)
        if keypoint_score.shape != array.shape[:3]:
            raise ConversionError(f'{where}: keypoint_score must be {array.shape[:3]}, got {keypoint_score.shape}')
        sample['keypoint_score'] = np.ascontiguousarray(keypoint_score)
    if img_shape is not None:
        sample.update(img_shape=tuple(int(x) for x in img_shape), original_shape=tuple(int(x) for x in img_shape))
    return sample


def _npz_sample(path: str, score_channel: bool, img_shape) -> dict:
    with np.load(path) as data:
        if 'keypoint' in data:
            arrays = {key: data[key] for key in data.files}
        elif len(data.files) == 1:
            arrays = dict(keypoint=data[data.files[0]])
        else:
            raise ConversionError(f"{path}: a .npz sample needs a 'keypoint' array; found {data.files}")
    if 'img_shape' in arrays and img_shape is None:
        img_shape = arrays['img_shape'].tolist()
    return numpy_sample(arrays['keypoint'], path, score_channel, img_shape, arrays.get('keypoint_score'))


# ----------------------------------------------------------------------------------------------------------------
# Labels, splits, the file
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class LabelRow:
    name: str
    label: str
    split: Optional[str]
    line: int


def read_labels_csv(path: str) -> List[LabelRow]:
    """Rows ``name,label[,split]``; a first row ``name,label[,split]`` is a header. Errors name the line."""
    rows = []
    with open(path, newline='') as f:
        for line, row in enumerate(csv.reader(f), 1):
            row = [cell.strip() for cell in row]
            if not any(row) or row[0].startswith('#'):
                continue
            if line == 1 and [cell.lower() for cell in row[:2]] == ['name', 'label']:
                continue
            if len(row) not in (2, 3) or not row[0] or not row[1]:
                raise ConversionError(f'{path}: line {line}: expected name,label[,split], got {",".join(row)!r}')
            rows.append(LabelRow(row[0], row[1], row[2] if len(row) == 3 and row[2] else None, line))
    if not rows:
        raise ConversionError(f'{path}: no label row')
    seen = {}
    for row in rows:
        if row.name in seen:
            raise ConversionError(f'{path}: line {row.line}: {row.name!r} is already on line {seen[row.name]}')
        seen[row.name] = row.line
    with_split = [row for row in rows if row.split is not None]
    if with_split and len(with_split) != len(rows):
        row = next(row for row in rows if row.split is None)
        raise ConversionError(f'{path}: line {row.line}: no split, but other rows have one (give every row a split '
                              'or none)')
    return rows


def _labels(rows: List[LabelRow]) -> Tuple[Dict[str, int], Optional[List[str]]]:
    """Integer labels as they are; class names are numbered in sorted order (and returned as the label map)."""
    if all(re.fullmatch(r'\d+', row.label) for row in rows):
        return {row.name: int(row.label) for row in rows}, None
    classes = sorted({row.label for row in rows})
    index = {name: i for i, name in enumerate(classes)}
    return {row.name: index[row.label] for row in rows}, classes


def random_split(names: Sequence[str], labels: Dict[str, int], val_ratio: float, seed: int) -> Dict[str, List[str]]:
    """``train`` / ``val`` with ``round(n * val_ratio)`` samples of each class in ``val`` (seeded; names keep their
    order)."""
    if not 0 <= val_ratio < 1:
        raise ValueError(f'val_ratio must be in [0, 1), got {val_ratio}')
    rng = np.random.default_rng(seed)
    val = set()
    for label in sorted(set(labels[name] for name in names)):
        members = [name for name in names if labels[name] == label]
        num_val = math.floor(len(members) * val_ratio + 0.5)
        val.update(members[i] for i in rng.permutation(len(members))[:num_val])
    split = dict(train=[name for name in names if name not in val])
    if val:
        split['val'] = [name for name in names if name in val]
    return split


@dataclass
class Conversion:
    out: str
    num_samples: int
    splits: Dict[str, int]                       # split -> number of samples
    label_map: Optional[str] = None              # written when the CSV names classes
    unlabelled: List[str] = field(default_factory=list)  # inputs with no CSV row (left out)
    layout: str = ''                             # the layout to use in a config
    warnings: List[str] = field(default_factory=list)


def build_annotations(samples: Dict[str, dict], rows: List[LabelRow], val_ratio: float = 0.2,
                      seed: int = 0) -> Tuple[dict, Optional[List[str]]]:
    """``dict(split, annotations)`` in the CSV's order; returns it and the class names (when the CSV has names)."""
    labels, classes = _labels(rows)
    names = [row.name for row in rows]
    annotations = [dict(frame_dir=name, label=labels[name], **samples[name]) for name in names]
    if rows[0].split is not None:
        split = {}
        for row in rows:
            split.setdefault(row.split, []).append(row.name)
    else:
        split = random_split(names, labels, val_ratio, seed)
    return dict(split=split, annotations=annotations), classes


def write_annotations(content: dict, out: str, classes: Optional[List[str]] = None) -> Optional[str]:
    """Write the pickle (and the label map beside it when classes are named) atomically; returns the label map."""
    dump_pickle(content, out)
    if classes is None:
        return None
    label_map = label_map_beside(out)
    write_label_map(classes, label_map)
    return label_map


# ----------------------------------------------------------------------------------------------------------------
# Whole conversions
# ----------------------------------------------------------------------------------------------------------------
def _convert(found: Dict[str, object], read, labels_csv: str, out: str, val_ratio: float, seed: int,
             what: str, layouts: Dict[int, str]) -> Conversion:
    """``found``: name -> input (path or array); ``read(input, name)`` -> sample; ``layouts``: V -> layout name."""
    rows = read_labels_csv(labels_csv)
    absent = [row for row in rows if row.name not in found]
    if absent:
        listing = ', '.join(f'{row.name!r} (line {row.line})' for row in absent[:10])
        raise ConversionError(f'{labels_csv}: {len(absent)} name(s) with no {what}: {listing}'
                              + (' ...' if len(absent) > 10 else ''))
    samples = {row.name: read(found[row.name], row.name) for row in rows}
    content, classes = build_annotations(samples, rows, val_ratio, seed)
    label_map = write_annotations(content, out, classes)
    num_joints = content['annotations'][0]['keypoint'].shape[2]
    result = Conversion(out, len(rows), {k: len(v) for k, v in content['split'].items()}, label_map,
                        sorted(set(found) - {row.name for row in rows}),
                        layouts.get(num_joints, f'a custom layout dict with num_node={num_joints}'))
    unsized = [a['frame_dir'] for a in content['annotations'] if a['keypoint'].shape[-1] == 2 and 'img_shape' not in a]
    if unsized:
        result.warnings.append(f'{len(unsized)} 2D sample(s) have no img_shape (e.g. {unsized[0]!r}): PreNormalize2D '
                               'will assume 1080x1920 frames; give the frame size (--img-shape H W)')
    return result


def convert_openpose(input_dir: str, labels_csv: str, out: str, val_ratio: float = 0.2, seed: int = 0,
                     max_persons: int = 2, keep_body25: bool = False, img_shape=None,
                     max_gap: int = 30) -> Conversion:
    """Every sub-folder of ``input_dir`` is one video (its name is the sample name) of OpenPose JSON files."""
    found = {name: osp.join(input_dir, name) for name in sorted(os.listdir(input_dir))
             if glob.glob(osp.join(input_dir, name, '*_keypoints.json'))}

    def read(folder, name):
        return read_openpose_folder(folder, max_persons, keep_body25, max_gap, img_shape)
    return _convert(found, read, labels_csv, out, val_ratio, seed, f'OpenPose folder in {input_dir}',
                    {18: 'openpose', 25: 'BODY25_LAYOUT of pyskl.datasets.converters'})


def convert_pose_json(input_dir: str, labels_csv: str, out: str, val_ratio: float = 0.2, seed: int = 0,
                      max_persons: int = 2, joint_map: Optional[Sequence[int]] = None, img_shape=None,
                      max_gap: int = 30) -> Conversion:
    """Every ``*.json`` in ``input_dir`` is one video (its stem is the sample name), mmpose or MediaPipe results."""
    found = {osp.splitext(f)[0]: osp.join(input_dir, f) for f in sorted(os.listdir(input_dir)) if f.endswith('.json')}

    def read(path, name):
        return read_pose_json(path, max_persons, joint_map, max_gap, img_shape)
    return _convert(found, read, labels_csv, out, val_ratio, seed, f'.json file in {input_dir}',
                    {17: 'coco', 18: 'openpose', 21: 'handmp'})


def convert_numpy(input_path: str, labels_csv: str, out: str, val_ratio: float = 0.2, seed: int = 0,
                  score_channel: bool = False, img_shape=None) -> Conversion:
    """Samples from a folder of ``<name>.npy`` / ``<name>.npz`` files, or one ``.npz`` with an array per name."""
    if osp.isfile(input_path):
        with np.load(input_path) as data:
            found = {key: data[key] for key in data.files}

        def read(array, name):
            return numpy_sample(array, f'{input_path}[{name}]', score_channel, img_shape)
        what = f'array in {input_path}'
    else:
        found = {osp.splitext(f)[0]: osp.join(input_path, f) for f in sorted(os.listdir(input_path))
                 if f.endswith(('.npy', '.npz'))}

        def read(path, name):
            if path.endswith('.npz'):
                return _npz_sample(path, score_channel, img_shape)
            return numpy_sample(np.load(path), path, score_channel, img_shape)
        what = f'.npy/.npz file in {input_path}'
    return _convert(found, read, labels_csv, out, val_ratio, seed, what,
                    {25: 'nturgb+d', 17: 'coco', 18: 'openpose', 21: 'handmp'})
