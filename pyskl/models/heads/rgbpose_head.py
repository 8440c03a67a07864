"""RGBPoseConv3D's head: one classifier per stream (``fc_rgb``, ``fc_pose``: PYSKL's names) on pooled features."""
from numbers import Number
from typing import List, Sequence, Union

import torch.nn as nn

from pyskl.registry import MODELS

from .simple_head import classification_losses

STREAMS = ('rgb', 'pose')


@MODELS.register_module()
class RGBPoseHead(nn.Module):
    """Global 3D average pooling, dropout and a linear classifier for each of the backbone's ``(x_rgb, x_pose)``;
    returns ``dict(rgb=[N, K], pose=[N, K])`` logits.

    Args:
        num_classes: classes.
        in_channels: the RGB and pose features' channels.
        loss_cls: the loss config (default cross-entropy), applied to each stream in ``loss_components``.
        loss_components: the streams trained (``'rgb'``, ``'pose'``); their losses are ``{stream}_loss_cls``.
        loss_weights: one weight per component (a number: the same for all).
        dropout: dropout before each classifier; a number, or ``dict(rgb=p, pose=q)``.
        init_std: std of the classifiers' normal initialisation.
        label_smooth_eps: label smoothing of the loss.
    """

    def __init__(self, num_classes: int, in_channels: Sequence[int] = (2048, 512),
                 loss_cls=dict(type='CrossEntropyLoss'), loss_components: Sequence[str] = STREAMS,
                 loss_weights: Union[float, Sequence[float]] = 1., dropout: Union[float, dict] = 0.5,
                 init_std: float = 0.01, label_smooth_eps: float = 0.0):
        super().__init__()
        if len(in_channels) != 2:
            raise ValueError(f'RGBPoseHead: in_channels must be (rgb, pose) channels, got {in_channels}')
        self.loss_components = tuple(loss_components)
        unknown = [c for c in self.loss_components if c not in STREAMS]
        if unknown or not self.loss_components:
            raise ValueError(f'RGBPoseHead: loss_components must name streams among {STREAMS}, got '
                             f'{list(loss_components)}')
        if isinstance(loss_weights, Number):
            loss_weights = [loss_weights] * len(self.loss_components)
        if len(loss_weights) != len(self.loss_components):
            raise ValueError(f'RGBPoseHead: {len(loss_weights)} loss_weights for {len(self.loss_components)} '
                             f'loss_components {list(self.loss_components)}')
        self.loss_weights = tuple(float(w) for w in loss_weights)
        if isinstance(dropout, Number):
            dropout = dict(rgb=dropout, pose=dropout)
        if not isinstance(dropout, dict) or set(dropout) != set(STREAMS):
            raise ValueError(f"RGBPoseHead: dropout must be a number or dict(rgb=..., pose=...), got {dropout!r}")
        self.num_classes, self.in_channels, self.init_std = num_classes, tuple(in_channels), init_std
        if label_smooth_eps:
            loss_cls = dict(loss_cls, label_smoothing=label_smooth_eps)
        self.loss_cls = MODELS.build(loss_cls)
        self.dropout_rgb = nn.Dropout(p=dropout['rgb'])
        self.dropout_pose = nn.Dropout(p=dropout['pose'])
        self.fc_rgb = nn.Linear(in_channels[0], num_classes)
        self.fc_pose = nn.Linear(in_channels[1], num_classes)
        self.init_weights()

    def init_weights(self):
        for fc in (self.fc_rgb, self.fc_pose):
            nn.init.normal_(fc.weight, 0, self.init_std)
            nn.init.constant_(fc.bias, 0)

    def forward(self, x) -> dict:
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise TypeError(f'RGBPoseHead takes the backbone\'s (x_rgb, x_pose), got {type(x).__name__}')
        scores = {}
        for stream, feat, channels in zip(STREAMS, x, self.in_channels):
            pooled = feat.mean(dim=(2, 3, 4)) if feat.dim() == 5 else feat
            if pooled.shape[1] != channels:
                raise ValueError(f'RGBPoseHead: {stream} features have {pooled.shape[1]} channels, in_channels '
                                 f'says {channels}')
            scores[stream] = getattr(self, f'fc_{stream}')(getattr(self, f'dropout_{stream}')(pooled))
        return scores

    def loss(self, x, data_samples: List) -> dict:
        """Each component's ``{stream}_loss_cls`` (times its weight) after its batch ``{stream}_top1_acc`` and
        ``{stream}_top5_acc``, as PYSKL's MMRecognizer3D reports them."""
        scores = self(x)
        losses = {}
        for stream, weight in zip(self.loss_components, self.loss_weights):
            stream_losses = classification_losses(self.loss_cls, scores[stream], data_samples)
            stream_losses['loss_cls'] = stream_losses['loss_cls'] * weight
            losses.update({f'{stream}_{k}': v for k, v in stream_losses.items()})
        return losses
