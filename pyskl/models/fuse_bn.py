"""Folding eval-mode BatchNorms into the convolutions before them, for inference.

In eval mode a BatchNorm is a fixed per-channel affine map, ``y = x * scale + shift`` with
``scale = weight / sqrt(running_var + eps)`` and ``shift = bias - running_mean * scale``. Where a linear layer feeds it
(directly, or through operations that act on each channel alike: joint aggregation, a sum of convs), the scale goes
into that layer's weights and the shift into its bias, and the BatchNorm becomes ``nn.Identity``: one full-size pass
fewer per BatchNorm, the same outputs to float rounding.

The blocks compute their convs in their own ways (sibling 1x1 convs merged into one, temporal convs through the DFT,
batched matmuls on the conv weights), always reading the conv modules' ``weight`` and ``bias``; folding rewrites
those tensors, so every path uses the folded weights. Where only the scale can move (a shift that a graph
aggregation or a data-dependent topology would spread unevenly over joints), the shift goes into the residual conv's
bias when the block has one, and otherwise stays as a :class:`ChannelAffine` that only adds it. Three kinds stay as
they are: the data BatchNorm at the input (per joint and coordinate, before any conv), the BatchNorm after MS-TCN's
max-pool (CTR-GCN, MS-G3D) and DG-STGCN's BatchNorm over its branches (the joints' mean is mixed in between).

The folded model is for inference: training it would no longer normalise.
"""
import copy
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch.nn.modules.batchnorm import _BatchNorm

from .backbones.aagcn import unit_aagcn
from .backbones.ctrgcn import unit_ctrgcn
from .backbones.dgstgcn import dggcn, dgmstcn
from .backbones.msg3d import MLP, MSG3DBlock
from .blocks import MSTCN, mstcn, unit_gcn, unit_tcn


class ChannelAffine(nn.Module):
    """``x * scale + shift`` per channel (dim 1) of any rank; ``scale=None`` only adds ``shift``. What remains of a
    BatchNorm whose shift (or all of it) could not be folded. It works in place: fuse_bn puts it only after layers
    whose fresh output nothing else reads (a joint aggregation, a max-pool) and whose backward does not need it."""

    def __init__(self, shift: torch.Tensor, scale: Optional[torch.Tensor] = None):
        super().__init__()
        self.register_buffer('shift', shift.detach().clone())
        self.register_buffer('scale', None if scale is None else scale.detach().clone())

    def forward(self, x):
        view = (1, -1) + (1, ) * (x.dim() - 2)
        if self.scale is not None:
            x = x.mul_(self.scale.view(view))
        return x.add_(self.shift.view(view))


def bn_scale_shift(bn: _BatchNorm):
    """The eval-mode ``(scale, shift)`` of ``bn`` in float64."""
    if bn.training:
        raise RuntimeError('fuse_bn folds running statistics: put the model in eval mode first (model.eval())')
    if not bn.track_running_stats or bn.running_mean is None:
        raise RuntimeError(f'{bn} normalises with batch statistics (track_running_stats=False): it cannot be folded')
    scale = torch.rsqrt(bn.running_var.double() + bn.eps)
    if bn.affine:
        scale = scale * bn.weight.double()
    shift = -bn.running_mean.double() * scale
    if bn.affine:
        shift = shift + bn.bias.double()
    return scale, shift


@torch.no_grad()
def scale_out_channels(layer: nn.Module, scale: torch.Tensor, shift: Optional[torch.Tensor] = None) -> None:
    """Make ``layer`` (a conv or linear with a bias) compute ``layer(x) * scale + shift`` on its output channels."""
    weight = layer.weight.double()
    layer.weight.copy_(weight * scale.view((-1, ) + (1, ) * (weight.dim() - 1)))
    bias = layer.bias.double() * scale
    layer.bias.copy_(bias if shift is None else bias + shift)


@torch.no_grad()
def add_to_bias(layer: nn.Module, shift: torch.Tensor) -> None:
    layer.bias.copy_(layer.bias.double() + shift)


def _is_bn(module) -> bool:
    return isinstance(module, _BatchNorm)


def _has_bias(layer) -> bool:
    return isinstance(layer, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)) and layer.bias is not None


def fold_into(layer: nn.Module, bn: nn.Module) -> bool:
    """Fold ``bn`` (applied right after ``layer``) into ``layer``; False where there is nothing to fold."""
    if not (_is_bn(bn) and _has_bias(layer)):
        return False
    scale_out_channels(layer, *bn_scale_shift(bn))
    return True


def fold_sequence(layers) -> None:
    """Fold every BatchNorm that directly follows a conv in a sequence of layers run in order (``nn.Sequential``,
    :class:`MLP`'s layers), leaving ``nn.Identity`` in its place."""
    for i in range(1, len(layers)):
        if fold_into(layers[i - 1], layers[i]):
            layers[i] = nn.Identity()


def _residual_conv(down: nn.Module) -> Optional[nn.Module]:
    """The conv of a ``Sequential(1x1 conv, norm)`` shortcut (its norm folded first), or None."""
    if isinstance(down, nn.Sequential) and len(down) == 2 and _has_bias(down[0]):
        fold_sequence(down)
        return down[0] if isinstance(down[1], nn.Identity) else None
    return None


def _fold_scale_then_shift(owner: nn.Module, scaled_layers) -> None:
    """``owner.bn`` follows a sum of ``scaled_layers``' outputs passed through operations that treat every channel
    alike: the scale goes into those layers (``(layer, repeat)``: a layer whose output channels repeat the BN's
    ``repeat`` times), the shift into the residual conv's bias (added before the activation), else a
    :class:`ChannelAffine`."""
    scale, shift = bn_scale_shift(owner.bn)
    for layer, repeat in scaled_layers:
        scale_out_channels(layer, scale.repeat(repeat))
    residual = _residual_conv(getattr(owner, 'down', None))
    if residual is not None:
        add_to_bias(residual, shift)
        owner.bn = nn.Identity()
    else:
        owner.bn = ChannelAffine(shift.to(owner.bn.running_mean.dtype))


# -- one rule per block that uses a BatchNorm in its own way ----------------------------------------------------------

def _fold_unit_gcn(m: unit_gcn) -> None:
    if not _is_bn(m.bn):
        return
    if m.conv_pos == 'post':  # aggregate, conv, bn: a plain pair
        fold_into(m.conv, m.bn)
        m.bn = nn.Identity()
        return
    # conv (channels subset-major: k * C + c), aggregate over joints, bn: the scale commutes with the aggregation,
    # the shift does not (a constant per channel would be summed over each joint's neighbours)
    _fold_scale_then_shift(m, [(m.conv, m.num_subsets)])


def _fold_unit_tcn(m: unit_tcn) -> None:
    if fold_into(m.conv, m.bn):
        m.bn = nn.Identity()


def _fold_mstcn(m: mstcn) -> None:
    fold_sequence_heads(m.branches)
    if fold_into(m.transform[2], m.bn):
        m.bn = nn.Identity()
    if type(m) is not mstcn or not _is_bn(m.transform[0]):
        return  # dgmstcn adds the joints' mean after the branches: the shift would be counted twice
    # transform = BN, ReLU, conv over the concatenated branches: each branch's slice of the BN goes into the layer
    # that ends the branch; the max-pool branch keeps its slice as a ChannelAffine after the pool
    scale, shift = bn_scale_shift(m.transform[0])
    start = 0
    for i, (cfg, branch) in enumerate(zip(m.ms_cfg, m.branches)):
        width = m.rem_mid_channels if i == 0 else m.mid_channels
        part = slice(start, start + width)
        start += width
        if cfg == '1x1':
            scale_out_channels(branch, scale[part], shift[part])
        elif cfg[0] == 'max':
            dtype = m.transform[0].running_mean.dtype
            branch[3] = nn.Sequential(branch[3], ChannelAffine(shift[part].to(dtype), scale[part].to(dtype)))
        else:
            scale_out_channels(branch[3].conv, scale[part], shift[part])
    m.transform[0] = nn.Identity()


def fold_sequence_heads(branches) -> None:
    for branch in branches:
        if isinstance(branch, nn.Sequential):
            fold_sequence(branch)


def _fold_MSTCN(m: MSTCN) -> None:
    fold_sequence_heads(m.branches)
    # The heads run as one conv and reach each branch as a channel slice of it. The BN made each slice a dense
    # tensor again; without it, an out-of-place activation does (in place, the slice would stay strided and the
    # temporal conv and max-pool after it would copy it, or take their slow strided paths).
    for branch in m.branches[:-1]:
        if isinstance(branch[1], nn.Identity) and getattr(branch[2], 'inplace', False):
            branch[2] = copy.copy(branch[2])
            branch[2].inplace = False


def _fold_unit_aagcn(m: unit_aagcn) -> None:
    # bn(sum_k conv_d[k](x @ A_k)): the block sums the convs' biases once, so conv_d[0]'s bias can take the shift
    if not _is_bn(m.bn):
        return
    scale, shift = bn_scale_shift(m.bn)
    for conv in m.conv_d:
        scale_out_channels(conv, scale)
    add_to_bias(m.conv_d[0], shift)
    m.bn = nn.Identity()
    _residual_conv(m.down)


def _fold_unit_ctrgcn(m: unit_ctrgcn) -> None:
    # bn(sum_k conv3_k(x) @ G_k): the scale goes into every conv3 (G_k is per channel); conv3's bias passes through the
    # data-dependent G_k, so the shift goes to the residual
    if not _is_bn(m.bn):
        return
    _fold_scale_then_shift(m, [(ctrgc.conv3, 1) for ctrgc in m.convs])


def _fold_dggcn(m: dggcn) -> None:
    fold_sequence(m.pre)
    if fold_into(m.post, m.bn):
        m.bn = nn.Identity()
    _residual_conv(m.down)


def _fold_MLP(m: MLP) -> None:
    fold_sequence(m.layers)


def _fold_conv_module(m: ConvModule) -> None:
    # mmcv's conv -> norm (-> act): the 3D CNNs' layers. Their convs have no bias (the BN had it); fold one in.
    if not (m.with_norm and _is_bn(m.norm) and isinstance(m.conv, (nn.Conv1d, nn.Conv2d, nn.Conv3d))
            and m.order.index('norm') == m.order.index('conv') + 1):
        return
    if m.conv.bias is None:
        m.conv.bias = nn.Parameter(m.conv.weight.new_zeros(m.conv.out_channels))
    fold_into(m.conv, m.norm)
    setattr(m, m.norm_name, nn.Identity())


def _fold_MSG3DBlock(m: MSG3DBlock) -> None:
    if fold_into(m.out_conv, m.out_bn):
        m.out_bn = nn.Identity()


RULES = {
    unit_gcn: _fold_unit_gcn,
    unit_tcn: _fold_unit_tcn,
    mstcn: _fold_mstcn,
    dgmstcn: _fold_mstcn,
    MSTCN: _fold_MSTCN,
    unit_aagcn: _fold_unit_aagcn,
    unit_ctrgcn: _fold_unit_ctrgcn,
    dggcn: _fold_dggcn,
    MLP: _fold_MLP,
    MSG3DBlock: _fold_MSG3DBlock,
    ConvModule: _fold_conv_module,
}


def fuse_bn(model: nn.Module) -> nn.Module:
    """Fold the eval-mode BatchNorms of ``model``'s GCN blocks and mmcv ``ConvModule`` s (the 3D CNNs) into their
    convs, in place; returns ``model``.

    ``model`` must be in eval mode. Blocks without a rule are left unchanged. The outputs equal the unfused model's
    to float rounding (tested on every GCN backbone within 1e-5).
    """
    if model.training:
        raise RuntimeError('fuse_bn folds running statistics: put the model in eval mode first (model.eval())')
    for module in list(model.modules()):
        rule = RULES.get(type(module))
        if rule is not None:
            rule(module)
    flush_subnormals(model)
    return model


@torch.no_grad()
def flush_subnormals(model: nn.Module) -> None:
    """Zero the weights smaller than the dtype's smallest normal number. Folding the BatchNorms of dead channels
    (hagrid.pth has 567 subnormal statistics) makes thousands of them, and CPUs compute with subnormals many times
    slower (the folded gesture model: 29 ms a clip with them, 9 ms without, 14 ms unfolded). Their products are lost
    in float rounding anyway: the outputs do not change."""
    for tensor in list(model.parameters()) + list(model.buffers()):
        if tensor.is_floating_point():
            tensor[tensor.abs() < torch.finfo(tensor.dtype).tiny] = 0


def count_batchnorms(model: nn.Module) -> int:
    """BatchNorm modules still in ``model`` (after :func:`fuse_bn`: the ones it could not fold)."""
    return sum(_is_bn(m) for m in model.modules())


__all__ = ['fuse_bn', 'ChannelAffine', 'count_batchnorms', 'bn_scale_shift']
