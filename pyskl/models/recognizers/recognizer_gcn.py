"""GCN recognizer: inputs ``[N, num_clips, M, T, V, C]``."""
from typing import List, Optional

import torch

from pyskl.registry import MODELS
from pyskl.structures import ActionDataSample

from .base import BaseRecognizer


@MODELS.register_module()
class RecognizerGCN(BaseRecognizer):
    """Training takes one clip per sample; testing runs every clip and averages their scores (``test_cfg``)."""

    def loss(self, inputs: torch.Tensor, data_samples: List[ActionDataSample]) -> dict:
        if inputs.shape[1] != 1:
            raise ValueError(f'RecognizerGCN trains on one clip per sample, got {inputs.shape[1]} clips; '
                             'set num_clips=1 in the train pipeline')
        return self.cls_head.loss(self.extract_feat(inputs[:, 0]), data_samples)

    def clip_scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """Class scores of every clip: ``[N, num_clips, K]``."""
        bs, nc = inputs.shape[:2]
        scores = self.cls_head(self.extract_feat(inputs.reshape((bs * nc, ) + inputs.shape[2:])))
        return scores.reshape(bs, nc, -1)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[ActionDataSample]] = None) -> List[ActionDataSample]:
        scores = self.average_clip(self.clip_scores(inputs))
        if data_samples is None:
            data_samples = [ActionDataSample() for _ in range(len(scores))]
        for sample, score in zip(data_samples, scores):
            sample.set_pred_score(score)
        return data_samples

    def _forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.clip_scores(inputs)
