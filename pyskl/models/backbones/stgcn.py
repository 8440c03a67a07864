"""ST-GCN and ST-GCN++ (one backbone, as in PYSKL).

Vanilla / PYSKL-practice ST-GCN: ``gcn_adaptive='importance'`` with the ``stgcn_spatial`` graph and ``unit_tcn``;
ST-GCN++: ``gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn'`` with the ``spatial`` graph.
Input ``[N, M, T, V, C]``, output ``[N, M, C', T', V]``.
"""

import torch
import torch.nn as nn

from pyskl.graph import Graph
from pyskl.registry import MODELS

from ..blocks import block_residual, mstcn, unit_gcn, unit_tcn
from .utils import build_data_bn, data_bn_forward, load_pretrained, stage_plan, split_block_kwargs


class STGCNBlock(nn.Module):
    """``relu(tcn(gcn(x)) + residual(x))``. ``gcn_*`` kwargs go to :class:`unit_gcn`, ``tcn_*`` to the temporal
    module (``tcn_type``: ``'unit_tcn'`` with kernel 9, or ``'mstcn'``)."""

    def __init__(self, in_channels, out_channels, A, stride=1, residual=True, **kwargs):
        super().__init__()
        gcn_kwargs, tcn_kwargs = split_block_kwargs(kwargs, type(self).__name__)
        tcn_type = tcn_kwargs.pop('type', 'unit_tcn')
        gcn_type = gcn_kwargs.pop('type', 'unit_gcn')
        if gcn_type != 'unit_gcn':
            raise ValueError(f"STGCNBlock: gcn_type must be 'unit_gcn', got {gcn_type!r}")

        self.gcn = unit_gcn(in_channels, out_channels, A, **gcn_kwargs)
        if tcn_type == 'unit_tcn':
            self.tcn = unit_tcn(out_channels, out_channels, 9, stride=stride, **tcn_kwargs)
        elif tcn_type == 'mstcn':
            self.tcn = mstcn(out_channels, out_channels, stride=stride, **tcn_kwargs)
        else:
            raise ValueError(f"STGCNBlock: tcn_type must be 'unit_tcn' or 'mstcn', got {tcn_type!r}")
        self.relu = nn.ReLU(inplace=True)

        self.residual = block_residual(in_channels, out_channels, stride, residual)

    def forward(self, x):
        res = self.residual(x)
        return self.relu(self.tcn(self.gcn(x)) + res)  # in place on the sum


@MODELS.register_module()
class STGCN(nn.Module):
    """Stacked :class:`STGCNBlock` s after a data BatchNorm.

    Args:
        graph_cfg: ``Graph`` arguments (``layout``, ``mode``, ...).
        in_channels: C of the input (3 for x, y, z or x, y, score; 2 for x, y).
        base_channels, ch_ratio, num_stages, inflate_stages, down_stages: the stage plan; widths multiply by
            ``ch_ratio`` at each inflate stage and time is halved at each down stage (stages are 1-based).
        data_bn_type: ``'VC'`` (BN over V*C channels), ``'MVC'`` (also per person slot) or anything else (none).
        num_person: M, only for ``'MVC'``.
        pretrained: a checkpoint to load in ``init_weights`` (non-strict, as PYSKL).
        **kwargs: ``gcn_*`` / ``tcn_*`` block options; a tuple of length ``num_stages`` gives per-stage values.
    """

    def __init__(self, graph_cfg, in_channels=3, base_channels=64, data_bn_type='VC', ch_ratio=2, num_person=2,
                 num_stages=10, inflate_stages=(5, 8), down_stages=(5, 8), pretrained=None, **kwargs):
        super().__init__()
        self.graph = Graph(**graph_cfg)
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        self.data_bn_type = data_bn_type
        self.kwargs = kwargs
        self.data_bn = build_data_bn(data_bn_type, num_person, in_channels, A.size(1))

        plan, block_kwargs = stage_plan(in_channels, base_channels, ch_ratio, num_stages, inflate_stages, down_stages,
                                        kwargs)
        self.in_channels, self.base_channels, self.ch_ratio = in_channels, base_channels, ch_ratio
        self.inflate_stages, self.down_stages = inflate_stages, down_stages
        self.gcn = nn.ModuleList(
            STGCNBlock(c_in, c_out, A.clone(), stride, residual=residual, **kw)
            for (c_in, c_out, stride, residual), kw in zip(plan, block_kwargs))
        self.num_stages = len(self.gcn)
        self.pretrained = pretrained

    def init_weights(self):
        load_pretrained(self, self.pretrained)

    def forward(self, x):
        N, M, T, V, C = x.size()
        # [N * M, C, T, V], channels-last in memory: oneDNN's CPU convolutions run faster on it (the results are
        # the same) and unit_gcn aggregates joints without copies.
        x = data_bn_forward(self.data_bn, self.data_bn_type, x).contiguous(memory_format=torch.channels_last)
        for block in self.gcn:
            x = block(x)
        return x.reshape((N, M) + x.shape[1:])
