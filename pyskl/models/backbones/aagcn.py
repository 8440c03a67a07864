"""2s-AGCN / MS-AAGCN (attention-enhanced adaptive GCN), as in PYSKL.

Each block mixes joints with three learned graphs per subset (the skeleton ``A``, a data-dependent
``tanh(theta(x)^T phi(x))`` scaled by ``alpha``), then applies spatial, temporal and channel attention.
Input ``[N, M, T, V, C]``, output ``[N, M, C', T', V]``.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from pyskl.graph import Graph
from pyskl.registry import MODELS

from ..blocks import (block_residual, bn_init, conv_branch_init, conv_init, kaiming_convs_unit_bns, mstcn,
                      unit_tcn)
from ..blocks.pointwise import conv1x1, pointwise, relu_with_shortcut, stacked
from .utils import build_data_bn, data_bn_forward, load_pretrained, split_block_kwargs, stage_plan


def spatial_gate(mean_t, weight, bias):
    return 1 + torch.sigmoid(F.conv1d(mean_t, weight, bias, padding=(weight.size(-1) - 1) // 2))


def temporal_gate(mean_v, weight, bias):
    return 1 + torch.sigmoid(F.conv1d(mean_v, weight, bias, padding=(weight.size(-1) - 1) // 2))


def channel_gate(mean_tv, weight1, bias1, weight2, bias2):
    return 1 + torch.sigmoid(F.linear(torch.relu(F.linear(mean_tv, weight1, bias1)), weight2, bias2))


class GatedAttention(torch.autograd.Function):
    """MS-AAGCN's attention, ``y * (1 + s_v) * (1 + g_t) * (1 + c_c)``, with a hand-written backward.

    The gates read means of the partly gated ``y``: ``s`` from ``mean_t(y)``, ``g`` from ``mean_v(y * s)``, ``c``
    from ``mean_tv(y * s * g)``. Computed step by step, autograd would keep three gated copies and spend some
    twenty full-size passes on the backward; here the means are weighted sums of ``y`` itself and the backward
    takes about ten. The gate networks are tiny: their gradients come from autograd, re-run on the saved means.
    """

    @staticmethod
    def forward(ctx, y, *params):
        w_sa, b_sa, w_ta, b_ta, w1, b1, w2, b2 = params
        n, c, t, v = y.shape
        mean_t = y.sum(2) / t  # [N, C, V]
        s = spatial_gate(mean_t, w_sa, b_sa).view(n, v)
        mean_v = torch.bmm(y.view(n, c * t, v), s.view(n, v, 1)).view(n, c, t) / v  # mean_v(y * s)
        g = temporal_gate(mean_v, w_ta, b_ta).view(n, t)
        gates = g.view(n, t, 1) * s.view(n, 1, v)  # [N, T, V]
        mean_tv = torch.bmm(y.view(n, c, t * v), gates.view(n, t * v, 1)).view(n, c) / (t * v)
        cg = channel_gate(mean_tv, w1, b1, w2, b2)
        ctx.save_for_backward(y, mean_t, mean_v, mean_tv, s, g, gates, cg, *params)
        return (y * gates.view(n, 1, t, v)).mul_(cg.view(n, c, 1, 1))

    @staticmethod
    def backward(ctx, grad_out):
        y, mean_t, mean_v, mean_tv, s, g, gates, cg, *params = ctx.saved_tensors
        w_sa, b_sa, w_ta, b_ta, w1, b1, w2, b2 = params
        n, c, t, v = y.shape
        grad_y_by_out = (grad_out * y).view(n, c, t * v)
        # the channel gate, then back into the gates through mean_tv
        d_cg = torch.bmm(grad_y_by_out, gates.view(n, t * v, 1)).view(n, c)
        d_mean_tv, *d_channel = _gate_grads(channel_gate, mean_tv, (w1, b1, w2, b2), d_cg)
        d_gates = torch.bmm(cg.view(n, 1, c), grad_y_by_out).view(n, t, v)
        d_gates += torch.bmm((d_mean_tv / (t * v)).view(n, 1, c), y.view(n, c, t * v)).view(n, t, v)
        # the temporal gate, then back into s through mean_v
        d_mean_v, *d_temporal = _gate_grads(temporal_gate, mean_v, (w_ta, b_ta), (d_gates * s.view(n, 1, v)).sum(2))
        d_s = (d_gates * g.view(n, t, 1)).sum(1)
        d_s += torch.bmm((d_mean_v / v).view(n, 1, c * t), y.view(n, c * t, v)).view(n, v)
        d_mean_t, *d_spatial = _gate_grads(spatial_gate, mean_t, (w_sa, b_sa), d_s)
        # dy = gates * (grad_out * cg + d_mean_tv / TV) + d_mean_v / V * s + d_mean_t / T
        grad_y = torch.addcmul((d_mean_tv / (t * v)).view(n, c, 1, 1), grad_out, cg.view(n, c, 1, 1))
        grad_y.mul_(gates.view(n, 1, t, v))
        grad_y.addcmul_((d_mean_v / v).view(n, c, t, 1), s.view(n, 1, 1, v))
        grad_y.add_((d_mean_t / t).view(n, c, 1, v))
        return (grad_y, *d_spatial, *d_temporal, *d_channel)


def _gate_grads(gate, mean, params, grad_gate):
    """Gradients of ``sum(gate(mean, *params) * grad_gate)`` w.r.t. ``mean`` and ``params``."""
    with torch.enable_grad():
        inputs = [mean.detach().requires_grad_(), *(p.detach().requires_grad_() for p in params)]
        out = gate(*inputs)
        return torch.autograd.grad(out, inputs, grad_gate.view_as(out))


class unit_aagcn(nn.Module):
    """Adaptive graph conv with attention: ``y = relu(bn(sum_k conv_d[k](x @ A_k)) + down(x))``, then attention.

    Args:
        coff_embedding: ``out // coff_embedding`` channels embed the joints for the data-dependent graph.
        adaptive: learn ``A`` (a parameter) and add the data-dependent graph; otherwise ``A`` is a fixed buffer.
        attention: spatial (``conv_sa``), temporal (``conv_ta``) and channel (``fc1c``/``fc2c``) attention,
            each applied as ``y * (1 + gate)``.
    """

    def __init__(self, in_channels, out_channels, A, coff_embedding=4, adaptive=True, attention=True):
        super().__init__()
        self.in_c, self.out_c = in_channels, out_channels
        self.inter_c = out_channels // coff_embedding
        self.num_subset = A.size(0)
        self.adaptive, self.attention = adaptive, attention
        num_joints = A.size(-1)

        self.conv_d = nn.ModuleList(nn.Conv2d(in_channels, out_channels, 1) for _ in range(self.num_subset))
        if adaptive:
            self.A = nn.Parameter(A)
            self.alpha = nn.Parameter(torch.zeros(1))
            self.conv_a = nn.ModuleList(nn.Conv2d(in_channels, self.inter_c, 1) for _ in range(self.num_subset))
            self.conv_b = nn.ModuleList(nn.Conv2d(in_channels, self.inter_c, 1) for _ in range(self.num_subset))
        else:
            self.register_buffer('A', A)

        if attention:
            self.conv_ta = nn.Conv1d(out_channels, 1, 9, padding=4)
            # an odd kernel as wide as the skeleton, so every joint sees every other one
            ker_joint = num_joints if num_joints % 2 else num_joints - 1
            self.conv_sa = nn.Conv1d(out_channels, 1, ker_joint, padding=(ker_joint - 1) // 2)
            self.fc1c = nn.Linear(out_channels, out_channels // 2)
            self.fc2c = nn.Linear(out_channels // 2, out_channels)

        if in_channels != out_channels:
            self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
        else:
            self.down = nn.Identity()
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def init_weights(self):
        """PYSKL's init: kaiming convs, branch-scaled ``conv_d``, ``bn`` at 1e-6 (a block starts near identity),
        temporal and channel gates at 0."""
        kaiming_convs_unit_bns(self, nn.Conv2d)
        bn_init(self.bn, 1e-6)
        for conv in self.conv_d:
            conv_branch_init(conv, self.num_subset)
        if self.attention:
            nn.init.zeros_(self.conv_ta.weight)
            nn.init.zeros_(self.conv_ta.bias)
            nn.init.xavier_normal_(self.conv_sa.weight)
            nn.init.zeros_(self.conv_sa.bias)
            nn.init.kaiming_normal_(self.fc1c.weight)
            nn.init.zeros_(self.fc1c.bias)
            nn.init.zeros_(self.fc2c.weight)
            nn.init.zeros_(self.fc2c.bias)

    def graphs(self, x):
        """``[N or 1, K, V, V]``: the skeleton graphs, plus ``alpha * tanh(theta^T phi / (inter * T))``."""
        if not self.adaptive:
            return self.A.unsqueeze(0)
        n, _, t, v = x.shape
        # theta (phi) of every subset from one conv: the weights of conv_a[k] (conv_b[k]) stacked
        theta = conv1x1(x, *stacked(self.conv_a)).view(n, self.num_subset, self.inter_c * t, v)
        phi = conv1x1(x, *stacked(self.conv_b)).view(n, self.num_subset, self.inter_c * t, v)
        sim = torch.tanh(torch.matmul(theta.transpose(-1, -2), phi) / (self.inter_c * t))
        return self.A + sim * self.alpha

    def attend(self, y):
        """Spatial, then temporal, then channel attention, each ``y * (1 + gate)`` (see :class:`GatedAttention`)."""
        params = (self.conv_sa.weight, self.conv_sa.bias, self.conv_ta.weight, self.conv_ta.bias, self.fc1c.weight,
                  self.fc1c.bias, self.fc2c.weight, self.fc2c.bias)
        return GatedAttention.apply(y, *params)

    def forward(self, x):
        n, c, t, v = x.shape
        graphs = self.graphs(x)  # [N or 1, K, V, V]
        # sum_k conv_d[k](x @ A_k), accumulated subset by subset: stacking the K aggregated copies into one
        # [N, K * C, T, V] tensor would need a reorder, and a tensor that size costs fresh pages on every call
        y = None
        for k, conv in enumerate(self.conv_d):
            agg = torch.matmul(x.view(n, c * t, v), graphs[:, k]).view(n, c, t, v)
            if y is None:
                y = conv1x1(agg, conv.weight, sum(conv.bias for conv in self.conv_d))
            else:
                y = conv1x1(agg, conv.weight, y)
        y = self.relu(self.bn(y) + pointwise(self.down, x))
        return self.attend(y) if self.attention else y


class AAGCNBlock(nn.Module):
    """``relu(tcn(gcn(x)) + residual(x))``: ``gcn_*`` kwargs go to :class:`unit_aagcn`, ``tcn_*`` to the temporal
    module (``tcn_type``: ``'unit_tcn'`` with kernel 9, or ``'mstcn'``)."""

    def __init__(self, in_channels, out_channels, A, stride=1, residual=True, **kwargs):
        super().__init__()
        gcn_kwargs, tcn_kwargs = split_block_kwargs(kwargs, type(self).__name__)
        tcn_type = tcn_kwargs.pop('type', 'unit_tcn')
        gcn_type = gcn_kwargs.pop('type', 'unit_aagcn')
        if gcn_type != 'unit_aagcn':
            raise ValueError(f"AAGCNBlock: gcn_type must be 'unit_aagcn', got {gcn_type!r}")

        self.gcn = unit_aagcn(in_channels, out_channels, A, **gcn_kwargs)
        if tcn_type == 'unit_tcn':
            self.tcn = unit_tcn(out_channels, out_channels, 9, stride=stride, **tcn_kwargs)
        elif tcn_type == 'mstcn':
            self.tcn = mstcn(out_channels, out_channels, stride=stride, **tcn_kwargs)
        else:
            raise ValueError(f"AAGCNBlock: tcn_type must be 'unit_tcn' or 'mstcn', got {tcn_type!r}")

        self.residual = block_residual(in_channels, out_channels, stride, residual)

    def init_weights(self):
        """PYSKL initialises a ``unit_tcn`` (kaiming conv, unit BN) but leaves ``mstcn`` and the residual at
        PyTorch's defaults."""
        if isinstance(self.tcn, unit_tcn):
            conv_init(self.tcn.conv)
            bn_init(self.tcn.bn, 1)
        self.gcn.init_weights()

    def forward(self, x):
        return relu_with_shortcut(self.tcn(self.gcn(x)), self.residual, x)


@MODELS.register_module()
class AAGCN(nn.Module):
    """Stacked :class:`AAGCNBlock` s after a data BatchNorm.

    Args:
        graph_cfg: ``Graph`` arguments (``layout``, ``mode``; PYSKL uses ``'spatial'``).
        in_channels: C of the input.
        base_channels, num_stages, inflate_stages, down_stages: the stage plan (widths double at each inflate
            stage, time halves at each down stage; stages are 1-based, as in :class:`STGCN`).
        data_bn_type: ``'MVC'`` (BN over M*V*C channels, the default), ``'VC'`` or ``None`` (no data BN).
        num_person: M, for ``'MVC'``.
        pretrained: a checkpoint loaded non-strictly by ``init_weights``.
        **kwargs: ``gcn_*`` (``coff_embedding``, ``adaptive``, ``attention``) / ``tcn_*`` block options; a tuple of
            length ``num_stages`` gives per-stage values; ``tcn_dropout`` skips the first stage.
    """

    def __init__(self, graph_cfg, in_channels=3, base_channels=64, data_bn_type='MVC', num_person=2, num_stages=10,
                 inflate_stages=(5, 8), down_stages=(5, 8), pretrained=None, **kwargs):
        super().__init__()
        if data_bn_type not in ('MVC', 'VC', None):
            raise ValueError(f"AAGCN: data_bn_type must be 'MVC', 'VC' or None, got {data_bn_type!r}")
        self.graph = Graph(**graph_cfg)
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        self.register_buffer('A', A)
        self.kwargs = kwargs
        self.data_bn_type = data_bn_type
        self.in_channels, self.base_channels, self.num_person = in_channels, base_channels, num_person
        self.inflate_stages, self.down_stages = inflate_stages, down_stages
        self.data_bn = build_data_bn(data_bn_type, num_person, in_channels, A.size(1))

        plan, block_kwargs = stage_plan(in_channels, base_channels, 2, num_stages, inflate_stages, down_stages, kwargs)
        self.gcn = nn.ModuleList(
            AAGCNBlock(c_in, c_out, A.clone(), stride, residual=residual, **kw)
            for (c_in, c_out, stride, residual), kw in zip(plan, block_kwargs))
        self.num_stages = len(self.gcn)
        self.pretrained = pretrained
        self.init_weights()

    def init_weights(self):
        if isinstance(self.data_bn, nn.BatchNorm1d):
            bn_init(self.data_bn, 1)
        for block in self.gcn:
            block.init_weights()
        load_pretrained(self, self.pretrained)

    def forward(self, x):
        N, M, T, V, C = x.shape
        x = data_bn_forward(self.data_bn, self.data_bn_type, x)  # [N * M, C, T, V]
        for block in self.gcn:
            x = block(x)
        return x.reshape((N, M) + x.shape[1:])
