"""1x1 convolutions as batched matmuls, for the NCHW backbones (AAGCN, CTR-GCN, and MS-G3D's temporal convs).

On CPU, ``baddbmm`` is well ahead of ``F.conv2d`` for these shapes, mostly in the backward pass. The modules keep
their ``nn.Conv2d`` parameters (PYSKL's checkpoint layout); only the arithmetic changes.
"""
import torch
import torch.nn as nn

from .layers import Zero
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
    """Run a branch; a 1x1 one runs as :func:`conv1x1` on every ``stride``-th frame: ``unit_tcn`` with kernel 1, or
    ``Sequential(1x1 conv, norm)``. Any other module runs as itself."""
    if isinstance(module, unit_tcn) and _is_1x1(module.conv):
        conv = module.conv
        return module.drop(module.bn(conv1x1(x[:, :, ::conv.stride[0]], conv.weight, conv.bias)))
    if isinstance(module, nn.Sequential) and len(module) == 2 and _is_1x1(module[0]):
        conv, norm = module
        return norm(conv1x1(x[:, :, ::conv.stride[0]], conv.weight, conv.bias))
    return module(x)


def relu_with_shortcut(out: torch.Tensor, shortcut: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A block's ``relu(out + shortcut(x))``, in place on the sum, the shortcut run by :func:`pointwise`. A
    :class:`Zero` shortcut (the input block) adds nothing, and no full-size ``+ 0`` is computed."""
    if isinstance(shortcut, Zero):
        return torch.relu(out)
    return torch.relu_(out + pointwise(shortcut, x))


def _is_1x1(conv: nn.Module) -> bool:
    """A 1x1 conv with a bias, striding over time only (no padding): a matmul on every ``stride``-th frame."""
    return isinstance(conv, nn.Conv2d) and conv.kernel_size == (1, 1) and conv.stride[1] == 1 \
        and conv.padding == (0, 0) and conv.groups == 1 and conv.bias is not None
