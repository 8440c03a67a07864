"""Temporal convolutions shared by the GCN backbones: ``unit_tcn`` (ST-GCN) and ``mstcn`` (ST-GCN++).

Input and output are ``[N, C, T, V]``; the kernel spans time only. Names follow PYSKL's checkpoints.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import TemporalMaxPool, Zero, build_norm
from .spectral import temporal_conv


class unit_tcn(nn.Module):
    """Conv ``(k, 1)`` over time (``stride``, ``dilation``, 'same' padding) -> norm -> dropout. On a CPU, wide convs
    run through the DFT over time (:func:`.spectral.temporal_conv`: the same function, in fewer operations)."""

    def __init__(self, in_channels, out_channels, kernel_size=9, stride=1, dilation=1, norm='BN', dropout=0):
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        pad = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=(kernel_size, 1), padding=(pad, 0),
                              stride=(stride, 1), dilation=(dilation, 1))
        self.bn = build_norm(norm, out_channels) if norm is not None else nn.Identity()
        self.drop = nn.Dropout(dropout, inplace=True)

    def forward(self, x):
        return self.drop(self.bn(temporal_conv(x, self.conv)))


def block_residual(in_channels, out_channels, stride=1, residual=True) -> nn.Module:
    """A block's shortcut, as PYSKL builds it: nothing (:class:`Zero`), the input itself, or a 1x1 ``unit_tcn``
    (strided over time) where the width or the frame rate changes."""
    if not residual:
        return Zero()
    if in_channels == out_channels and stride == 1:
        return nn.Identity()
    return unit_tcn(in_channels, out_channels, kernel_size=1, stride=stride)


class mstcn(nn.Module):
    """Multi-scale temporal conv (ST-GCN++): parallel branches on the same input, concatenated, then fused.

    ``ms_cfg`` lists the branches: ``(k, d)`` = 1x1 conv -> BN -> ReLU -> temporal conv (kernel k, dilation d);
    ``('max', k)`` = 1x1 conv -> BN -> ReLU -> max-pool over k frames; ``'1x1'`` = strided 1x1 conv. Each branch
    gets ``out // num_branches`` channels, the first takes the remainder (or ``int(out * mid_channels)`` each when
    ``mid_channels`` is a ratio). Then BN -> ReLU -> 1x1 conv -> BN -> dropout.
    """

    def __init__(self, in_channels, out_channels, mid_channels=None, dropout=0.,
                 ms_cfg=((3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'), stride=1):
        super().__init__()
        num_branches = len(ms_cfg)
        self.ms_cfg, self.num_branches = ms_cfg, num_branches
        self.in_channels, self.out_channels = in_channels, out_channels
        self.act = nn.ReLU()
        if mid_channels is None:
            mid_channels = out_channels // num_branches
            rem_mid_channels = out_channels - mid_channels * (num_branches - 1)
        else:
            if not (isinstance(mid_channels, float) and mid_channels > 0):
                raise ValueError(f'mstcn: mid_channels must be a positive ratio (float), got {mid_channels!r}')
            mid_channels = rem_mid_channels = int(out_channels * mid_channels)
        self.mid_channels, self.rem_mid_channels = mid_channels, rem_mid_channels

        branches = []
        for i, cfg in enumerate(ms_cfg):
            width = rem_mid_channels if i == 0 else mid_channels
            if cfg == '1x1':
                branches.append(nn.Conv2d(in_channels, width, kernel_size=1, stride=(stride, 1)))
                continue
            kind, size = cfg
            head = [nn.Conv2d(in_channels, width, kernel_size=1), nn.BatchNorm2d(width), self.act]
            if kind == 'max':
                tail = TemporalMaxPool(kernel_size=(size, 1), stride=(stride, 1), padding=(1, 0))
            else:
                tail = unit_tcn(width, width, kernel_size=kind, stride=stride, dilation=size, norm=None)
            branches.append(nn.Sequential(*head, tail))
        self.branches = nn.ModuleList(branches)  # a branch is [1x1 conv, BN, ReLU, tail] or a strided 1x1 conv

        fused = mid_channels * (num_branches - 1) + rem_mid_channels
        self.transform = nn.Sequential(nn.BatchNorm2d(fused), self.act, nn.Conv2d(fused, out_channels, kernel_size=1))
        self.bn = nn.BatchNorm2d(out_channels)
        self.drop = nn.Dropout(dropout, inplace=True)

    def branch_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """All branches on ``x``, concatenated on channels.

        The branches that open with 1x1 conv -> BN -> ReLU read the same input, so their convs and BNs run as one
        wide conv and one BN (the same numbers as one by one, in a fraction of the time); each branch's own modules
        keep their parameters and running statistics.
        """
        headed = [i for i, b in enumerate(self.branches) if isinstance(b, nn.Sequential)]
        bns = [self.branches[i][1] for i in headed]
        folded = all(isinstance(bn, nn.Identity) for bn in bns)  # pyskl.models.fuse_bn put them into the convs
        if len(headed) < 2 or not (folded or _mergeable(bns)):
            return torch.cat([branch(x) for branch in self.branches], dim=1)
        convs = [self.branches[i][0] for i in headed]
        head = F.conv2d(x, torch.cat([c.weight for c in convs]), torch.cat([c.bias for c in convs]))
        if not folded:
            head = _merged_batch_norm(bns, head, self.training)
        # ReLU each branch's channel slice out of place: the result is dense, so the branch convs need no copy of
        # a strided slice (forward and backward)
        heads = dict(zip(headed, map(torch.relu, head.split([c.out_channels for c in convs], dim=1))))
        outs = [branch[3](heads[i]) if i in heads else branch(x) for i, branch in enumerate(self.branches)]
        return torch.cat(outs, dim=1)

    def forward(self, x):
        feat = self.branch_outputs(x)
        return self.drop(self.bn(self.transform(feat)))


def _mergeable(bns) -> bool:
    """BatchNorms that share eps and a fixed momentum and track statistics can run as one."""
    first = bns[0]
    return all(
        isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats and bn.affine and bn.momentum is not None
        and bn.momentum == first.momentum and bn.eps == first.eps for bn in bns)


def _merged_batch_norm(bns, x: torch.Tensor, training: bool) -> torch.Tensor:
    """Apply BatchNorm2d modules ``bns`` to consecutive channel groups of ``x`` in one call, updating each module's
    running statistics exactly as its own forward would."""
    first = bns[0]
    weight = torch.cat([bn.weight for bn in bns])
    bias = torch.cat([bn.bias for bn in bns])
    mean = torch.cat([bn.running_mean for bn in bns])
    var = torch.cat([bn.running_var for bn in bns])
    if not training:
        return F.batch_norm(x, mean, var, weight, bias, False, 0., first.eps)
    out = F.batch_norm(x, mean, var, weight, bias, True, first.momentum, first.eps)  # updates mean/var in place
    with torch.no_grad():
        sizes = [bn.num_features for bn in bns]
        for bn, m, v in zip(bns, mean.split(sizes), var.split(sizes)):
            bn.running_mean.copy_(m)
            bn.running_var.copy_(v)
            bn.num_batches_tracked.add_(1)
    return out
