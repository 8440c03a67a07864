"""Recognizer base: backbone + head under mmengine's ``BaseModel`` (``loss`` / ``predict`` / ``tensor`` modes)."""
from typing import List, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from pyskl.registry import MODELS
from pyskl.structures import ActionDataSample


def samples_where(data_samples: Optional[List[ActionDataSample]], limit: int = 5) -> str:
    """`` (samples: a, b, ...)`` naming the batch's samples by ``frame_dir`` for error messages; '' without any."""
    names = [s.metainfo.get('frame_dir', '?') for s in data_samples or []]
    if not names:
        return ''
    return f' (samples: {", ".join(names[:limit])}{" ..." if len(names) > limit else ""})'


class BaseRecognizer(BaseModel):
    """Args:
        backbone, cls_head: module configs.
        train_cfg: unused, kept for PYSKL configs.
        test_cfg: ``average_clips`` in {``'prob'`` (softmax, then mean over clips; the default), ``'score'``
            (mean of logits), ``None`` (no averaging: mean of raw scores is still taken)}; and, where
            ``chunks_test_views``, ``max_testing_views`` (a positive int or None).
        data_preprocessor: defaults to :class:`ActionDataPreprocessor`.

    Inputs are ``[N, views, ...]`` tensors, or a dict of them (one per stream). Subclasses state what differs: the
    input check, the clip scores, and :attr:`one_view_error`, the message for a training batch of several views.
    """

    #: ``loss``'s error for more than one view per sample (``{views}``: their number, ``{where}``: the samples)
    one_view_error = ('{name} trains on one view per sample, got {views} views{where}; set num_clips=1 in the train '
                      'pipeline')
    #: whether ``test_cfg.max_testing_views`` applies (and is checked)
    chunks_test_views = False

    def __init__(self, backbone: dict, cls_head: Optional[dict] = None, train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None, data_preprocessor: Optional[dict] = None, init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor')
        super().__init__(data_preprocessor=MODELS.build(data_preprocessor), init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.cls_head = MODELS.build(cls_head) if cls_head is not None else None
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(test_cfg or {})
        average_clips = self.test_cfg.setdefault('average_clips', 'prob')
        if average_clips not in ('prob', 'score', None):
            raise ValueError(f"test_cfg.average_clips must be 'prob', 'score' or None, got {average_clips!r}")
        max_views = self.test_cfg.get('max_testing_views')
        if self.chunks_test_views and max_views is not None and not (isinstance(max_views, int) and max_views > 0):
            raise ValueError(f'test_cfg.max_testing_views must be a positive int or None, got {max_views!r}')

    @property
    def with_cls_head(self) -> bool:
        return self.cls_head is not None

    def average_clip(self, cls_score: torch.Tensor) -> torch.Tensor:
        """``[N, num_clips, K]`` -> ``[N, K]``."""
        if self.test_cfg['average_clips'] == 'prob':
            cls_score = F.softmax(cls_score, dim=2)
        return cls_score.mean(dim=1)

    def extract_feat(self, inputs: torch.Tensor):
        return self.backbone(inputs)

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List[ActionDataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            if data_samples is None:
                raise ValueError('mode="loss" needs data_samples with gt_label')
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs)
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def check_inputs(self, inputs: torch.Tensor, data_samples: Optional[List[ActionDataSample]] = None) -> None:
        """Raise a ``ValueError`` naming the samples when ``inputs`` do not fit the backbone (subclasses)."""

    def loss(self, inputs, data_samples: List[ActionDataSample]) -> dict:
        """The head's loss on the features of each sample's one view (several views are refused)."""
        self.check_inputs(inputs, data_samples)
        views = next(iter(inputs.values())) if isinstance(inputs, dict) else inputs
        if views.shape[1] != 1:
            raise ValueError(self.one_view_error.format(name=type(self).__name__, views=views.shape[1],
                                                        where=samples_where(data_samples)))
        first_view = {k: v[:, 0] for k, v in inputs.items()} if isinstance(inputs, dict) else inputs[:, 0]
        return self.cls_head.loss(self.extract_feat(first_view), data_samples)

    def clip_scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """Class scores of every clip (view) of every sample: ``[N, num_clips, K]`` (subclasses)."""
        raise NotImplementedError

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[ActionDataSample]] = None) -> List[ActionDataSample]:
        """Every clip's scores averaged (``test_cfg.average_clips``) into each sample's ``pred_score``."""
        self.check_inputs(inputs, data_samples)
        scores = self.average_clip(self.clip_scores(inputs))
        if data_samples is None:
            data_samples = [ActionDataSample() for _ in range(len(scores))]
        for sample, score in zip(data_samples, scores):
            sample.set_pred_score(score)
        return data_samples

    def _forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.clip_scores(inputs)
