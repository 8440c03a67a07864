"""1x1 convolutions as batched matmuls, for the NCHW backbones (AAGCN, CTR-GCN).

On CPU, ``baddbmm`` is well ahead of ``F.conv2d`` for these shapes, mostly in the backward pass. The modules keep
their ``nn.Conv2d`` parameters (PYSKL's checkpoint layout); only the arithmetic changes.
"""
import torch
import torch.nn as nn

from .tcn import unit_tcn


def conv1x1(x, weight, bias):
    """``[N, C, *S] -> [N, O, *S]`` with a conv's ``weight`` ``[O, C, 1, 1]`` (or ``[O, C]``). ``bias`` is ``[O]``, or
    a ``[N, O, *S]`` tensor to accumulate into."""
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    x = x.reshape(n, c, -1)
    weight = weight.view(1, -1, c).expand(n, -1, -1)
    bias = bias.view(1, -1, 1).expand(n, -1, 1) if bias.dim() == 1 else bias.view(n, -1, x.size(-1))
    return torch.baddbmm(bias, weight, x).view((n, -1) + spatial)


def stacked(convs):
    """The weights and biases of parallel 1x1 convs, stacked as one conv's."""
    convs = list(convs)
    return torch.cat([conv.weight for conv in convs]), torch.cat([conv.bias for conv in convs])


def pointwise(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run a residual branch; a 1x1 one runs as :func:`conv1x1`: ``unit_tcn`` with kernel 1 (on every ``stride``-th
    frame), or ``Sequential(1x1 conv, norm)``. Any other module runs as itself."""
    if isinstance(module, unit_tcn) and module.conv.kernel_size == (1, 1):
        conv = module.conv
        return module.drop(module.bn(conv1x1(x[:, :, ::module.stride], conv.weight, conv.bias)))
    if isinstance(module, nn.Sequential) and len(module) == 2 and isinstance(module[0], nn.Conv2d) \
            and module[0].kernel_size == (1, 1) and module[0].stride == (1, 1):
        conv, norm = module
        return norm(conv1x1(x, conv.weight, conv.bias))
    return module(x)
