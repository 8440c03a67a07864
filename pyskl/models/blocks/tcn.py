"""Temporal convolutions shared by the GCN backbones: ``unit_tcn`` (ST-GCN) and ``mstcn`` (ST-GCN++).

Input and output are ``[N, C, T, V]``; the kernel spans time only. Names follow PYSKL's checkpoints.
"""
import torch
import torch.nn as nn

from .layers import build_norm


class unit_tcn(nn.Module):
    """Conv ``(k, 1)`` over time (``stride``, ``dilation``, 'same' padding) -> norm -> dropout."""

    def __init__(self, in_channels, out_channels, kernel_size=9, stride=1, dilation=1, norm='BN', dropout=0):
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        pad = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=(kernel_size, 1), padding=(pad, 0),
                              stride=(stride, 1), dilation=(dilation, 1))
        self.bn = build_norm(norm, out_channels) if norm is not None else nn.Identity()
        self.drop = nn.Dropout(dropout, inplace=True)

    def forward(self, x):
        return self.drop(self.bn(self.conv(x)))


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
                tail = nn.MaxPool2d(kernel_size=(size, 1), stride=(stride, 1), padding=(1, 0))
            else:
                tail = unit_tcn(width, width, kernel_size=kind, stride=stride, dilation=size, norm=None)
            branches.append(nn.Sequential(*head, tail))
        self.branches = nn.ModuleList(branches)

        fused = mid_channels * (num_branches - 1) + rem_mid_channels
        self.transform = nn.Sequential(nn.BatchNorm2d(fused), self.act, nn.Conv2d(fused, out_channels, kernel_size=1))
        self.bn = nn.BatchNorm2d(out_channels)
        self.drop = nn.Dropout(dropout, inplace=True)

    def forward(self, x):
        feat = torch.cat([branch(x) for branch in self.branches], dim=1)
        return self.drop(self.bn(self.transform(feat)))
