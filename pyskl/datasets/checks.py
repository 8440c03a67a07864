"""Every problem of an annotation file, as data: what ``tools/data/check_annotation.py`` prints and ``--fix`` acts on.

:func:`check_annotations` looks at the whole content and returns a :class:`CheckReport` holding one :class:`Problem`
per problem found (``kind``, the ``frame_dir`` s at fault, a message) and the class counts per split; it never stops
at the first problem. :func:`fix_annotations` drops what the problems name (bad samples, dangling split references,
empty splits) and says what it dropped. ``PoseDataset`` runs the same checks on its split at load time (refusing the
file, or with ``skip_invalid`` dropping the bad samples through :func:`fix_annotations`); reading the file
(:func:`load_annotation_file`) and :class:`AnnotationError` live here for both.
"""
import os.path as osp
import pickle
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from mmengine.dist import get_dist_info

from pyskl.graph import get_layout
from pyskl.utils.errors import InputNotFoundError, UserError
from pyskl.utils.fileio import dump_pickle
from pyskl.utils.label_maps import read_label_map

# Files larger than this show a byte progress bar while they are unpickled.
PROGRESS_MIN_BYTES = 64 * 1024**2
_FLOAT16_EXPONENT = np.uint16(0x7C00)  # all exponent bits set <=> inf or NaN


class AnnotationError(UserError, ValueError):
    """Something is wrong with an annotation file; the message names the file and, where one is at fault, the
    sample."""


# ----------------------------------------------------------------------------------------------------------------
# Reading the pickle
# ----------------------------------------------------------------------------------------------------------------
class _ProgressReader:
    """File wrapper that advances a tqdm bar as pickle reads.

    ``peek`` is forwarded so that the C unpickler prefetches large chunks instead of calling ``read`` per opcode.
    """

    def __init__(self, file, bar):
        self._file, self._bar = file, bar

    def read(self, size=-1):
        data = self._file.read(size)
        self._bar.update(len(data))
        return data

    def readinto(self, buffer):
        count = self._file.readinto(buffer)
        self._bar.update(count or 0)
        return count

    def readline(self, size=-1):
        line = self._file.readline(size)
        self._bar.update(len(line))
        return line

    def peek(self, size=0):
        return self._file.peek(size)


def load_annotation_file(ann_file: str):
    """Unpickle ``ann_file``, with a progress bar for big files; errors name the file."""
    if not osp.isfile(ann_file):
        raise InputNotFoundError(f'annotation file {ann_file} does not exist')
    size = osp.getsize(ann_file)
    show_progress = size >= PROGRESS_MIN_BYTES and get_dist_info()[0] == 0
    try:
        with open(ann_file, 'rb', buffering=1 << 20) as f:
            if not show_progress:
                return pickle.load(f)
            from tqdm import tqdm
            with tqdm(total=size, unit='B', unit_scale=True, desc=f'Loading {osp.basename(ann_file)}') as bar:
                return pickle.load(_ProgressReader(f, bar))
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError,
            UnicodeDecodeError) as e:
        raise AnnotationError(f'{ann_file} is not a readable annotation pickle (corrupt, truncated or not a '
                              f'pickle): {type(e).__name__}: {e}') from e


def count_non_finite(array: np.ndarray) -> int:
    """Number of NaN/inf entries, 0 for integer arrays.

    NumPy's float16 ``isfinite`` is scalar code (about 6x slower than the integer test): for float16 the exponent
    bits are checked on a uint16 view first, and the exact count is only computed when something is wrong.
    """
    if array.dtype.kind not in 'fc':
        return 0
    if array.dtype == np.float16:
        if array.size == 0 or (array.view(np.uint16) & _FLOAT16_EXPONENT).max() != _FLOAT16_EXPONENT:
            return 0
    elif np.isfinite(array).all():
        return 0
    return int(array.size - np.count_nonzero(np.isfinite(array)))


def is_compressed(anno: dict) -> bool:
    """K400-style entries: the skeletons live in ``raw_file`` or as ``[N, V, C]`` boxes indexed by ``frame_inds``."""
    return 'raw_file' in anno or 'frame_inds' in anno

# What each kind means. File-level kinds stop the checks (nothing else can be read); sample-level kinds make --fix
# drop the sample; split kinds make it drop the references or the split; the others are reported only.
FILE_KINDS = {
    'file_type': 'the file holds neither dict(split=..., annotations=[...]) nor a list of annotations',
    'missing_annotations': "no usable 'annotations' list",
}
SAMPLE_KINDS = {
    'not_a_dict': 'annotation is not a dict',
    'missing_key': 'a required key is missing',
    'frame_dir_type': "'frame_dir' is not a non-empty string",
    'duplicate_frame_dir': "'frame_dir' already used by an earlier annotation (the first one is kept)",
    'label_type': "'label' is not an integer",
    'label_negative': "'label' is negative",
    'label_range': "'label' is >= the number of classes",
    'dtype': 'wrong array type or dtype',
    'keypoint_rank': "'keypoint' is not [M, T, V, C]",
    'layout': "'keypoint' joints V or channels C do not fit the layout",
    'keypoint_score_shape': "'keypoint_score' is not [M, T, V]",
    'empty_keypoint': "'keypoint' has no person or no frame",
    'non_finite': 'NaN or inf values',
    'total_frames': "'total_frames' is 0, not an integer, or not keypoint.shape[1]",
    'img_shape': "'img_shape' / 'original_shape' is not (h, w) with positive h, w",
}
SPLIT_KINDS = {
    'split_type': "'split' is not a dict of lists of frame_dir",
    'split_reference': 'split names a frame_dir that no annotation has',
    'empty_split': 'split lists no sample',
}
REPORT_KINDS = {
    'label_gap': 'class with no sample in the file',
    'split_overlap': 'sample in both the train and the val/test split of one benchmark',
}
KINDS = {**FILE_KINDS, **SAMPLE_KINDS, **SPLIT_KINDS, **REPORT_KINDS}
REQUIRED_KEYS = ('frame_dir', 'label', 'keypoint', 'total_frames')


@dataclass
class Problem:
    kind: str                                    # a key of KINDS
    message: str
    frame_dirs: Tuple[str, ...] = ()             # the samples at fault ('#i' for an entry without a frame_dir)
    indices: Tuple[int, ...] = ()                # their positions in 'annotations'
    split: Optional[str] = None                  # the split at fault (split kinds)
    detail: str = ''                             # what is wrong, without the sample's name

    def __str__(self):
        return self.message


@dataclass
class CheckReport:
    source: str
    num_samples: int = 0
    num_classes: Optional[int] = None
    problems: List[Problem] = field(default_factory=list)
    class_counts: Dict[str, Dict[int, int]] = field(default_factory=dict)  # 'all' and each split -> label -> count

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def errors(self) -> List[Problem]:
        """The problems a loader must refuse (all but ``label_gap`` and ``split_overlap``, which may be intended)."""
        return [problem for problem in self.problems if problem.kind not in REPORT_KINDS]

    def by_kind(self) -> Dict[str, List[Problem]]:
        grouped: Dict[str, List[Problem]] = {kind: [] for kind in KINDS}
        for problem in self.problems:
            grouped[problem.kind].append(problem)
        return {kind: problems for kind, problems in grouped.items() if problems}

    def summary(self, max_examples: int = 5) -> str:
        """Problems grouped by kind: a count, what it means and the first examples."""
        if self.ok:
            return f'{self.source}: no problem found ({self.num_samples} samples)'
        lines = [f'{self.source}: {len(self.problems)} problem(s) in {self.num_samples} samples']
        for kind, problems in self.by_kind().items():
            lines.append(f'  {kind} ({len(problems)}): {KINDS[kind]}')
            lines.extend(f'    {problem.message}' for problem in problems[:max_examples])
            if len(problems) > max_examples:
                lines.append(f'    ... and {len(problems) - max_examples} more')
        return '\n'.join(lines)

    def balance_table(self) -> str:
        """Samples per class (rows) in the whole file and in each split (columns)."""
        if not self.class_counts.get('all'):
            return ''
        columns = list(self.class_counts)
        labels = sorted(set().union(*(counts for counts in self.class_counts.values())))
        if self.num_classes is not None:
            labels = sorted(set(labels) | set(range(self.num_classes)))
        width = max(8, *(len(c) for c in columns))
        lines = ['class  ' + ' '.join(f'{c:>{width}}' for c in columns)]
        for label in labels:
            lines.append(f'{label:>5}  ' + ' '.join(f'{self.class_counts[c].get(label, 0):>{width}}' for c in columns))
        for what, pick in (('min', min), ('max', max)):
            values = [pick(self.class_counts[c].get(label, 0) for label in labels) for c in columns]
            lines.append(f'{what:>5}  ' + ' '.join(f'{v:>{width}}' for v in values))
        return '\n'.join(lines)


# ----------------------------------------------------------------------------------------------------------------
# The checks
# ----------------------------------------------------------------------------------------------------------------
def _name(anno, index: int) -> str:
    frame_dir = anno.get('frame_dir') if isinstance(anno, dict) else None
    return frame_dir if isinstance(frame_dir, str) and frame_dir else f'#{index}'


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_arrays(anno: dict, expected_vc, layout_name: Optional[str]) -> List[Tuple[str, str]]:
    """(kind, what) for the keypoint / keypoint_score / total_frames problems of one annotation."""
    found = []
    keypoint = anno['keypoint']
    if not isinstance(keypoint, np.ndarray):
        return [('dtype', f"'keypoint' must be a numpy array, got {type(keypoint).__name__}")]
    if keypoint.dtype.kind != 'f':
        found.append(('dtype', f"'keypoint' must be float16/32/64, got {keypoint.dtype}"))
    compressed = is_compressed(anno)
    rank = 3 if compressed else 4
    if keypoint.ndim != rank:
        want = '[N, V, C] (compressed)' if compressed else '[M, T, V, C]'
        return found + [('keypoint_rank', f"'keypoint' must be {want}, got shape {keypoint.shape}")]
    if keypoint.size == 0:
        found.append(('empty_keypoint', f"'keypoint' is empty, shape {keypoint.shape}"))
    V, C = keypoint.shape[-2:]
    if C not in (2, 3):
        found.append(('layout', f"'keypoint' has C={C} channels; 2 (x, y) or 3 (x, y, z) expected"))
    elif expected_vc is not None and V != expected_vc[0]:
        expected = f'layout {layout_name!r} has {expected_vc[0]}' if layout_name else \
            f'most samples of the file have V={expected_vc[0]}'
        found.append(('layout', f"'keypoint' has V={V} joints; {expected}"))
    elif expected_vc is not None and expected_vc[1] is not None and C != expected_vc[1]:
        found.append(('layout', f"'keypoint' has C={C} channels, most samples of the file have {expected_vc[1]}"))
    if 'keypoint_score' in anno:
        score = anno['keypoint_score']
        if not isinstance(score, np.ndarray) or score.dtype.kind != 'f':
            what = score.dtype if isinstance(score, np.ndarray) else type(score).__name__
            found.append(('dtype', f"'keypoint_score' must be a float numpy array, got {what}"))
        elif score.shape != keypoint.shape[:-1]:
            found.append(('keypoint_score_shape', f"'keypoint_score' must be {keypoint.shape[:-1]} to match "
                          f"'keypoint' {keypoint.shape}, got {score.shape}"))
        elif count_non_finite(score):
            found.append(('non_finite', f"'keypoint_score' has {count_non_finite(score)} NaN/inf value(s)"))
    bad = count_non_finite(keypoint)
    if bad:
        found.append(('non_finite', f"'keypoint' has {bad} NaN/inf value(s) (shape {keypoint.shape})"))
    if not compressed and 'total_frames' in anno:
        total = anno['total_frames']
        if not _is_int(total):
            found.append(('total_frames', f"'total_frames' must be an integer, got {total!r}"))
        elif total <= 0:
            found.append(('total_frames', f"'total_frames' is {total}"))
        elif total != keypoint.shape[1]:
            found.append(('total_frames', f"'total_frames' is {total} but 'keypoint' has {keypoint.shape[1]} frames "
                          f'(shape {keypoint.shape})'))
    for key in ('img_shape', 'original_shape'):
        if key in anno:
            shape = anno[key]
            if not (isinstance(shape, (tuple, list, np.ndarray)) and len(shape) == 2
                    and all(isinstance(x, (int, float, np.number)) and x > 0 for x in shape)):
                found.append(('img_shape', f"'{key}' must be (h, w) with positive h, w, got {shape!r}"))
    return found


def _usual_vc(annos: Sequence) -> Optional[Tuple[int, int]]:
    shapes = Counter(a['keypoint'].shape[-2:] for a in annos if isinstance(a, dict)
                     and isinstance(a.get('keypoint'), np.ndarray) and a['keypoint'].ndim >= 2)
    return tuple(shapes.most_common(1)[0][0]) if shapes else None


def check_annotations(content, layout: Union[str, dict, None] = None, num_classes: Optional[int] = None,
                      source: str = 'annotations', positions: Optional[Sequence[int]] = None) -> CheckReport:
    """Check an annotation file's content (``dict(split, annotations)`` or a list); every problem is reported.

    Args:
        layout: a layout name or dict (``pyskl.graph``): every sample must have its V joints. Without it, the V and C
            most samples have are expected of all.
        num_classes: labels must be below it; with it, classes without samples are reported too (without it, the
            classes below the largest label).
        source: how messages name the file.
        positions: where each annotation is in the file, when ``content`` holds a selection of them (messages say
            ``#position``; ``Problem.indices`` stay positions in ``content``).
    """
    report = CheckReport(source, num_classes=num_classes)
    add = report.problems.append
    if isinstance(content, dict):
        if not isinstance(content.get('annotations'), (list, tuple)):
            found = 'missing' if 'annotations' not in content else type(content['annotations']).__name__
            add(Problem('missing_annotations', f"'annotations' must be a list of dicts, got {found}; keys: "
                        f'{sorted(map(str, content))}'))
            return report
        annos, splits = content['annotations'], content.get('split')
    elif isinstance(content, (list, tuple)):
        annos, splits = content, None
    else:
        add(Problem('file_type', f'expected dict(split=..., annotations=[...]) or a list, got '
                    f'{type(content).__name__}'))
        return report
    report.num_samples = len(annos)

    expected_vc = None
    layout_name = None
    if layout is not None:
        graph = get_layout(layout)
        expected_vc, layout_name = (graph.num_node, None), graph.name
    else:
        expected_vc = _usual_vc(annos)

    valid, seen = {}, {}  # frame_dir -> label of the samples that pass; frame_dir -> first index
    for index, anno in enumerate(annos):
        position = index if positions is None else positions[index]
        name = _name(anno, position)

        def sample(kind, what, name=name, index=index):
            add(Problem(kind, f'{name}: {what}', (name, ), (index, ), detail=what))

        if not isinstance(anno, dict):
            sample('not_a_dict', f'an annotation must be a dict, got {type(anno).__name__}')
            continue
        compressed = is_compressed(anno)
        required = [k for k in REQUIRED_KEYS if not (compressed and k in ('keypoint', 'total_frames'))]
        missing = [key for key in required if key not in anno]
        if missing:
            sample('missing_key', f'missing key(s) {missing}; present: {sorted(map(str, anno))}')
        bad = bool(missing)
        if 'frame_dir' in anno and name.startswith('#'):
            sample('frame_dir_type', f"'frame_dir' must be a non-empty string, got {anno['frame_dir']!r}")
            bad = True
        elif name in seen:
            sample('duplicate_frame_dir', f'also annotation #{seen[name]}; this one is #{position}')
            bad = True
        elif not name.startswith('#'):
            seen[name] = position
        label = anno.get('label')
        if 'label' in anno:
            if not _is_int(label):
                sample('label_type', f"'label' must be an integer class index, got {label!r}")
                bad = True
            elif label < 0:
                sample('label_negative', f"'label' is {label}")
                bad = True
            elif num_classes is not None and label >= num_classes:
                sample('label_range', f"'label' is {label}, but there are {num_classes} classes (0..{num_classes - 1})")
                bad = True
        if 'keypoint' in anno:
            for kind, what in _check_arrays(anno, expected_vc, layout_name):
                sample(kind, what)
                bad = True
        if not bad:
            valid[name] = int(label)

    _check_labels(report, valid)
    _check_splits(report, splits, valid, seen)
    return report


def _check_labels(report: CheckReport, valid: Dict[str, int]) -> None:
    counts = Counter(valid.values())
    report.class_counts['all'] = dict(sorted(counts.items()))
    if not counts:
        return
    num_classes = report.num_classes if report.num_classes is not None else max(counts) + 1
    for label in range(num_classes):
        if label not in counts:
            report.problems.append(Problem('label_gap', f'class {label} has no sample (classes 0..{num_classes - 1})'))


def _check_splits(report: CheckReport, splits, valid: Dict[str, int], annotated) -> None:
    """``valid``: frame_dir -> label of the samples without problems; ``annotated``: every frame_dir in the file (a
    reference to a sample with problems is not reported again: --fix drops it with the sample)."""
    if splits is None:
        return
    add = report.problems.append
    if not isinstance(splits, dict):
        add(Problem('split_type', f"'split' must be a dict name -> [frame_dir, ...], got {type(splits).__name__}"))
        return
    members = {}
    for split, names in splits.items():
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            add(Problem('split_type', f"split '{split}' must be a list of frame_dir strings, got "
                        f'{type(names).__name__}', split=split))
            continue
        if not names:
            add(Problem('empty_split', f"split '{split}' lists no sample", split=split))
            continue
        for name in names:
            if name not in annotated:
                add(Problem('split_reference', f"split '{split}': no annotation has frame_dir '{name}'", (name, ),
                            split=split))
        present = [name for name in names if name in valid]
        if not present:
            add(Problem('empty_split', f"split '{split}': none of its {len(names)} samples is a valid annotation",
                        split=split))
        members[split] = set(present)
        report.class_counts[split] = dict(sorted(Counter(valid[name] for name in present).items()))
    for train, held_out in _paired_splits(members):
        both = sorted(members[train] & members[held_out])
        if both:
            add(Problem('split_overlap', f"{len(both)} sample(s) in both '{train}' and '{held_out}', e.g. "
                        f'{both[:3]}', tuple(both), split=held_out))


def _paired_splits(splits) -> List[Tuple[str, str]]:
    """('xsub_train', 'xsub_val'), ('train1', 'test1'), ...: train splits and their held-out partners."""
    pairs = []
    for name in splits:
        if 'train' in name:
            for other in ('val', 'test'):
                partner = re.sub('train', other, name)
                if partner in splits:
                    pairs.append((name, partner))
    return pairs


# ----------------------------------------------------------------------------------------------------------------
# Files and fixing
# ----------------------------------------------------------------------------------------------------------------
def check_annotation_file(path: str, layout=None, num_classes: Optional[int] = None,
                          label_map: Optional[str] = None):
    """Load and check ``path``: returns ``(content, report)``. ``label_map`` gives ``num_classes`` by its lines."""
    if label_map is not None:
        map_classes = len(read_label_map(label_map))
        if num_classes is not None and num_classes != map_classes:
            raise ValueError(f'num_classes={num_classes} but {label_map} names {map_classes} classes')
        num_classes = map_classes
    content = load_annotation_file(path)
    return content, check_annotations(content, layout=layout, num_classes=num_classes, source=path)


def fix_annotations(content, report: CheckReport):
    """A cleaned copy of ``content``: the samples with sample-level problems, the split references to samples that
    are not kept and the splits left empty are dropped. Returns ``(cleaned, dropped)`` where ``dropped`` maps each
    kind to what was dropped for it (``frame_dir`` s, or ``split: frame_dir`` / split names).

    File-level problems cannot be fixed (``ValueError``); ``label_gap`` and ``split_overlap`` stay as they are.
    """
    file_level = [p for p in report.problems if p.kind in FILE_KINDS]
    if file_level:
        raise ValueError(f'{report.source} cannot be fixed: {file_level[0].message}')
    annos = content['annotations'] if isinstance(content, dict) else content
    dropped: Dict[str, List[str]] = {}
    drop_index = {}
    for problem in report.problems:
        if problem.kind in SAMPLE_KINDS:
            for index, name in zip(problem.indices, problem.frame_dirs):
                drop_index.setdefault(index, (problem.kind, name))
    kept = [anno for index, anno in enumerate(annos) if index not in drop_index]
    kept_names = {anno['frame_dir'] for anno in kept}
    for index, (kind, name) in sorted(drop_index.items()):
        dropped.setdefault(kind, []).append(f'{name} (#{index})' if name in kept_names else name)
    if not isinstance(content, dict):
        return kept, {kind: dropped[kind] for kind in KINDS if dropped.get(kind)}

    splits = content.get('split')
    cleaned = {key: value for key, value in content.items() if key not in ('annotations', 'split')}
    if isinstance(splits, dict):
        new_splits = {}
        for split, names in splits.items():
            if not isinstance(names, (list, tuple)):
                dropped.setdefault('split_type', []).append(split)
                continue
            good = [name for name in names if isinstance(name, str) and name in kept_names]
            gone = [name for name in names if not (isinstance(name, str) and name in kept_names)]
            dropped.setdefault('split_reference', []).extend(f'{split}: {name}' for name in gone)
            if good:
                new_splits[split] = good
            else:
                dropped.setdefault('empty_split', []).append(split)
        cleaned['split'] = new_splits
    elif splits is not None:
        dropped.setdefault('split_type', []).append('split')
    cleaned['annotations'] = kept
    return cleaned, {kind: dropped[kind] for kind in KINDS if dropped.get(kind)}


def fixed_path(path: str) -> str:
    """Where ``--fix`` writes: ``data/x.pkl`` -> ``data/x.fixed.pkl`` (never the file itself)."""
    stem, ext = osp.splitext(path)
    return f'{stem}.fixed{ext or ".pkl"}'


def write_fixed(content, report: CheckReport, path: str):
    """Fix ``content`` and write it atomically to :func:`fixed_path` of ``path``; returns ``(out_path, dropped)``."""
    cleaned, dropped = fix_annotations(content, report)
    out = fixed_path(path)
    dump_pickle(cleaned, out)
    return out, dropped
