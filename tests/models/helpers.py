"""Tiny inputs and tiny versions of every GCN backbone, shared by the model tests."""
import torch

NTU = dict(layout='nturgb+d', mode='spatial')
# DG-STGCN's graph and block options in PYSKL's configs
DG_RANDOM = dict(layout='nturgb+d', mode='random', num_filter=8, init_off=.04, init_std=.02)
DG_KWARGS = dict(gcn_ratio=0.125, gcn_ctr='T', gcn_ada='T',
                 tcn_ms_cfg=[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'])
STAGES = dict(base_channels=16, num_stages=4, inflate_stages=[3], down_stages=[3])  # 16 -> 32 channels, T / 2

# backbone kwargs (without ``type``) of a tiny model of each family
TINY = {
    'STGCN': dict(graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'), **STAGES),
    'STGCN++': dict(gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn', graph_cfg=NTU, **STAGES),
    'AAGCN': dict(graph_cfg=NTU, **STAGES),
    'CTRGCN': dict(graph_cfg=NTU, **STAGES),
    'MSG3D': dict(graph_cfg=dict(layout='nturgb+d', mode='binary_adj'), base_channels=12, num_gcn_scales=3,
                  num_g3d_scales=2),
    'DGSTGCN': dict(graph_cfg=DG_RANDOM, **STAGES, **DG_KWARGS),
}


def tiny_input(n=2, m=2, t=16, v=25, c=3):
    return torch.randn(n, m, t, v, c, generator=torch.Generator().manual_seed(0))
