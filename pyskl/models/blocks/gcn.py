"""Spatial graph convolution shared by ST-GCN and ST-GCN++ (PYSKL's ``unit_gcn``).

Input and output are ``[N, C, T, V]``. Parameter names, shapes and registration order follow PYSKL so that its
checkpoints load with ``strict=True``.
"""
import torch
import torch.nn as nn

from .layers import build_act, build_norm


class unit_gcn(nn.Module):
    """``act(bn(aggregate(conv(x))) + res)``: a 1x1 conv to ``K * out`` channels, then each subset ``k`` of the
    graph mixes joints (``y[w] = sum_v x_k[v] * A[k, v, w]``) and the subsets are summed.

    Args:
        adaptive: how the graph is learned. ``None``: fixed ``A``; ``'init'``: ``A`` is a parameter initialised to the
            graph (ST-GCN++); ``'importance'``: ``A * PA`` with ``PA`` initialised to 1 (ST-GCN); ``'offset'``:
            ``A + PA`` with ``PA`` ~ U(-1e-6, 1e-6).
        conv_pos: ``'pre'`` (conv, then aggregate; PYSKL's default) or ``'post'`` (aggregate, then conv).
        with_res: add a residual (1x1 conv + norm when the width changes).
    """

    def __init__(self, in_channels, out_channels, A, adaptive='importance', conv_pos='pre', with_res=False, norm='BN',
                 act='ReLU'):
        super().__init__()
        if adaptive not in (None, 'init', 'offset', 'importance'):
            raise ValueError(f"unit_gcn: adaptive must be None, 'init', 'offset' or 'importance', got {adaptive!r}")
        if conv_pos not in ('pre', 'post'):
            raise ValueError(f"unit_gcn: conv_pos must be 'pre' or 'post', got {conv_pos!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.num_subsets = A.size(0)
        self.adaptive, self.conv_pos, self.with_res = adaptive, conv_pos, with_res

        self.bn = build_norm(norm, out_channels)
        self.act = build_act(act, inplace=True)
        if adaptive == 'init':
            self.A = nn.Parameter(A.clone())
        else:
            self.register_buffer('A', A)
        if adaptive == 'importance':
            self.PA = nn.Parameter(torch.ones_like(A))
        elif adaptive == 'offset':
            self.PA = nn.Parameter(torch.empty_like(A).uniform_(-1e-6, 1e-6))

        if conv_pos == 'pre':
            self.conv = nn.Conv2d(in_channels, out_channels * self.num_subsets, 1)
        else:
            self.conv = nn.Conv2d(self.num_subsets * in_channels, out_channels, 1)
        if with_res:
            if in_channels != out_channels:
                self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), build_norm(norm, out_channels))
            else:
                self.down = nn.Identity()

    def graph(self) -> torch.Tensor:
        """The adjacency in use: ``A``, ``A * PA`` or ``A + PA``."""
        if self.adaptive == 'importance':
            return self.A * self.PA
        if self.adaptive == 'offset':
            return self.A + self.PA
        return self.A

    def aggregate(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """``y[n, c, t, w] = sum_k sum_v x[n, k * C + c, t, v] * A[k, v, w]`` (the conv output's channels are
        ordered subset-major, as PYSKL's)."""
        n, kc, t, v = x.shape
        K = self.num_subsets
        if x.is_contiguous(memory_format=torch.channels_last):
            # Memory holds [n, t, v, (k, c)]: one matmul per frame over the (v, k) pairs, no copies, and the result
            # is channels-last again (the backbones run channels-last: oneDNN's convs are faster so on CPUs).
            frames = x.permute(0, 2, 3, 1).reshape(n * t, v * K, kc // K)
            graph = A.permute(2, 1, 0).reshape(1, v, v * K).expand(n * t, -1, -1)  # [w, (v, k)], shared by frames
            return torch.bmm(graph, frames).view(n, t, v, -1).permute(0, 3, 1, 2)
        return torch.einsum('nkctv,kvw->nctw', x.view(n, K, kc // K, t, v), A)

    def forward(self, x, A=None):
        n, _, t, v = x.shape
        res = self.down(x) if self.with_res else None
        A = self.graph()
        if self.conv_pos == 'pre':
            x = self.aggregate(self.conv(x), A)
        else:
            x = torch.einsum('nctv,kvw->nkctw', x, A).reshape(n, -1, t, v)
            x = self.conv(x)
        x = self.bn(x)
        return self.act(x if res is None else x + res)  # in place: BN's backward does not need its output
