"""Cross-entropy on hard labels (``[N]``) or soft labels (``[N, K]``), as PYSKL's ``CrossEntropyLoss``."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from pyskl.registry import MODELS


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Args:
        loss_weight: multiplies the loss.
        class_weight: optional per-class weights (list of K floats).
        label_smoothing: optional smoothing of hard labels (PyTorch's ``label_smoothing``).
    """

    def __init__(self, loss_weight=1.0, class_weight=None, label_smoothing=0.0):
        super().__init__()
        self.loss_weight = loss_weight
        self.class_weight = None if class_weight is None else torch.tensor(class_weight, dtype=torch.float32)
        self.label_smoothing = label_smoothing

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        weight = None if self.class_weight is None else self.class_weight.to(cls_score.device)
        if cls_score.shape == label.shape:  # soft labels
            log_prob = F.log_softmax(cls_score, dim=1)
            if weight is None:
                loss = -(label * log_prob).sum(dim=1).mean()
            else:
                per_sample = -(label * log_prob * weight[None]).sum(dim=1)
                loss = per_sample.sum() / (label * weight[None]).sum()
        else:
            loss = F.cross_entropy(cls_score, label, weight=weight, label_smoothing=self.label_smoothing)
        return loss * self.loss_weight
