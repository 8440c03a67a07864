"""Tiny modules that stand where PYSKL used lambdas, so blocks stay picklable and printable."""
import torch.nn as nn


class Zero(nn.Module):
    """A residual branch that adds nothing."""

    def forward(self, x):
        return 0


def build_norm(norm, channels: int) -> nn.Module:
    """``norm`` is a type name (``'BN'``) or an mmcv norm config dict."""
    from mmcv.cnn import build_norm_layer
    cfg = norm if isinstance(norm, dict) else dict(type=norm)
    return build_norm_layer(cfg, channels)[1]


def build_act(act) -> nn.Module:
    from mmcv.cnn import build_activation_layer
    cfg = act if isinstance(act, dict) else dict(type=act)
    return build_activation_layer(cfg)
