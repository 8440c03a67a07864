"""Notebook-friendly inference: build a recognizer from a config (+ checkpoint) and classify skeleton sequences.

    model = init_recognizer('demo/stgcnpp_gesture.py', 'hagrid.pth')
    pred = inference_recognizer(model, dict(keypoint=hands))   # keypoint [M, T, V, C]
    pred.topk     # [(index, name, score), ...] best first
    pred.scores   # every class's score, as tools/test.py --out writes them
"""
import copy
import logging
import os
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import print_log

from pyskl.registry import MODELS
from pyskl.utils import load_checkpoint, register_all_modules
from pyskl.utils.label_maps import label_map_of_annotation, load_label_map

# What PYSKL's dataset adds to every annotation before the pipeline (PoseDataset.get_data_info does the same).
DATASET_KEYS = dict(modality='Pose', start_index=0)


@dataclass
class Prediction:
    """One sample's result.

    Attributes:
        topk: ``[(class_index, class_name, score)]``, best first; the name is None when the model has no label map.
        scores: ``[num_classes]`` float32, the test forward's score vector (with ``average_clips='prob'``, the
            default: the clips' softmax probabilities averaged), the vector ``tools/test.py --out`` writes.
        label_names: the model's class names, or None.
    """
    topk: List[Tuple[int, Optional[str], float]]
    scores: np.ndarray = field(repr=False)
    label_names: Optional[Tuple[str, ...]] = field(default=None, repr=False)

    @property
    def label(self) -> int:
        """The best class's index."""
        return self.topk[0][0]

    @property
    def name(self) -> Optional[str]:
        """The best class's name (None without a label map)."""
        return self.topk[0][1]

    @property
    def score(self) -> float:
        return self.topk[0][2]


def _config_label_map(cfg: Config) -> Optional[str]:
    """The label map a config names: top-level ``label_map``, else its test/val/train dataset's."""
    if cfg.get('label_map'):
        return cfg.label_map
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        if dataset.get('label_map'):
            return dataset['label_map']
    return None


def _config_annotation(cfg: Config) -> Optional[str]:
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        if dataset.get('ann_file'):
            return dataset['ann_file']
    return cfg.get('ann_file')


def _label_names(cfg: Config, checkpoint: dict, label_map: Optional[str], num_classes: Optional[int]):
    """Class names from ``label_map`` (a shipped name such as ``'nturgbd_60'``, or a file), else the config's label
    map, else the classes an mmengine checkpoint recorded (``meta.dataset_meta.classes``), else the shipped label map
    of the config's annotation file when it is one of PYSKL's (``ntu60_hrnet.pkl``: NTU-60's), of the model's size."""
    if label_map is not None:
        return tuple(load_label_map(label_map, num_classes))
    named = _config_label_map(cfg)
    if named is not None:
        try:
            return tuple(load_label_map(named, num_classes))
        except FileNotFoundError:
            print_log(f'The config names label map {named!r}, which is not found from {os.getcwd()}; pass '
                      'label_map= to init_recognizer for class names', logger='current', level=logging.WARNING)
    classes = ((checkpoint or {}).get('meta') or {}).get('dataset_meta', {}).get('classes')
    if classes and (num_classes is None or len(classes) == num_classes):
        return tuple(classes)
    shipped = label_map_of_annotation(_config_annotation(cfg) or '')
    if shipped is not None:
        names = load_label_map(shipped)
        if num_classes is None or len(names) == num_classes:
            return tuple(names)
    return None


def init_recognizer(config: Union[str, Config], checkpoint: Optional[str] = None, device: str = 'cpu',
                    strict: bool = True, fuse_bn: bool = True, label_map: Optional[str] = None) -> torch.nn.Module:
    """Build the config's model, load ``checkpoint`` and put it in eval mode on ``device``.

    Args:
        config: a config file or ``Config``; attached to the model as ``model.cfg``.
        checkpoint: a flat state dict (PYSKL's ``demo/hagrid.pth``), an mmcv-1.x checkpoint (PYSKL's released
            ``.pth``) or an mmengine checkpoint; loaded strictly unless ``strict=False``.
        fuse_bn: fold eval-mode BatchNorms into the convs before them (:func:`pyskl.models.fuse_bn.fuse_bn`): the
            same outputs to float rounding, faster. Use ``False`` for a model to train further.
        label_map: class names: a shipped name (``'nturgbd_60'``, ``'k400'``, ``'gesture'``, ...; see
            ``pyskl.utils.label_maps.LABEL_MAPS``) or a file, one name per line. Default: the config's
            ``label_map``, else the classes an mmengine checkpoint recorded, else the dataset's shipped names when
            the config reads one of PYSKL's annotation files. Kept as ``model.dataset_meta['classes']``.
    """
    register_all_modules()
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pop('pretrained', None)  # the checkpoint below holds the weights
    model = MODELS.build(model_cfg)
    loaded = load_checkpoint(model, checkpoint, strict=strict) if checkpoint is not None else None
    model.cfg = cfg
    num_classes = getattr(getattr(model, 'cls_head', None), 'num_classes', None)
    model.dataset_meta = dict(classes=_label_names(cfg, loaded, label_map, num_classes))
    model = model.to(device).eval()
    if fuse_bn:
        from pyskl.models.fuse_bn import fuse_bn as fold
        fold(model)
    return model


def get_test_pipeline(cfg: Config) -> list:
    """The config's ``test_pipeline``, else its test dataset's pipeline."""
    if 'test_pipeline' in cfg:
        return cfg.test_pipeline
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    if 'pipeline' not in dataset:
        raise ValueError('The config has no test_pipeline (nor test_dataloader.dataset.pipeline) to run samples '
                         'through')
    return dataset.pipeline


def _check_sample(sample, position: int) -> dict:
    """A copy of ``sample`` ready for the test pipeline: PYSKL's annotation keys, test mode. Errors name the sample."""
    from pyskl.datasets.pose_dataset import AnnotationError, validate_annotation
    if isinstance(sample, (str, os.PathLike)):
        raise NotImplementedError(
            f'inference_recognizer got the path {os.fspath(sample)!r}: it does not read videos yet. Extract the '
            'skeletons first (pip install -e ".[extract]"; pyskl.extraction.extract_video(build_backend(), path) or '
            'tools/data/extract_skeleton.py) and pass the annotation dict (keypoint [M, T, V, C], keypoint_score '
            '[M, T, V], img_shape).')
    if not isinstance(sample, dict):
        raise TypeError(f'inference_recognizer takes a sample dict (PYSKL annotation format) or a list of them, '
                        f'got {type(sample).__name__}')
    sample = dict(sample)
    sample.setdefault('frame_dir', f'sample #{position}')
    for key in ('keypoint', 'keypoint_score'):  # nested Python lists (e.g. from JSON) become arrays
        if key in sample and not isinstance(sample[key], np.ndarray):
            try:
                sample[key] = np.asarray(sample[key], dtype=np.float32)
            except (ValueError, TypeError) as e:
                raise AnnotationError(f"inference input: sample '{sample['frame_dir']}': '{key}' is not an array of "
                                      f'numbers of one shape ({e})') from None
    if 'keypoint' in sample and sample['keypoint'].ndim == 4:
        sample.setdefault('total_frames', sample['keypoint'].shape[1])
    validate_annotation(dict(sample, label=sample.get('label', -1)), 'inference input')
    sample.update(DATASET_KEYS)
    sample['test_mode'] = True  # deterministic sampling; PYSKL's inference forgot it (random frames each call)
    return sample


def _predictions(scores: torch.Tensor, topk: int, names) -> List[Prediction]:
    scores = scores.float().cpu()
    values, indices = scores.topk(min(topk, scores.size(-1)), dim=-1)
    results = []
    for row, vals, inds in zip(scores, values.tolist(), indices.tolist()):
        top = [(i, names[i] if names else None, v) for i, v in zip(inds, vals)]
        results.append(Prediction(top, row.numpy(), names))
    return results


def inference_recognizer(model: torch.nn.Module, sample_or_video: Union[dict, Sequence[dict]], topk: int = 5,
                         batch_size: int = 16,
                         pipeline: Optional[Sequence[dict]] = None) -> Union[Prediction, List[Prediction]]:
    """Classify skeleton samples with ``model`` (from :func:`init_recognizer`).

    Args:
        sample_or_video: one sample in PYSKL's annotation format (``keypoint`` ``[M, T, V, C]``, optional
            ``keypoint_score`` ``[M, T, V]``, ``img_shape``; ``total_frames`` defaults to T) or a list of them.
            A video path is refused for now: extract its skeletons with ``pyskl.extraction`` first.
        topk: how many classes each :class:`Prediction` lists.
        batch_size: samples per forward when given a list.
        pipeline: transforms to use instead of the config's test pipeline.

    Every sample goes through the test pipeline in test mode (deterministic sampling, all test clips), as
    ``tools/test.py`` runs it, so the scores are those ``tools/test.py --out`` writes for the same annotation.
    Returns one :class:`Prediction`, or a list for a list.
    """
    single = not isinstance(sample_or_video, (list, tuple))
    samples = [sample_or_video] if single else list(sample_or_video)
    transforms = Compose(pipeline if pipeline is not None else get_test_pipeline(model.cfg))
    names = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    results = []
    for start in range(0, len(samples), batch_size):
        batch = [transforms(_check_sample(s, start + i)) for i, s in enumerate(samples[start:start + batch_size])]
        with torch.no_grad():
            outputs = model.test_step(pseudo_collate(batch))
        results += _predictions(torch.stack([out.pred_score for out in outputs]), topk, names)
    return results[0] if single else results


__all__ = ['Prediction', 'init_recognizer', 'inference_recognizer', 'get_test_pipeline']
