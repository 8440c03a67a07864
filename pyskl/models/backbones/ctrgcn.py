"""CTR-GCN (channel-wise topology refinement GCN), as in PYSKL.

Each subset's graph is refined per channel from the data: ``A_k + alpha * conv4(tanh(x1_u - x2_v))``, where
``x1``, ``x2`` are time-pooled joint embeddings; the temporal module is MS-G3D's multi-scale TCN.
Input ``[N, M, T, V, C]``, output ``[N, M, C', T', V]``.
"""
import torch
import torch.nn as nn

from pyskl.graph import Graph
from pyskl.registry import MODELS

from ..blocks import MSTCN, block_residual, bn_init, conv_init, kaiming_convs_unit_bns
from ..blocks.pointwise import conv1x1, pointwise, relu_with_shortcut, stacked
from .utils import data_bn_forward, load_pretrained, stage_plan


class CTRGC(nn.Module):
    """One subset's channel-wise topology refinement: ``y[c, t, v] = sum_u G[c, u, v] * conv3(x)[c, t, u]`` with
    ``G = alpha * conv4(tanh(x1_u - x2_v)) + A``, where ``x1``, ``x2`` are ``conv1(x)``, ``conv2(x)`` averaged over
    time. :class:`unit_ctrgcn` computes all its subsets at once; this forward is the one-subset reference."""

    def __init__(self, in_channels, out_channels, rel_reduction=8):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.rel_channels = 8 if in_channels <= 16 else in_channels // rel_reduction
        self.conv1 = nn.Conv2d(in_channels, self.rel_channels, kernel_size=1)
        self.conv2 = nn.Conv2d(in_channels, self.rel_channels, kernel_size=1)
        self.conv3 = nn.Conv2d(in_channels, out_channels, kernel_size=1)
        self.conv4 = nn.Conv2d(self.rel_channels, out_channels, kernel_size=1)

    def init_weights(self):
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            conv_init(conv)

    def forward(self, x, A=None, alpha=1):
        x1, x2, x3 = self.conv1(x).mean(-2), self.conv2(x).mean(-2), self.conv3(x)
        rel = torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2))  # [N, R, V, V]
        rel = self.conv4(rel) * alpha + (A[None, None] if A is not None else 0)  # [N, C, V, V]
        return torch.einsum('ncuv,nctu->nctv', rel, x3)


class unit_ctrgcn(nn.Module):
    """``relu(bn(sum_k CTRGC_k(x, A_k, alpha)) + down(x))`` with a learned ``A`` and a shared ``alpha``."""

    def __init__(self, in_channels, out_channels, A):
        super().__init__()
        self.in_c, self.out_c = in_channels, out_channels
        self.num_subset = A.size(0)
        self.convs = nn.ModuleList(CTRGC(in_channels, out_channels) for _ in range(self.num_subset))
        if in_channels != out_channels:
            self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
        else:
            self.down = nn.Identity()
        self.A = nn.Parameter(A.clone())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def init_weights(self):
        """Kaiming convs, unit BNs and ``bn`` at 1e-6 (a block starts near its residual), as PYSKL; ``A`` and
        ``alpha`` (0 when built) are left alone."""
        kaiming_convs_unit_bns(self, nn.Conv2d)
        bn_init(self.bn, 1e-6)

    def relations(self, x):
        """``[N, K, R, V * V]``: every subset's ``tanh(x1_u - x2_v)`` (before ``conv4``)."""
        n, c, t, v = x.shape
        K, R = self.num_subset, self.convs[0].rel_channels
        # a 1x1 conv commutes with the mean over time: pool first, then conv1 / conv2 on T times less data
        pooled = x.sum(-2) / t
        x1 = conv1x1(pooled, *stacked(conv.conv1 for conv in self.convs)).view(n, K, R, v)
        x2 = conv1x1(pooled, *stacked(conv.conv2 for conv in self.convs)).view(n, K, R, v)
        return torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2)).view(n, K, R, v * v)

    def topology(self, rel, k):
        """``[N, C_out, V, V]``: subset ``k``'s ``alpha * conv4(rel) + A``. ``alpha`` scales conv4's (small) weight
        and bias rather than its output, which spares two full-size passes and their gradients."""
        conv4, (n, R, vv) = self.convs[k].conv4, rel.shape
        weight = (conv4.weight.view(self.out_c, R) * self.alpha).expand(n, -1, -1)
        offset = (conv4.bias * self.alpha).unsqueeze(-1) + self.A[k].view(1, vv)
        return torch.baddbmm(offset.expand(n, -1, -1), weight, rel)

    def forward(self, x):
        n, _, t, v = x.shape
        rel = self.relations(x)
        # y[o, t, w] = sum_k conv3_k(x)[o, t, :] @ G_k[o]: one matmul per (sample, channel), subsets accumulated one
        # at a time (stacking them would build tensors K times the activations' size, costly fresh pages)
        y = None
        for k, conv in enumerate(self.convs):
            x3 = conv1x1(x, conv.conv3.weight, conv.conv3.bias).view(n * self.out_c, t, v)
            graph = self.topology(rel[:, k], k).view(n * self.out_c, v, v)
            y = torch.bmm(x3, graph) if y is None else torch.baddbmm(y, x3, graph)
        y = y.view(n, self.out_c, t, v)
        return self.relu(self.bn(y) + pointwise(self.down, x))


class CTRGCNBlock(nn.Module):
    """``relu(tcn1(gcn1(x)) + residual(x))`` with an MSTCN of kernel ``kernel_size`` over ``dilations``."""

    def __init__(self, in_channels, out_channels, A, stride=1, residual=True, kernel_size=5, dilations=(1, 2),
                 tcn_dropout=0):
        super().__init__()
        self.gcn1 = unit_ctrgcn(in_channels, out_channels, A)
        self.tcn1 = MSTCN(out_channels, out_channels, kernel_size=kernel_size, stride=stride, dilations=dilations,
                          residual=False, tcn_dropout=tcn_dropout)
        self.residual = block_residual(in_channels, out_channels, stride, residual)

    def init_weights(self):
        """As PYSKL: the residual ``unit_tcn`` keeps PyTorch's default init."""
        self.tcn1.init_weights()
        self.gcn1.init_weights()

    def forward(self, x):
        return relu_with_shortcut(self.tcn1(self.gcn1(x)), self.residual, x)


@MODELS.register_module()
class CTRGCN(nn.Module):
    """Stacked :class:`CTRGCNBlock` s (in ``net``) after an ``'MVC'`` data BatchNorm.

    Args:
        graph_cfg: ``Graph`` arguments (PYSKL uses ``'spatial'``).
        in_channels, base_channels, num_stages, inflate_stages, down_stages: the stage plan; unlike
            :class:`STGCN` the input block ``in_channels -> base_channels`` always exists (PYSKL).
        pretrained: a checkpoint loaded non-strictly by ``init_weights`` (PYSKL accepted and ignored it).
        num_person: M, for the data BatchNorm over M*V*C channels.
        **kwargs: block options ``kernel_size`` (5), ``dilations`` ((1, 2)) and ``tcn_dropout`` (not applied to
            the first block), the same for every block.
    """

    def __init__(self, graph_cfg, in_channels=3, base_channels=64, num_stages=10, inflate_stages=(5, 8),
                 down_stages=(5, 8), pretrained=None, num_person=2, **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - {'kernel_size', 'dilations', 'tcn_dropout'})
        if unknown:
            raise TypeError(f'CTRGCN: unexpected arguments {unknown}; block options are kernel_size, dilations, '
                            'tcn_dropout')
        self.graph = Graph(**graph_cfg)
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        self.register_buffer('A', A)
        self.in_channels, self.base_channels, self.num_person = in_channels, base_channels, num_person
        self.inflate_stages, self.down_stages = inflate_stages, down_stages
        self.kwargs = kwargs
        self.data_bn = nn.BatchNorm1d(num_person * in_channels * A.size(1))

        plan, _ = stage_plan(in_channels, base_channels, 2, num_stages, inflate_stages, down_stages, {})
        if in_channels == base_channels:
            plan.insert(0, (in_channels, base_channels, 1, False))
        first_kwargs = {k: v for k, v in kwargs.items() if k != 'tcn_dropout'}
        self.net = nn.ModuleList(
            CTRGCNBlock(c_in, c_out, A.clone(), stride, residual=residual, **(kwargs if i else first_kwargs))
            for i, (c_in, c_out, stride, residual) in enumerate(plan))
        self.num_stages = len(self.net)
        self.pretrained = pretrained
        self.init_weights()

    def init_weights(self):
        for block in self.net:
            block.init_weights()
        load_pretrained(self, self.pretrained)

    def forward(self, x):
        N, M, T, V, C = x.shape
        x = data_bn_forward(self.data_bn, 'MVC', x)  # [N * M, C, T, V]
        for block in self.net:
            x = block(x)
        return x.reshape((N, M) + x.shape[1:])
