"""MS-G3D's multi-scale temporal conv, also CTR-GCN's (PYSKL's ``MSTCN``; not ST-GCN++'s :class:`mstcn`).

Input and output are ``[N, C, T, V]``. Module names follow PYSKL's checkpoints of both models.
"""
import torch
import torch.nn as nn

from .init import bn_init, conv_init
from .layers import TemporalMaxPool, Zero, build_act
from .pointwise import conv1x1, pointwise, stacked
from .tcn import block_residual, unit_tcn


class MSTCN(nn.Module):
    """Branches of 1x1 conv -> BN -> act -> temporal conv + BN (one per dilation), a max-pool branch (1x1 conv -> BN
    -> act -> max-pool 3 -> BN) and a strided 1x1 branch (conv -> BN), concatenated, plus a residual, then the
    activation (skipped with ``final_act=False``) and dropout. Branch widths: ``out // num_branches``, the last
    takes the remainder."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, dilations=(1, 2, 3, 4), residual=True,
                 act_cfg='ReLU', tcn_dropout=0, final_act=True):
        super().__init__()
        self.num_branches = len(dilations) + 2
        width = out_channels // self.num_branches
        rem_width = out_channels - width * (self.num_branches - 1)
        kernel_sizes = list(kernel_size) if isinstance(kernel_size, (list, tuple)) else [kernel_size] * len(dilations)
        if len(kernel_sizes) != len(dilations):
            raise ValueError(f'MSTCN: {len(kernel_sizes)} kernel sizes for {len(dilations)} dilations')

        def embed(c_out, conv_stride=1):  # the activation follows a BN: in place is safe
            return [nn.Conv2d(in_channels, c_out, kernel_size=1, stride=(conv_stride, 1)), nn.BatchNorm2d(c_out)]

        self.branches = nn.ModuleList(
            nn.Sequential(*embed(width), build_act(act_cfg, inplace=True),
                          unit_tcn(width, width, kernel_size=k, stride=stride, dilation=d))
            for k, d in zip(kernel_sizes, dilations))
        self.branches.append(
            nn.Sequential(*embed(width), build_act(act_cfg, inplace=True),
                          TemporalMaxPool(kernel_size=(3, 1), stride=(stride, 1), padding=(1, 0)),
                          nn.BatchNorm2d(width)))
        self.branches.append(nn.Sequential(*embed(rem_width, stride)))

        self.residual = block_residual(in_channels, out_channels, stride, residual)
        self.act = build_act(act_cfg, inplace=True) if final_act else nn.Identity()
        self.drop = nn.Dropout(tcn_dropout)

    def init_weights(self):
        """CTR-GCN's start (MS-G3D keeps PyTorch's defaults): kaiming convs, unit BNs."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                conv_init(m)
            elif isinstance(m, nn.BatchNorm2d):
                bn_init(m, 1)

    def forward(self, x):
        *mid, last = self.branches
        # the 1x1 convs opening the other branches read the same input: one matmul for all of them
        heads = conv1x1(x, *stacked(branch[0] for branch in mid)).chunk(len(mid), dim=1)
        outs = []
        for branch, out in zip(mid, heads):
            for layer in list(branch)[1:]:
                out = layer(out)
            outs.append(out)
        outs.append(pointwise(last, x))  # the strided 1x1 branch
        out = torch.cat(outs, dim=1)
        if not isinstance(self.residual, Zero):
            out = out + pointwise(self.residual, x)
        return self.drop(self.act(out))
