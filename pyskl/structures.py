"""The per-sample record that travels beside the input tensor: ground truth in, prediction out."""
from typing import Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement


class ActionDataSample(BaseDataElement):
    """``gt_label`` (LongTensor ``[1]``) set by ``PackActionInputs``; ``pred_score`` (``[num_classes]``) set by the
    recognizer's ``predict`` (a two-stream recognizer, MMRecognizer3D, also sets ``pred_scores``: ``dict(rgb=[K],
    pose=[K])``, which the metric reports apart). Meta information (``frame_dir``, ``sample_idx``, ...) rides in
    ``metainfo``."""

    def set_gt_label(self, value: Union[int, np.integer, torch.Tensor]) -> 'ActionDataSample':
        self.gt_label = torch.as_tensor(value, dtype=torch.long).reshape(-1)
        return self

    def set_pred_score(self, value: torch.Tensor) -> 'ActionDataSample':
        self.pred_score = value
        return self
