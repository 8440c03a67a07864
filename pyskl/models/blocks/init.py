"""Weight initialisers shared by the blocks and backbones (PYSKL's ``init_func``)."""
import math

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm


def conv_init(conv: nn.Module) -> None:
    """Kaiming normal (fan_out) weights, zero bias."""
    if getattr(conv, 'weight', None) is not None:
        nn.init.kaiming_normal_(conv.weight, mode='fan_out')
    if getattr(conv, 'bias', None) is not None:
        nn.init.constant_(conv.bias, 0)


def bn_init(bn: nn.Module, scale: float) -> None:
    """Constant ``scale`` weight, zero bias."""
    nn.init.constant_(bn.weight, scale)
    nn.init.constant_(bn.bias, 0)


def conv_branch_init(conv: nn.Conv2d, branches: int) -> None:
    """Normal weights with std ``sqrt(2 / (out * in * k * branches))``, zero bias (2s-AGCN's branch init)."""
    weight = conv.weight
    n, k1, k2 = weight.size(0), weight.size(1), weight.size(2)
    nn.init.normal_(weight, 0, math.sqrt(2. / (n * k1 * k2 * branches)))
    if conv.bias is not None:
        nn.init.constant_(conv.bias, 0)


def kaiming_convs_unit_bns(module: nn.Module, convs) -> None:
    """PYSKL's usual start: every conv of ``convs`` kinds Kaiming (fan_out) with zero bias, every BatchNorm at 1."""
    for m in module.modules():
        if isinstance(m, convs):
            conv_init(m)
        elif isinstance(m, _BatchNorm):
            bn_init(m, 1)
