"""DG-STGCN (Duan et al., 2022): dynamic group GCN + dynamic multi-scale TCN, as PYSKL builds it.

The graph starts from PYSKL's ``random`` mode (``num_filter`` learned subsets) and each sample adds a channel-wise
topology (``ctr``, scaled by ``alpha``) and a joint affinity (``ada``, scaled by ``beta``). The TCN fuses every joint
with the mean over joints (``add_coeff``). Input ``[N, M, T, V, C]``, output ``[N, M, C', T', V]``. Names, shapes
and registration order follow PYSKL so its checkpoints load with ``strict=True``.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from pyskl.graph import Graph
from pyskl.registry import MODELS

from ..blocks import block_residual, build_act, build_norm, mstcn
from .utils import build_data_bn, check_input, data_bn_forward, load_pretrained, split_block_kwargs, stage_plan

GRAPH_ACTIVATIONS = {
    'tanh': torch.tanh,
    'relu': F.relu,
    'sigmoid': torch.sigmoid,
    'softmax': lambda g: F.softmax(g, dim=-2),  # over the sending joint v of g[..., v, w]
}


class dggcn(nn.Module):
    """Dynamic group GCN: ``act(bn(post(aggregate(pre(x)))) + down(x))``.

    ``pre`` maps to ``num_subsets`` groups of ``mid = int(ratio * out)`` channels; group ``k`` mixes joints with
    ``A[k]`` (learned) plus, per sample, ``alpha * ctr_act(x1[v] - x2[w])`` (channel-wise, ``ctr``) and
    ``beta * ada_act(sum_c x1[v] x2[w])`` (``ada``), where ``x1``, ``x2`` are 1x1 convs of the input averaged over
    time (``'T'``) or per frame (``'NA'``). Without ``subset_wise`` only ``alpha[0]`` and ``beta[0]`` are used (as in
    PYSKL); the other entries exist for the checkpoints.
    """

    def __init__(self, in_channels, out_channels, A, ratio=0.25, ctr='T', ada='T', subset_wise=False,
                 ada_act='softmax', ctr_act='tanh', norm='BN', act='ReLU'):
        super().__init__()
        for name, value, allowed in (('ctr', ctr, (None, 'NA', 'T')), ('ada', ada, (None, 'NA', 'T')),
                                     ('ctr_act', ctr_act, tuple(GRAPH_ACTIVATIONS)),
                                     ('ada_act', ada_act, tuple(GRAPH_ACTIVATIONS))):
            if value not in allowed:
                raise ValueError(f'dggcn: {name} must be one of {allowed}, got {value!r}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.num_subsets = num_subsets = A.size(0)
        self.ctr, self.ada, self.ctr_act, self.ada_act = ctr, ada, ctr_act, ada_act
        self.subset_wise = subset_wise
        self.ratio = 1 / num_subsets if ratio is None else ratio
        self.mid_channels = mid_channels = int(self.ratio * out_channels)

        self.act = build_act(act)
        self.A = nn.Parameter(A.clone())
        self.pre = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels * num_subsets, 1), build_norm(norm, mid_channels * num_subsets),
            self.act)
        self.post = nn.Conv2d(mid_channels * num_subsets, out_channels, 1)
        self.alpha = nn.Parameter(torch.empty(num_subsets))
        self.beta = nn.Parameter(torch.empty(num_subsets))
        if ctr is not None or ada is not None:
            self.conv1 = nn.Conv2d(in_channels, mid_channels * num_subsets, 1)
            self.conv2 = nn.Conv2d(in_channels, mid_channels * num_subsets, 1)
        if in_channels != out_channels:
            self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), build_norm(norm, out_channels))
        else:
            self.down = nn.Identity()
        self.bn = build_norm(norm, out_channels)
        self.init_weights()

    def init_weights(self):
        """PYSKL starts the dynamic terms switched off: ``alpha = beta = 0``."""
        nn.init.zeros_(self.alpha)
        nn.init.zeros_(self.beta)

    def _scale(self, graph, coeff):
        """``graph`` ``[n, K, C, T, V, V]`` times ``coeff[k]`` (``subset_wise``) or ``coeff[0]``."""
        if self.subset_wise:
            return graph * coeff.view(1, -1, 1, 1, 1, 1)
        return graph * coeff[0]

    def dynamic_graph(self, x):
        """``[n or 1, K, C' (1 or mid), T' (1 or t), V, V]``: the learned ``A`` plus the sample-dependent terms."""
        n, _, _, v = x.shape
        graph = self.A[None, :, None, None]
        if self.ctr is None and self.ada is None:
            return graph
        pooled = x if 'NA' in (self.ctr, self.ada) else x.mean(dim=-2, keepdim=True)
        x1 = self.conv1(pooled).view(n, self.num_subsets, self.mid_channels, -1, v)
        x2 = self.conv2(pooled).view(n, self.num_subsets, self.mid_channels, -1, v)
        if self.ctr is not None:
            topology = GRAPH_ACTIVATIONS[self.ctr_act](x1.unsqueeze(-1) - x2.unsqueeze(-2))
            graph = graph + self._scale(topology, self.alpha)
        if self.ada is not None:
            # sum over channels: [n, K, T', V, C] @ [n, K, T', C, V]
            affinity = x1.permute(0, 1, 3, 4, 2) @ x2.transpose(2, 3)
            affinity = GRAPH_ACTIVATIONS[self.ada_act](affinity.unsqueeze(2))
            graph = graph + self._scale(affinity, self.beta)
        return graph

    def forward(self, x, A=None):
        n, _, t, v = x.shape
        res = self.down(x)
        pre_x = self.pre(x).view(n, self.num_subsets, self.mid_channels, t, v)
        graph = self.dynamic_graph(x)
        if graph.size(3) == 1:  # one graph for all frames: [.., t, v] @ [.., v, w]
            out = pre_x @ graph.squeeze(3)
        else:  # a graph per frame
            out = (pre_x.unsqueeze(-2) @ graph).squeeze(-2)
        out = self.post(out.reshape(n, -1, t, v))
        return self.act(self.bn(out) + res)


class dgmstcn(mstcn):
    """ST-GCN++'s multi-scale TCN with dynamic joint-skeleton fusion: the branches also see the mean over joints as
    an extra joint, and its features are added to every joint ``v`` with weight ``add_coeff[v]``."""

    def __init__(self, in_channels, out_channels, mid_channels=None, num_joints=25, dropout=0.,
                 ms_cfg=((3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'), stride=1):
        super().__init__(in_channels, out_channels, mid_channels=mid_channels, dropout=dropout, ms_cfg=ms_cfg,
                         stride=stride)
        self.num_joints = num_joints
        # may be longer than the skeleton: only the first V entries are used
        self.add_coeff = nn.Parameter(torch.empty(num_joints))
        self.init_weights()

    def init_weights(self):
        """PYSKL starts without fusion: ``add_coeff = 0``."""
        nn.init.zeros_(self.add_coeff)

    def forward(self, x):
        V = x.size(-1)
        if V > self.num_joints:
            raise ValueError(f'dgmstcn: input has {V} joints but add_coeff covers only num_joints={self.num_joints}')
        x = torch.cat([x, x.mean(-1, keepdim=True)], dim=-1)
        out = self.branch_outputs(x)
        feat = out[..., :V] + out[..., V:] * self.add_coeff[:V]
        return self.drop(self.bn(self.transform(feat)))


class DGBlock(nn.Module):
    """``relu(tcn(gcn(x)) + residual(x))`` with :class:`dggcn` (``gcn_*`` kwargs) and :class:`dgmstcn`
    (``tcn_*`` kwargs)."""

    def __init__(self, in_channels, out_channels, A, stride=1, residual=True, **kwargs):
        super().__init__()
        gcn_kwargs, tcn_kwargs = split_block_kwargs(kwargs, type(self).__name__)
        self.gcn = dggcn(in_channels, out_channels, A, **gcn_kwargs)
        self.tcn = dgmstcn(out_channels, out_channels, stride=stride, **tcn_kwargs)
        self.relu = nn.ReLU()
        self.residual = block_residual(in_channels, out_channels, stride, residual)

    def init_weights(self):
        self.gcn.init_weights()
        self.tcn.init_weights()

    def forward(self, x, A=None):
        res = self.residual(x)
        return self.relu(self.tcn(self.gcn(x, A)) + res)


@MODELS.register_module()
class DGSTGCN(nn.Module):
    """Stacked :class:`DGBlock` s after a data BatchNorm, with ST-GCN's stage plan.

    Args:
        graph_cfg: ``Graph`` arguments; PYSKL uses ``mode='random'`` (``num_filter``, ``init_off``, ``init_std``).
        in_channels, base_channels, ch_ratio, num_stages, inflate_stages, down_stages: as :class:`STGCN`.
        data_bn_type: ``'VC'`` (default), ``'MVC'`` or anything else (none); num_person: M for ``'MVC'``.
        pretrained: a checkpoint to load in ``init_weights`` (non-strict, as PYSKL).
        **kwargs: ``gcn_*`` (:class:`dggcn`: ``ratio``, ``ctr``, ``ada``, ...) and ``tcn_*`` (:class:`dgmstcn`:
            ``ms_cfg``, ``dropout``, ...); a tuple of length ``num_stages`` gives per-stage values.
    """

    def __init__(self, graph_cfg, in_channels=3, base_channels=64, ch_ratio=2, num_stages=10, inflate_stages=(5, 8),
                 down_stages=(5, 8), data_bn_type='VC', num_person=2, pretrained=None, **kwargs):
        super().__init__()
        self.graph = Graph(**graph_cfg)
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        self.data_bn_type = data_bn_type
        self.kwargs = kwargs
        self.num_person, self.num_node = num_person, A.size(1)
        self.data_bn = build_data_bn(data_bn_type, num_person, in_channels, A.size(1))

        plan, block_kwargs = stage_plan(in_channels, base_channels, ch_ratio, num_stages, inflate_stages, down_stages,
                                        kwargs)
        self.in_channels, self.base_channels, self.ch_ratio = in_channels, base_channels, ch_ratio
        self.inflate_stages, self.down_stages = inflate_stages, down_stages
        self.gcn = nn.ModuleList(
            DGBlock(c_in, c_out, A.clone(), stride, residual=residual, **kw)
            for (c_in, c_out, stride, residual), kw in zip(plan, block_kwargs))
        self.num_stages = len(self.gcn)
        self.pretrained = pretrained
        self.init_weights()

    def init_weights(self):
        """PYSKL's start (``alpha``, ``beta``, ``add_coeff`` = 0, PyTorch's default elsewhere), then ``pretrained``."""
        for block in self.gcn:
            block.init_weights()
        load_pretrained(self, self.pretrained)

    def forward(self, x):
        per_person = self.data_bn_type == 'MVC'  # the data BN then has channels for exactly num_person persons
        check_input('DGSTGCN', x, self.num_node, self.in_channels, self.num_person if per_person else None)
        N, M = x.shape[:2]
        x = data_bn_forward(self.data_bn, self.data_bn_type, x)  # [N * M, C, T, V]
        for block in self.gcn:
            x = block(x)
        return x.reshape((N, M) + x.shape[1:])
