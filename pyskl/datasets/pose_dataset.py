"""PoseDataset: PYSKL's skeleton annotation pickle on mmengine's ``BaseDataset``.

The file holds ``dict(split=dict(name=[frame_dir, ...]), annotations=[...])`` or a bare list of annotations (see
docs/architecture.md). Everything wrong with it is reported at load time, naming the file and the sample, before any
sample reaches a pipeline; a dataset is either fully loaded or not built at all.

Memory: mmengine's ``serialize_data`` packs the annotations into one numpy byte buffer that dataloader workers share
copy-on-write, so N workers do not multiply the resident memory. The keypoints stay numpy arrays, which pickle
compactly into that buffer. Kinetics-400's table-of-contents entries (``raw_file`` instead of ``keypoint``) get their
skeletons from a memory-mapped keypoint store built from the kpfiles on first use (``kpstore.py``).
"""
import os.path as osp
import pickle
import time
from numbers import Real
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.dist import get_dist_info
from mmengine.fileio import list_from_file
from mmengine.logging import print_log

from pyskl.registry import DATASETS
from .kpstore import KeypointStore

# K400's per-box detection thresholds for which the annotation stores valid-frame counts.
BOX_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
# Files larger than this show a byte progress bar while they are unpickled.
PROGRESS_MIN_BYTES = 64 * 1024**2
_FLOAT16_EXPONENT = np.uint16(0x7C00)  # all exponent bits set <=> inf or NaN
_STORE_INDEX = 'kpstore_index'  # where a raw_file entry's skeletons are in the keypoint store


class AnnotationError(ValueError):
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
        raise FileNotFoundError(f'annotation file {ann_file} does not exist')
    size = osp.getsize(ann_file)
    show_progress = size >= PROGRESS_MIN_BYTES and get_dist_info()[0] == 0
    try:
        with open(ann_file, 'rb', buffering=1 << 20) as f:
            if not show_progress:
                return pickle.load(f)
            from tqdm import tqdm
            with tqdm(total=size, unit='B', unit_scale=True, desc=f'Loading {osp.basename(ann_file)}') as bar:
                return pickle.load(_ProgressReader(f, bar))
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError) as e:
        raise AnnotationError(f'{ann_file} is not a readable annotation pickle (corrupt, truncated or not a '
                              f'pickle): {type(e).__name__}: {e}') from e


# ----------------------------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------------------------
def _describe(anno, index: Optional[int]) -> str:
    frame_dir = anno.get('frame_dir') if isinstance(anno, dict) else None
    if frame_dir is not None:
        return f"sample '{frame_dir}'"
    return 'sample' if index is None else f'sample #{index}'


def _fail(ann_file: str, anno, index: Optional[int], what: str):
    raise AnnotationError(f'{ann_file}: {_describe(anno, index)}: {what}')


def _count_non_finite(array: np.ndarray) -> int:
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


def _is_compressed(anno: dict) -> bool:
    """K400-style entries: the skeletons live in ``raw_file`` or as ``[N, V, C]`` boxes indexed by ``frame_inds``."""
    return 'raw_file' in anno or 'frame_inds' in anno


def validate_annotation(anno, ann_file: str, index: Optional[int] = None) -> Optional[Tuple[int, int]]:
    """Check one annotation; return its ``(V, C)`` (``None`` for a compressed entry that carries no keypoints).

    Raises :class:`AnnotationError` naming ``ann_file`` and the sample's ``frame_dir`` (or its position ``index``).
    """
    if not isinstance(anno, dict):
        _fail(ann_file, anno, index, f'an annotation must be a dict, got {type(anno).__name__}')
    missing = [key for key in ('frame_dir', 'label') if key not in anno]
    if missing:
        _fail(ann_file, anno, index, f'missing required key(s) {missing}; present keys: {sorted(anno)}')
    label = anno['label']
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        _fail(ann_file, anno, index, f"'label' must be an integer class index, got {label!r}")

    if 'keypoint' not in anno:
        if _is_compressed(anno):
            return None
        _fail(ann_file, anno, index, "has no 'keypoint' (and is not a compressed entry with 'raw_file')")
    keypoint = anno['keypoint']
    if not isinstance(keypoint, np.ndarray):
        _fail(ann_file, anno, index, f"'keypoint' must be a numpy array, got {type(keypoint).__name__}")

    if _is_compressed(anno):  # custom_2d_skeleton.py --compress: keypoint [N, V, C] + frame_inds [N]
        if keypoint.ndim != 3:
            _fail(ann_file, anno, index, f"compressed 'keypoint' must be [N, V, C], got shape {keypoint.shape}")
    else:
        if keypoint.ndim != 4:
            _fail(ann_file, anno, index, f"'keypoint' must be [M, T, V, C] (rank 4), got shape {keypoint.shape}")
        num_frames = keypoint.shape[1]
        if 'total_frames' in anno and anno['total_frames'] != num_frames:
            _fail(ann_file, anno, index, f"'total_frames' is {anno['total_frames']} but 'keypoint' has "
                  f'{num_frames} frames (shape {keypoint.shape}, [M, T, V, C])')
        if 'keypoint_score' in anno:
            score = anno['keypoint_score']
            if not isinstance(score, np.ndarray) or score.shape != keypoint.shape[:3]:
                shape = getattr(score, 'shape', type(score).__name__)
                _fail(ann_file, anno, index, f"'keypoint_score' must be [M, T, V] = {keypoint.shape[:3]} to match "
                      f"'keypoint' {keypoint.shape}, got {shape}")
            bad = _count_non_finite(score)
            if bad:
                _fail(ann_file, anno, index, f"'keypoint_score' has {bad} NaN/inf value(s)")
    bad = _count_non_finite(keypoint)
    if bad:
        _fail(ann_file, anno, index, f"'keypoint' has {bad} NaN/inf value(s) (shape {keypoint.shape})")
    return tuple(keypoint.shape[-2:])


def validate_annotations(annos: Sequence[dict], ann_file: str) -> None:
    """Check every annotation, and that all samples of the file share the joint count V and channel count C."""
    first_vc, first_index = None, None
    for index, anno in enumerate(annos):
        vc = validate_annotation(anno, ann_file, index)
        if vc is None:
            continue
        if first_vc is None:
            first_vc, first_index = vc, index
        elif vc != first_vc:
            _fail(ann_file, anno, index, f'has V={vc[0]} joints and C={vc[1]} channels, but '
                  f'{_describe(annos[first_index], first_index)} has V={first_vc[0]}, C={first_vc[1]}: all samples '
                  'of one file must share the skeleton layout')


# ----------------------------------------------------------------------------------------------------------------
# The dataset
# ----------------------------------------------------------------------------------------------------------------
def parse_class_prob(class_prob) -> Optional[Dict[int, float]]:
    """PYSKL's per-class multipliers as ``{label: multiplier}`` (a list gives one per class in order)."""
    if class_prob is None:
        return None
    if isinstance(class_prob, (list, tuple)):
        class_prob = dict(enumerate(class_prob))
    if not isinstance(class_prob, dict):
        raise TypeError(f'class_prob must be a list or a dict {{label: multiplier}}, got {type(class_prob).__name__}')
    for label, mul in class_prob.items():
        if not isinstance(mul, Real) or mul < 0:
            raise ValueError(f'class_prob[{label}] must be a non-negative number, got {mul!r}')
    return {int(k): float(v) for k, v in class_prob.items()}


@DATASETS.register_module()
class PoseDataset(BaseDataset):
    """Skeleton dataset in PYSKL's annotation format.

    Args:
        ann_file (str): The annotation pickle.
        pipeline (list[dict | callable]): Transforms applied to each sample.
        split (str, optional): Name of a split in the file's ``split`` dict (e.g. ``'xsub_train'``); only its samples
            are kept. ``None`` keeps every annotation (the only choice for a bare-list file).
        valid_ratio (float, optional): K400 only: keep videos with ``valid[box_thr] / total_frames >= valid_ratio`` and
            set ``anno_inds = box_score >= box_thr`` for ``DecompressPose``.
        box_thr (float, optional): K400 detection threshold, one of 0.5 ... 0.9; PYSKL's default 0.5 is used when
            ``valid_ratio`` is given without it.
        class_prob (list | dict, optional): Per-class repeat multipliers for ``ClassSpecificDistributedSampler``.
        memcached (bool), mc_cfg: PYSKL's memcached client settings for K400; accepted and ignored (no server is
            needed: entries with ``raw_file`` read their skeletons from a memory-mapped store, see ``kpstore.py``).
        kpstore_dir (str, optional): Folder for that store; default ``<annotation>.kpstore`` beside the annotation.
        data_prefix (str | dict, optional): Folder joined to each ``frame_dir`` (PYSKL's string form, or mmengine's
            ``dict(frame_dir=...)``); a relative prefix is taken under ``data_root``.
        label_map (str, optional): Text file with one class name per line; fills ``metainfo['classes']`` and checks
            that every label indexes a class.
        test_mode (bool): Passed to the pipeline as ``results['test_mode']`` (deterministic sampling).
        serialize_data (bool): Pack the annotations into one shared buffer (keep True with dataloader workers).
        lazy_init (bool): Defer loading to the first access or ``full_init()``.
        **kwargs: Other ``mmengine.dataset.BaseDataset`` arguments (``metainfo``, ``data_root``, ``indices``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 split: Optional[str] = None,
                 valid_ratio: Optional[float] = None,
                 box_thr: Optional[float] = None,
                 class_prob: Optional[Union[Sequence[float], Dict[int, float]]] = None,
                 memcached: bool = False,
                 mc_cfg: Optional[tuple] = None,
                 kpstore_dir: Optional[str] = None,
                 data_prefix: Optional[Union[str, dict]] = None,
                 label_map: Optional[str] = None,
                 test_mode: bool = False,
                 serialize_data: bool = True,
                 lazy_init: bool = False,
                 **kwargs):
        self.split = split
        self.valid_ratio, self.box_thr = self._check_thresholds(valid_ratio, box_thr)
        self.class_prob = parse_class_prob(class_prob)
        if memcached:
            print_log('PoseDataset: memcached / mc_cfg are ignored, no server is needed: the skeletons of K400-style '
                      "'raw_file' entries are read from a memory-mapped store built from the kpfiles",
                      logger='current')
        self.kpstore_dir = kpstore_dir
        self.kpstore: Optional[KeypointStore] = None
        self.label_map = label_map
        self._labels: Optional[np.ndarray] = None
        self._labels_source = None  # the data_address the cached labels describe
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if label_map is not None:
            metainfo['classes'] = tuple(self._read_label_map(label_map))
        if isinstance(data_prefix, str):
            data_prefix = dict(frame_dir=data_prefix)
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_prefix=dict(data_prefix or {}),
            pipeline=list(pipeline),
            test_mode=test_mode,
            serialize_data=serialize_data,
            lazy_init=lazy_init,
            **kwargs)

    @staticmethod
    def _check_thresholds(valid_ratio, box_thr) -> Tuple[Optional[float], Optional[float]]:
        if box_thr is not None:
            box_thr = float(box_thr)  # PYSKL's early configs wrote it as a string ('0.5')
            if box_thr not in BOX_THRESHOLDS:
                raise ValueError(f'box_thr must be one of {BOX_THRESHOLDS}, got {box_thr}')
        if valid_ratio is not None:
            if not isinstance(valid_ratio, Real):
                raise TypeError(f'valid_ratio must be a number, got {valid_ratio!r}')
            box_thr = 0.5 if box_thr is None else box_thr
        return valid_ratio, box_thr

    @staticmethod
    def _read_label_map(label_map: str) -> List[str]:
        if not osp.isfile(label_map):
            raise FileNotFoundError(f'label map {label_map} does not exist')
        names = list_from_file(label_map)
        while names and not names[-1].strip():
            names.pop()
        return [name.strip() for name in names]

    # -- loading --------------------------------------------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Read the file, select the split and validate the selected samples."""
        start = time.perf_counter()
        content = load_annotation_file(self.ann_file)
        annos = self._select_split(content)
        del content  # drop the other splits' samples before anything else is allocated
        validate_annotations(annos, self.ann_file)
        self._check_labels(annos)
        self._attach_keypoint_store(annos)
        prefix = self.data_prefix.get('frame_dir')
        for anno in annos:
            if 'keypoint' in anno and 'total_frames' not in anno and not _is_compressed(anno):
                anno['total_frames'] = anno['keypoint'].shape[1]
            if prefix is not None:
                anno['frame_dir'] = osp.join(prefix, anno['frame_dir'])
                if 'filename' in anno:
                    anno['filename'] = osp.join(prefix, anno['filename'])
        what = f"split '{self.split}'" if self.split else 'all annotations'
        print_log(f'{self.ann_file}: {len(annos)} samples ({what}) loaded and validated in '
                  f'{time.perf_counter() - start:.1f}s', logger='current')
        return annos

    def _select_split(self, content) -> List[dict]:
        ann_file, split = self.ann_file, self.split
        if isinstance(content, dict):
            if 'annotations' not in content:
                raise AnnotationError(f"{ann_file}: a dict annotation file needs an 'annotations' list; found keys "
                                      f'{sorted(content)}')
            annos, splits = content['annotations'], content.get('split')
        elif isinstance(content, (list, tuple)):
            annos, splits = content, None
        else:
            raise AnnotationError(f"{ann_file}: expected dict(split=..., annotations=[...]) or a list of annotations, "
                                  f'got {type(content).__name__}')
        if not isinstance(annos, (list, tuple)):
            raise AnnotationError(f"{ann_file}: 'annotations' must be a list, got {type(annos).__name__}")
        if split is None:
            if not annos:
                raise AnnotationError(f'{ann_file}: the file holds no annotations')
            return list(annos)

        if not isinstance(splits, dict):
            kind = 'is a bare list of annotations' if splits is None else "has no usable 'split' dict"
            raise AnnotationError(f"{ann_file} {kind}, so split='{split}' cannot be applied; use split=None")
        if split not in splits:
            raise AnnotationError(f"{ann_file}: split '{split}' is not in the file; available splits: "
                                  f'{sorted(splits)}')
        members = set(splits[split])
        selected = []
        for index, anno in enumerate(annos):
            if not isinstance(anno, dict) or 'frame_dir' not in anno:
                validate_annotation(anno, ann_file, index)  # raises the precise complaint
            if anno['frame_dir'] in members:
                selected.append(anno)
        if not selected:
            raise AnnotationError(f"{ann_file}: split '{split}' selects no samples: none of its {len(members)} names "
                                  f"matches a 'frame_dir' of the {len(annos)} annotations")
        return selected

    def _attach_keypoint_store(self, annos: Sequence[dict]) -> None:
        """Open (or build once) the store of the entries whose skeletons live in kpfiles; each such entry gets the
        position of its skeletons in the store."""
        entries = [anno for anno in annos if 'raw_file' in anno and 'keypoint' not in anno]
        if not entries:
            return
        self.kpstore = KeypointStore.open_or_build(entries, self.ann_file, name=self.split or 'all',
                                                   cache_dir=self.kpstore_dir)
        for position, anno in enumerate(entries):
            anno[_STORE_INDEX] = position

    def _check_labels(self, annos: Sequence[dict]) -> None:
        classes = self._metainfo.get('classes')
        if classes is None:
            return
        for index, anno in enumerate(annos):
            if not 0 <= anno['label'] < len(classes):
                _fail(self.ann_file, anno, index, f"label {anno['label']} is outside the {len(classes)} classes of "
                      f'{self.label_map or "metainfo"}')

    def filter_data(self) -> List[dict]:
        """K400's valid-frame filter (``valid_ratio``/``box_thr``); ``valid``/``box_score`` are always dropped."""
        data_list = self.data_list
        if self.valid_ratio is not None:
            data_list = [anno for index, anno in enumerate(data_list) if self._is_valid(anno, index)]
            for anno in data_list:
                anno['anno_inds'] = np.asarray(anno['box_score']) >= self.box_thr
            if not data_list:
                raise AnnotationError(f'{self.ann_file}: no sample has valid_ratio >= {self.valid_ratio} at box_thr '
                                      f'{self.box_thr}')
            print_log(f'{self.ann_file}: {len(data_list)} samples remain after valid thresholding',
                      logger='current')
        for anno in data_list:
            anno.pop('valid', None)
            anno.pop('box_score', None)
        return data_list

    def _is_valid(self, anno: dict, index: int) -> bool:
        for key in ('valid', 'box_score', 'total_frames'):
            if key not in anno:
                _fail(self.ann_file, anno, index, f"valid_ratio is set but the sample has no '{key}'")
        valid = anno['valid']
        if self.box_thr not in valid:
            _fail(self.ann_file, anno, index, f"'valid' has no entry for box_thr {self.box_thr}: {sorted(valid)}")
        return valid[self.box_thr] / anno['total_frames'] >= self.valid_ratio

    # -- serving --------------------------------------------------------------------------------------------------
    def get_data_info(self, idx: int) -> dict:
        """A fresh copy of the annotation plus what PYSKL's dataset added before the pipeline; a ``raw_file`` entry
        also gets its compressed skeletons ``keypoint [N, V, 3]`` from the keypoint store."""
        info = super().get_data_info(idx)
        position = info.pop(_STORE_INDEX, None)
        if position is not None:
            info['keypoint'] = self.kpstore.get(position)
        info.update(modality='Pose', start_index=0, test_mode=self.test_mode)
        return info

    def get_cat_ids(self, idx: int) -> List[int]:
        return [int(self.get_labels()[idx])]

    def get_labels(self) -> np.ndarray:
        """Every sample's label (``[len(self)]`` int64) without unpacking the keypoints of serialised samples."""
        if not self._fully_initialized:
            self.full_init()
        if not self.serialize_data:
            return np.array([anno['label'] for anno in self.data_list], dtype=np.int64)
        if self._labels is None or self._labels_source is not self.data_address:  # e.g. after get_subset()
            self._labels = np.array([super(PoseDataset, self).get_data_info(i)['label'] for i in range(len(self))],
                                    dtype=np.int64)
            self._labels_source = self.data_address
        return self._labels

    def _serialize_data(self):
        # The labels are read here, before mmengine packs and clears ``data_list``; they belong to this packing.
        labels = np.array([anno['label'] for anno in self.data_list], dtype=np.int64)
        data_bytes, data_address = super()._serialize_data()
        self._labels, self._labels_source = labels, data_address
        return data_bytes, data_address


__all__ = ['PoseDataset', 'AnnotationError', 'validate_annotation', 'validate_annotations', 'load_annotation_file']
