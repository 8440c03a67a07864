"""Notebook-friendly inference: build a recognizer from a config (+ checkpoint) and classify skeleton sequences."""
import copy
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from pyskl.registry import MODELS
from pyskl.utils import load_checkpoint, register_all_modules


def _default_device() -> str:
    return 'cuda:0' if torch.cuda.is_available() else 'cpu'


def init_recognizer(config: Union[str, Config], checkpoint: Optional[str] = None, device: Optional[str] = None,
                    strict: bool = True) -> torch.nn.Module:
    """Build the config's model, load ``checkpoint`` (strictly by default) and put it in eval mode on ``device``
    (default: the first GPU, else the CPU). The config is attached as ``model.cfg``."""
    register_all_modules()
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pop('pretrained', None)  # the checkpoint below holds the weights
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, strict=strict)
    model.cfg = cfg
    return model.to(device or _default_device()).eval()


def _test_pipeline(cfg: Config) -> list:
    if 'test_pipeline' in cfg:
        return cfg.test_pipeline
    return cfg.test_dataloader.dataset.pipeline


def inference_recognizer(model: torch.nn.Module, sample: dict, topk: int = 5, test_mode: bool = True,
                         pipeline: Optional[Sequence[dict]] = None) -> List[Tuple[int, float]]:
    """Classify one skeleton sample (a dict in PYSKL's annotation format: ``keypoint`` ``[M, T, V, C]``,
    ``total_frames``, optional ``keypoint_score``/``img_shape``).

    Runs the config's test pipeline with ``test_mode=True`` (PYSKL's version forgot it and sampled frames at
    random) and returns the ``topk`` ``(class_index, score)`` pairs, best first. ``model.last_scores`` keeps the
    full score vector.
    """
    sample = dict(sample)
    sample.setdefault('frame_dir', 'inference')
    sample.setdefault('start_index', 0)
    sample.setdefault('modality', 'Pose')
    sample.setdefault('test_mode', test_mode)
    if 'total_frames' not in sample and 'keypoint' in sample:
        sample['total_frames'] = np.asarray(sample['keypoint']).shape[1]
    data = Compose(pipeline if pipeline is not None else _test_pipeline(model.cfg))(sample)
    with torch.no_grad():
        result = model.test_step(pseudo_collate([data]))[0]
    scores = result.pred_score.float().cpu()
    model.last_scores = scores
    values, indices = scores.topk(min(topk, scores.numel()))
    return [(int(i), float(v)) for i, v in zip(indices, values)]
