"""Classification heads: pool the backbone features, (dropout), one linear layer named ``fc_cls`` (PYSKL's name)."""
from typing import List

import torch
import torch.nn as nn

from pyskl.evaluation.functional import top_k_accuracy
from pyskl.registry import MODELS


def classification_losses(loss_cls: nn.Module, cls_score: torch.Tensor, data_samples: List,
                          multi_class: bool = False) -> dict:
    """``loss_cls`` of ``cls_score`` ``[N, K]`` against the samples' ``gt_label``, after the batch's ``top1_acc`` and
    ``top5_acc`` (single-label data), as PYSKL's ``BaseHead.loss`` reports them."""
    labels = torch.cat([sample.gt_label for sample in data_samples]).to(cls_score.device)
    losses = dict()
    if not multi_class:
        topk = (1, min(5, cls_score.shape[1]))
        top1, top5 = top_k_accuracy(cls_score.detach().cpu().numpy(), labels.cpu().numpy(), topk)
        losses['top1_acc'] = torch.tensor(top1, device=cls_score.device)
        losses['top5_acc'] = torch.tensor(top5, device=cls_score.device)
    losses['loss_cls'] = loss_cls(cls_score, labels)
    return losses


@MODELS.register_module()
class SimpleHead(nn.Module):
    """Args:
        num_classes, in_channels: the classifier's shape.
        loss_cls: the loss config (default cross-entropy).
        dropout: dropout before the classifier (0 = none).
        init_std: std of the classifier's normal initialisation.
        mode: ``'GCN'`` (``[N, M, C, T, V]``: mean over T, V, then over M), ``'3D'`` (``[N, C, T, H, W]``) or
            ``'2D'`` (``[N, S, C, H, W]``).
        label_smooth_eps: label smoothing of the loss (PYSKL's name for it).
    """

    def __init__(self, num_classes, in_channels, loss_cls=dict(type='CrossEntropyLoss'), dropout=0.5, init_std=0.01,
                 mode='3D', label_smooth_eps=0.0, multi_class=False):
        super().__init__()
        if mode not in ('3D', 'GCN', '2D'):
            raise ValueError(f"head mode must be '3D', 'GCN' or '2D', got {mode!r}")
        self.num_classes, self.in_channels, self.mode = num_classes, in_channels, mode
        self.init_std, self.multi_class = init_std, multi_class
        if label_smooth_eps:
            loss_cls = dict(loss_cls, label_smoothing=label_smooth_eps)
        self.loss_cls = MODELS.build(loss_cls)
        self.dropout = nn.Dropout(p=dropout) if dropout else None
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self.init_weights()

    def init_weights(self):
        nn.init.normal_(self.fc_cls.weight, 0, self.init_std)
        nn.init.constant_(self.fc_cls.bias, 0)

    def pool(self, x) -> torch.Tensor:
        if isinstance(x, (list, tuple)) and self.mode != '3D':
            raise TypeError(f'{type(self).__name__} in {self.mode} mode takes a tensor, got {type(x).__name__}')
        if self.mode == 'GCN':
            if x.dim() != 5:
                raise ValueError(f'GCN head expects features [N, M, C, T, V], got {tuple(x.shape)}')
            return x.mean(dim=(3, 4)).mean(dim=1)
        if self.mode == '3D':
            if isinstance(x, (list, tuple)):
                x = torch.cat([item.mean(dim=(2, 3, 4)) for item in x], dim=1)
                return x
            return x.mean(dim=(2, 3, 4)) if x.dim() == 5 else x
        return x.mean(dim=(3, 4)).mean(dim=1)

    def forward(self, x) -> torch.Tensor:
        x = self.pool(x)
        if x.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__}: features have {x.shape[1]} channels, '
                             f'in_channels is {self.in_channels}')
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_cls(x)

    def loss(self, x, data_samples: List) -> dict:
        """Loss on backbone features ``x`` and the samples' ``gt_label``; also logs the batch's top-1/top-5."""
        return classification_losses(self.loss_cls, self(x), data_samples, self.multi_class)


@MODELS.register_module()
class GCNHead(SimpleHead):
    """Head of every GCN config: GCN pooling, no dropout by default."""

    def __init__(self, num_classes, in_channels, loss_cls=dict(type='CrossEntropyLoss'), dropout=0., init_std=0.01,
                 **kwargs):
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, dropout=dropout, init_std=init_std, mode='GCN',
                         **kwargs)


@MODELS.register_module()
class I3DHead(SimpleHead):
    """Head of the 3D-CNN (PoseC3D) configs: global 3D pooling, dropout 0.5 by default."""

    def __init__(self, num_classes, in_channels, loss_cls=dict(type='CrossEntropyLoss'), dropout=0.5, init_std=0.01,
                 **kwargs):
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, dropout=dropout, init_std=init_std, mode='3D',
                         **kwargs)
