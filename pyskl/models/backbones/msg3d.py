"""MS-G3D (Liu et al., CVPR 2020) as PYSKL builds it.

Three stages of ``relu(sgcn(x) + gcn3d(x))`` then a multi-scale TCN: ``sgcn`` is a multi-scale spatial GCN followed
by two MS-G3D-style TCNs, ``gcn3d`` sums two G3D pathways (temporal windows of 3 and 5 frames, each a multi-scale GCN
over the window's space-time graph, collapsed back to one frame). Input ``[N, M, T, V, C]``, output
``[N, M, 4 * base_channels, T / 4, V]``. Module names, parameter shapes and registration order are PYSKL's.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from pyskl.graph import Graph, k_adjacency, normalize_digraph
from pyskl.registry import MODELS

from ..blocks import MSTCN, Zero, build_act
from .utils import build_data_bn, check_input, data_bn_forward, load_pretrained


def multiscale_adjacency(A: np.ndarray, num_scales: int) -> torch.Tensor:
    """``[num_scales, V, V]``: joints exactly ``k`` hops apart (plus self loops), each column-normalised."""
    scales = [normalize_digraph(k_adjacency(A, k, with_self=True)) for k in range(num_scales)]
    return torch.tensor(np.stack(scales), dtype=torch.float32)


def spacetime_adjacency(A: np.ndarray, window_size: int) -> np.ndarray:
    """The G3D graph of a window: every frame's joints link to every frame's neighbours and to themselves."""
    A_with_self = A + np.eye(len(A), dtype=A.dtype)
    return np.tile(A_with_self, (window_size, window_size))


# The graph convolutions run "node-major": a feature map [N, C, T, V] is held as [V, C, N * T]. Then the multi-scale
# aggregation is one wide matrix product (all scales and target nodes at once), it lands with each node's
# (scale, channel) rows together, as PYSKL's 1x1 conv reads them, and the convs become per-node matrix products: no
# permuted copy of the K-times-larger aggregated tensor is made, forward or backward.

def to_node_major(x: torch.Tensor) -> torch.Tensor:
    """``[N, C, T, V]`` -> ``[V, C, N * T]``."""
    N, C, T, V = x.shape
    return x.permute(3, 1, 0, 2).reshape(V, C, N * T)


def from_node_major(x: torch.Tensor, N: int) -> torch.Tensor:
    """``[V, C, N * T]`` -> ``[N, C, T, V]`` (a view)."""
    V, C, NT = x.shape
    return x.view(V, C, N, NT // N).permute(2, 1, 3, 0)


def graph_aggregate(x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    """``x`` ``[V, C, B]``, ``A`` ``[K, V, U]`` -> ``[U, K * C, B]``: ``out[u, k * C + c] = sum_v A[k, v, u] x[v, c]``.

    The (scale, channel) order is that of PYSKL's ``einsum('kvu,nctv->nkctu')`` + reshape, so the MLP's conv weights
    apply unchanged.
    """
    V, C, B = x.shape
    K, _, U = A.shape
    out = A.permute(2, 0, 1).reshape(U * K, V) @ x.reshape(V, C * B)
    return out.view(U, K * C, B)


def node_wise_conv(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A 1x1 ``conv`` on a node-major ``x`` ``[U, C, B]``: one matrix product per node."""
    weight = conv.weight.reshape(conv.out_channels, -1)
    weight = weight.expand((x.size(0), ) + weight.shape)
    if conv.bias is None:
        return torch.bmm(weight, x)
    return torch.baddbmm(conv.bias[None, :, None], weight, x)


def window_major_to_joint_major(A: torch.Tensor, window_size: int) -> torch.Tensor:
    """Reorder both node axes of a space-time graph ``[K, W * V, W * V]`` from (frame, joint) to (joint, frame)."""
    K, WV, _ = A.shape
    V = WV // window_size
    return A.view(K, window_size, V, window_size, V).permute(0, 2, 1, 4, 3).reshape(K, WV, WV)


class MLP(nn.Module):
    """1x1 conv -> BN (-> activation) per entry of ``out_channels``, optionally after dropout."""

    def __init__(self, in_channels, out_channels, act_cfg='ReLU', dropout=0):
        super().__init__()
        channels = [in_channels] + list(out_channels)
        self.layers = nn.ModuleList()
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            if dropout > 1e-3:
                self.layers.append(nn.Dropout(p=dropout))
            self.layers.append(nn.Conv2d(c_in, c_out, kernel_size=1))
            self.layers.append(nn.BatchNorm2d(c_out))
            if act_cfg:
                self.layers.append(build_act(act_cfg, inplace=True))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def forward_node_major(self, x):
        """The same on ``[V, C, B]``; the other layers see it as ``[V, C, B, 1]``, so BN statistics are unchanged
        (and an in-place ReLU acts on BN's output itself, not on a view of it)."""
        x = x.unsqueeze(-1)
        for layer in self.layers:
            x = node_wise_conv(layer, x.squeeze(-1)).unsqueeze(-1) if isinstance(layer, nn.Conv2d) else layer(x)
        return x.squeeze(-1)


class MSGCN(nn.Module):
    """Multi-scale spatial GCN: aggregate over ``num_scales`` hop distances (``A + PA``), then an :class:`MLP`."""

    def __init__(self, num_scales, in_channels, out_channels, A, dropout=0, act_cfg='ReLU'):
        super().__init__()
        self.num_scales = num_scales
        self.register_buffer('A', multiscale_adjacency(np.asarray(A, dtype=np.float32), num_scales))
        self.PA = nn.Parameter(torch.empty_like(self.A))
        self.mlp = MLP(in_channels * num_scales, [out_channels], dropout=dropout, act_cfg=act_cfg)
        self.init_weights()

    def init_weights(self):
        nn.init.uniform_(self.PA, -1e-6, 1e-6)

    def forward_node_major(self, x):
        return self.mlp.forward_node_major(graph_aggregate(x, self.A + self.PA))

    def forward(self, x):
        return from_node_major(self.forward_node_major(to_node_major(x)), x.size(0)).contiguous()


class UnfoldTemporalWindows(nn.Module):
    """``[N, C, T, V]`` -> ``[N, C, T', window_size * V]``: each output frame holds the ``window_size`` frames around
    it (zero-padded), frame-major on the node axis."""

    def __init__(self, window_size, window_stride, window_dilation=1):
        super().__init__()
        self.window_size, self.window_stride, self.window_dilation = window_size, window_stride, window_dilation
        self.padding = (window_size + (window_size - 1) * (window_dilation - 1) - 1) // 2

    def windows(self, x):
        """``[N, C, T', V, window_size]``: a strided view of the padded input, no copy."""
        span = (self.window_size - 1) * self.window_dilation + 1
        x = F.pad(x, (0, 0, self.padding, self.padding))
        return x.unfold(2, span, self.window_stride)[..., ::self.window_dilation]

    def forward(self, x):
        N, C, _, V = x.shape
        return self.windows(x).transpose(3, 4).reshape(N, C, -1, self.window_size * V)

    def joint_major(self, x):
        """Node-major ``[V * window_size, C, N * T']`` with nodes ordered (joint, frame), in one copy."""
        N, C, _, V = x.shape
        return self.windows(x).permute(3, 4, 1, 0, 2).reshape(V * self.window_size, C, -1)


class ST_MSGCN(nn.Module):
    """Multi-scale GCN over a temporal window's space-time graph (``window_size * V`` nodes), then an
    :class:`MLP`, an optional residual and the activation. ``A`` and ``PA`` order the nodes (frame, joint)."""

    def __init__(self, in_channels, out_channels, A, num_scales, window_size, residual=False, dropout=0,
                 act_cfg='ReLU'):
        super().__init__()
        self.num_scales, self.window_size = num_scales, window_size
        A = spacetime_adjacency(np.asarray(A, dtype=np.float32), window_size)
        self.register_buffer('A', multiscale_adjacency(A, num_scales))
        self.V = len(A)
        self.PA = nn.Parameter(torch.empty_like(self.A))
        self.mlp = MLP(in_channels * num_scales, [out_channels], dropout=dropout, act_cfg=act_cfg)
        if not residual:
            self.residual = Zero()
        elif in_channels == out_channels:
            self.residual = nn.Identity()
        else:
            self.residual = MLP(in_channels, [out_channels], act_cfg=None)
        self.act = build_act(act_cfg, inplace=True)
        # Without a residual PYSKL applies the activation twice in a row; a second ReLU changes nothing.
        self.skip_act = not residual and all(isinstance(m, nn.ReLU) for m in (self.act, self.mlp.layers[-1]))
        self.init_weights()

    def init_weights(self):
        nn.init.uniform_(self.PA, -1e-6, 1e-6)

    def forward_joint_major(self, x):
        """Node-major ``[W * V, C, B]`` -> ``[W * V, out, B]``, nodes ordered (joint, frame) on both sides."""
        A = window_major_to_joint_major(self.A + self.PA, self.window_size)
        out = self.mlp.forward_node_major(graph_aggregate(x, A))
        if isinstance(self.residual, MLP):
            out = out + self.residual.forward_node_major(x)
        elif isinstance(self.residual, nn.Identity):
            out = out + x
        return out if self.skip_act else self.act(out)

    def forward(self, x):
        N, C, T, WV = x.shape
        W, V = self.window_size, WV // self.window_size
        x = x.view(N, C, T, W, V).permute(4, 3, 1, 0, 2).reshape(WV, C, N * T)
        out = self.forward_joint_major(x)
        return out.view(V, W, -1, N, T).permute(3, 2, 4, 1, 0).reshape(N, -1, T, WV)


class MSG3DBlock(nn.Module):
    """One G3D pathway: unfold temporal windows, :class:`ST_MSGCN` on them, then collapse each window with a
    ``(1, window_size, 1)`` Conv3d and BN (no activation).

    With ``embed_factor == 1`` the space-time GCN keeps the input width and the collapse changes it, except in the
    input block (``first=True``), whose GCN goes to ``out_channels`` right away. PYSKL decides this by
    ``in_channels == 3`` instead, which breaks inputs with other widths (e.g. 2D skeletons without scores).
    """

    def __init__(self, in_channels, out_channels, A, num_scales, window_size, window_stride, window_dilation,
                 embed_factor=1, first=False):
        super().__init__()
        self.window_size, self.out_channels = window_size, out_channels
        if embed_factor == 1:
            self.in1x1 = nn.Identity()
            self.embed_channels_in = in_channels
            self.embed_channels_out = out_channels if first else in_channels
        else:
            self.embed_channels_in = self.embed_channels_out = out_channels // embed_factor
            self.in1x1 = MLP(in_channels, [self.embed_channels_in])

        self.gcn3d = nn.Sequential(
            UnfoldTemporalWindows(window_size, window_stride, window_dilation),
            ST_MSGCN(self.embed_channels_in, self.embed_channels_out, A, num_scales, window_size))
        self.out_conv = nn.Conv3d(self.embed_channels_out, out_channels, kernel_size=(1, window_size, 1))
        self.out_bn = nn.BatchNorm2d(out_channels)

    def forward_node_major(self, x):
        """``[N, C, T, V]`` -> node-major ``[V, out_channels, N * T']``."""
        V, W = x.size(-1), self.window_size
        unfold, st_gcn = self.gcn3d
        y = st_gcn.forward_joint_major(unfold.joint_major(self.in1x1(x)))  # [V * W, E, N * T']
        # joint-major, each joint's rows are (frame, channel): the collapse is one product per joint, with the
        # Conv3d weight [out, E, 1, W, 1] reordered to (frame, channel)
        y = y.view(V, W * self.embed_channels_out, -1)
        collapse = self.out_conv.weight.permute(0, 3, 1, 2, 4).reshape(self.out_channels, -1)
        out = torch.baddbmm(self.out_conv.bias[None, :, None], collapse.expand(V, *collapse.shape), y)
        return self.out_bn(out.unsqueeze(-1)).squeeze(-1)

    def forward(self, x):
        return from_node_major(self.forward_node_major(x), x.size(0)).contiguous()


class MW_MSG3DBlock(nn.Module):
    """The sum of :class:`MSG3DBlock` pathways, one per window size."""

    def __init__(self, in_channels, out_channels, A, num_scales, window_sizes=(3, 5), window_stride=1,
                 window_dilations=(1, 1), first=False):
        super().__init__()
        self.gcn3d = nn.ModuleList(
            MSG3DBlock(in_channels, out_channels, A, num_scales, size, window_stride, dilation, first=first)
            for size, dilation in zip(window_sizes, window_dilations))

    def forward(self, x):
        out = self.gcn3d[0].forward_node_major(x)
        for pathway in self.gcn3d[1:]:
            out = out + pathway.forward_node_major(x)
        return from_node_major(out, x.size(0))


@MODELS.register_module()
class MSG3D(nn.Module):
    """MS-G3D backbone (PYSKL's).

    Args:
        graph_cfg: ``Graph`` arguments; PYSKL uses ``mode='binary_adj'`` (its single subset is the base graph).
        in_channels: C of the input. PYSKL sizes the data BN by it but hard-codes 3 in the first layers; here the
            first layers take ``in_channels`` too, so e.g. ``in_channels=2`` works.
        base_channels: width of stage 1; stages 2 and 3 double it (96, 192, 384 by default).
        num_gcn_scales, num_g3d_scales: hop scales of the spatial and the space-time GCNs.
        num_person: M, for the data BN (over M * V * C channels).
        tcn_dropout: dropout at the end of each stage's TCN.
        pretrained: a checkpoint to load in ``init_weights`` (non-strict); not in PYSKL.
    """

    def __init__(self, graph_cfg, in_channels=3, base_channels=96, num_gcn_scales=13, num_g3d_scales=6, num_person=2,
                 tcn_dropout=0, pretrained=None):
        super().__init__()
        self.graph = Graph(**graph_cfg)
        A = torch.tensor(self.graph.A[0], dtype=torch.float32)
        self.register_buffer('A', A)
        A = A.numpy()
        self.num_point = A.shape[-1]
        self.in_channels, self.base_channels, self.num_person = in_channels, base_channels, num_person
        self.data_bn = build_data_bn('MVC', num_person, in_channels, self.num_point)
        c1, c2, c3 = base_channels, base_channels * 2, base_channels * 4

        self.gcn3d1 = MW_MSG3DBlock(in_channels, c1, A, num_g3d_scales, window_stride=1, first=True)
        self.sgcn1 = self._spatial_path(MSGCN(num_gcn_scales, in_channels, c1, A), c1, c1, 1)
        self.tcn1 = MSTCN(c1, c1, tcn_dropout=tcn_dropout)

        self.gcn3d2 = MW_MSG3DBlock(c1, c2, A, num_g3d_scales, window_stride=2)
        self.sgcn2 = self._spatial_path(MSGCN(num_gcn_scales, c1, c1, A), c1, c2, 2)
        self.tcn2 = MSTCN(c2, c2, tcn_dropout=tcn_dropout)

        self.gcn3d3 = MW_MSG3DBlock(c2, c3, A, num_g3d_scales, window_stride=2)
        self.sgcn3 = self._spatial_path(MSGCN(num_gcn_scales, c2, c2, A), c2, c3, 2)
        self.tcn3 = MSTCN(c3, c3, tcn_dropout=tcn_dropout)
        self.pretrained = pretrained
        self.init_weights()

    @staticmethod
    def _spatial_path(msgcn, c_in, c_out, stride):
        # the second TCN has no activation: it comes after the sum with the G3D pathway
        return nn.Sequential(msgcn, MSTCN(c_in, c_out, stride=stride), MSTCN(c_out, c_out, final_act=False))

    def init_weights(self):
        """PYSKL's start: ``PA`` ~ U(-1e-6, 1e-6), everything else PyTorch's default; then ``pretrained``."""
        for m in self.modules():
            if isinstance(m, (MSGCN, ST_MSGCN)):
                m.init_weights()
        load_pretrained(self, self.pretrained)

    def forward(self, x):
        # the data BN has channels for exactly num_person persons of V joints with C values each
        check_input('MSG3D', x, self.num_point, self.in_channels, self.num_person)
        N, M = x.shape[:2]
        x = data_bn_forward(self.data_bn, 'MVC', x)  # [N * M, C, T, V]
        for gcn3d, sgcn, tcn in ((self.gcn3d1, self.sgcn1, self.tcn1), (self.gcn3d2, self.sgcn2, self.tcn2),
                                 (self.gcn3d3, self.sgcn3, self.tcn3)):
            x = tcn(F.relu(sgcn(x) + gcn3d(x), inplace=True))
        return x.reshape((N, M) + x.shape[1:])
