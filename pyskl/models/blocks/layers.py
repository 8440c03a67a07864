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


def build_act(act, inplace: bool = False) -> nn.Module:
    """``act`` is a type name (``'ReLU'``) or an mmcv activation config; ``inplace`` applies where the type has it."""
    from mmcv.cnn import build_activation_layer
    cfg = dict(act) if isinstance(act, dict) else dict(type=act)
    if inplace and cfg['type'] in ('ReLU', 'LeakyReLU', 'ReLU6', 'ELU', 'SiLU', 'HSwish', 'HSigmoid'):
        cfg.setdefault('inplace', True)
    return build_activation_layer(cfg)
