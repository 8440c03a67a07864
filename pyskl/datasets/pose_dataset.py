"""PoseDataset: PYSKL's skeleton annotation pickle on mmengine's ``BaseDataset``.

The file holds ``dict(split=dict(name=[frame_dir, ...]), annotations=[...])`` or a bare list of annotations (see
docs/architecture.md). Everything wrong with it is reported at load time by the checks of
``tools/data/check_annotation.py`` (``checks.py``), naming the file, the samples and what is wrong, before any sample
reaches a pipeline: a dataset is either fully loaded or not built at all, unless ``skip_invalid=True`` drops the bad
samples (listed in one warning).

Memory: mmengine's ``serialize_data`` packs the annotations into one numpy byte buffer that dataloader workers share
copy-on-write, so N workers do not multiply the resident memory. The keypoints stay numpy arrays, which pickle
compactly into that buffer. Kinetics-400's table-of-contents entries (``raw_file`` instead of ``keypoint``) get their
skeletons from a memory-mapped keypoint store built from the kpfiles on first use (``kpstore.py``).
"""
import logging
import os.path as osp
import time
from numbers import Real
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from pyskl.registry import DATASETS
from pyskl.utils.errors import InputNotFoundError
from pyskl.utils.label_maps import read_label_map
from pyskl.utils.memory import release_free_memory
from pyskl.utils.seeding import EpochSeeds
from .checks import (SAMPLE_KINDS, AnnotationError, check_annotations, fix_annotations, is_compressed,
                     load_annotation_file)
from .kpstore import KeypointStore

# K400's per-box detection thresholds for which the annotation stores valid-frame counts.
BOX_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
_STORE_INDEX = 'kpstore_index'  # where a raw_file entry's skeletons are in the keypoint store
_SHOWN_PROBLEMS = 3  # problems an error message spells out before "and N more"


def describe_problem(problem, bound: str = '') -> str:
    """``sample '<frame_dir>': <what>`` for a sample's problem (``bound`` says where the class count comes from),
    the message itself for the others."""
    if problem.kind not in SAMPLE_KINDS:
        return problem.message
    name = problem.frame_dirs[0]
    text = f'sample {name}' if name.startswith('#') else f"sample '{name}'"  # '#i': no usable frame_dir
    text += f': {problem.detail}'
    return f'{text} {bound}' if problem.kind == 'label_range' and bound else text


def validate_annotation(anno, ann_file: str, index: Optional[int] = None) -> Optional[Tuple[int, int]]:
    """One sample through the checks of ``checks.py`` (its label only needs to be an integer: a sample to classify
    has none, -1); an :class:`AnnotationError` naming ``ann_file`` and the sample for its first problem. Returns its
    ``(V, C)``, ``None`` for a compressed entry without keypoints."""
    report = check_annotations([anno], source=ann_file, positions=[0 if index is None else index])
    problems = [p for p in report.problems if p.kind in SAMPLE_KINDS and p.kind != 'label_negative']
    if problems:
        raise AnnotationError(f'{ann_file}: {describe_problem(problems[0])}')
    keypoint = anno.get('keypoint')
    return tuple(keypoint.shape[-2:]) if isinstance(keypoint, np.ndarray) else None


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
        num_classes (int, optional): Labels must be below it (``tools/train.py`` and ``tools/test.py`` pass the
            model's ``cls_head.num_classes``).
        skip_invalid (bool): Drop the samples with problems (and the split's names without annotation) at load time,
            listing them in one warning, instead of refusing the file. Defaults to False.
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
                 num_classes: Optional[int] = None,
                 skip_invalid: bool = False,
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
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 1):
            raise ValueError(f'num_classes must be a positive int, got {num_classes!r}')
        self.kpstore_dir = kpstore_dir
        self.kpstore: Optional[KeypointStore] = None
        self.label_map = label_map
        self.num_classes = num_classes
        self.skip_invalid = skip_invalid
        self.epoch_seeds = EpochSeeds()  # training runs reseed the workers per epoch through it (EpochSeedHook)
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
            raise InputNotFoundError(f'label map {label_map} does not exist')
        return read_label_map(label_map)

    # -- loading --------------------------------------------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Read the file, select the split and check the selected samples (``pyskl/datasets/checks.py``)."""
        start = time.perf_counter()
        content = load_annotation_file(self.ann_file)
        annos, names, positions = self._select_split(content)
        del content  # drop the other splits' samples before anything else is allocated
        annos = self._check(annos, names, positions)
        self._attach_keypoint_store(annos)
        prefix = self.data_prefix.get('frame_dir')
        if prefix is not None:
            for anno in annos:
                anno['frame_dir'] = osp.join(prefix, anno['frame_dir'])
                if 'filename' in anno:
                    anno['filename'] = osp.join(prefix, anno['filename'])
        what = f"split '{self.split}'" if self.split else 'all annotations'
        print_log(f'{self.ann_file}: {len(annos)} samples ({what}) loaded and validated in '
                  f'{time.perf_counter() - start:.1f}s', logger='current')
        return annos

    def _select_split(self, content) -> Tuple[list, Optional[list], Optional[list]]:
        """The annotations of the split (file order; entries without a usable ``frame_dir`` too, for the checks to
        name), the split's list of names and the selected annotations' positions in the file (``None``, ``None``
        without a split)."""
        ann_file, split = self.ann_file, self.split
        if isinstance(content, dict):
            if not isinstance(content.get('annotations'), (list, tuple)):
                found = 'none' if 'annotations' not in content else f"a {type(content['annotations']).__name__}"
                raise AnnotationError(f"{ann_file}: a dict annotation file needs an 'annotations' list, found "
                                      f'{found}; keys: {sorted(map(str, content))}')
            annos, splits = content['annotations'], content.get('split')
        elif isinstance(content, (list, tuple)):
            if content and not any(isinstance(anno, dict) for anno in content):
                kinds = sorted({type(anno).__name__ for anno in content})
                raise AnnotationError(f'{ann_file}: expected dict(split=..., annotations=[...]) or a list of '
                                      f'annotation dicts, got a list of {", ".join(kinds)}')
            annos, splits = content, None
        else:
            raise AnnotationError(f'{ann_file}: expected dict(split=..., annotations=[...]) or a list of annotation '
                                  f'dicts, got {type(content).__name__}')
        if not annos:
            raise AnnotationError(f'{ann_file}: the file holds no annotations')
        if split is None:
            return list(annos), None, None

        if not isinstance(splits, dict):
            kind = 'is a bare list of annotations' if splits is None else "has no usable 'split' dict"
            raise AnnotationError(f"{ann_file} {kind}, so split='{split}' cannot be applied; use split=None")
        if split not in splits:
            raise AnnotationError(f"{ann_file}: split '{split}' is not in the file; available splits: "
                                  f'{sorted(map(str, splits))}')
        names = splits[split]
        if not isinstance(names, (list, tuple)):
            raise AnnotationError(f"{ann_file}: split '{split}' must be a list of frame_dir strings, got "
                                  f'{type(names).__name__}')
        members = set(name for name in names if isinstance(name, str))
        positions = [i for i, anno in enumerate(annos)
                     if not (isinstance(anno, dict) and isinstance(anno.get('frame_dir'), str))
                     or anno['frame_dir'] in members]
        selected = [annos[i] for i in positions]
        if not any(isinstance(anno, dict) and anno.get('frame_dir') in members for anno in selected):
            raise AnnotationError(f"{ann_file}: split '{split}' selects no samples: none of its {len(names)} names "
                                  f"matches a 'frame_dir' of the {len(annos)} annotations")
        return selected, list(names), positions

    def _class_bound(self) -> Tuple[Optional[int], str]:
        """The number of classes labels must stay below, and where it comes from."""
        bounds = []
        classes = self._metainfo.get('classes')
        if classes is not None:
            bounds.append((len(classes), f'in {self.label_map or "metainfo[classes]"}'))
        if self.num_classes is not None:
            bounds.append((self.num_classes, 'in the model (cls_head.num_classes)'))
        return min(bounds) if bounds else (None, '')

    def _check(self, annos: list, names: Optional[list], positions: Optional[list]) -> list:
        """Every problem of the selected samples (and of the split's names), as ``check_annotation.py`` reports it:
        an :class:`AnnotationError` naming the file, the samples and what is wrong; with ``skip_invalid`` the bad
        samples are dropped and listed in one warning."""
        for anno in annos:  # PYSKL takes total_frames from the keypoints when a file leaves it out
            if isinstance(anno, dict) and 'total_frames' not in anno and not is_compressed(anno) \
                    and isinstance(anno.get('keypoint'), np.ndarray) and anno['keypoint'].ndim == 4:
                anno['total_frames'] = anno['keypoint'].shape[1]
        content = annos if names is None else dict(split={self.split: names}, annotations=annos)
        num_classes, bound = self._class_bound()
        report = check_annotations(content, num_classes=num_classes, source=self.ann_file, positions=positions)
        errors = report.errors
        if not errors:
            return annos
        if not self.skip_invalid:
            raise AnnotationError(self._describe_problems(errors, bound))
        cleaned, dropped = fix_annotations(content, report)
        kept = cleaned if names is None else cleaned['annotations']
        if not kept:
            raise AnnotationError(f'{self.ann_file}: skip_invalid=True dropped every sample: '
                                  + self._describe_problems(errors, bound))
        listing = '; '.join(f'{kind}: {", ".join(map(str, what))}' for kind, what in dropped.items())
        print_log(f'{self.ann_file}: skip_invalid=True dropped {len(annos) - len(kept)} of {len(annos)} samples '
                  f'and the split names without annotation: {listing}', logger='current', level=logging.WARNING)
        return kept

    def _describe_problems(self, problems: list, bound: str) -> str:
        """One line: the file, then the first problems (sample, what is wrong), then how many more."""
        shown = '; '.join(describe_problem(problem, bound) for problem in problems[:_SHOWN_PROBLEMS])
        more = len(problems) - _SHOWN_PROBLEMS
        tail = (f'; and {more} more problem(s): tools/data/check_annotation.py {self.ann_file} lists them all'
                if more > 0 else '')
        return f'{self.ann_file}: {shown}{tail}'

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
                raise AnnotationError(f"{self.ann_file}: sample '{anno['frame_dir']}': valid_ratio is set but the "
                                      f"sample has no '{key}'")
        valid = anno['valid']
        if self.box_thr not in valid:
            raise AnnotationError(f"{self.ann_file}: sample '{anno['frame_dir']}': 'valid' has no entry for box_thr "
                                  f'{self.box_thr}: {sorted(valid)}')
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

    def prepare_data(self, idx):
        self.epoch_seeds.reseed_worker()
        return super().prepare_data(idx)

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
        release_free_memory()  # the unpacked annotations just freed: not to be inherited by the workers
        return data_bytes, data_address


__all__ = ['PoseDataset', 'AnnotationError', 'load_annotation_file', 'validate_annotation']
