"""Tiny inputs and tiny versions of every backbone (GCNs and 3D CNNs), shared by the model tests."""
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


# 3D CNNs: stems without stride and tiny widths, so a [2, 5, 8, 16, 16] volume runs in a few milliseconds
STEM = dict(in_channels=5, conv1_stride=(1, 1), pool1_stride=(1, 1))
TINY3D = {
    # Basic blocks (depth 18) with the default inflate_style, both stages' outputs
    'ResNet3d': dict(depth=18, base_channels=4, num_stages=2, stage_blocks=(1, 1), out_indices=(0, 1),
                     spatial_strides=(1, 2), temporal_strides=(1, 2), conv1_kernel=(3, 3, 3), **STEM),
    'ResNet3dSlowOnly': dict(base_channels=4, num_stages=2, stage_blocks=(1, 2), out_indices=(1, ), inflate=(0, 1),
                             spatial_strides=(2, 2), temporal_strides=(1, 2), **STEM),
    # slow: every 4th frame, base 4; fast: every 2nd frame, base 2; laterals after the stem and stage 1
    'ResNet3dSlowFast': dict(
        resample_rate=4, speed_ratio=2, channel_ratio=2,
        slow_pathway=dict(lateral=True, base_channels=4, num_stages=2, stage_blocks=(1, 1), out_indices=(1, ),
                          spatial_strides=(1, 2), temporal_strides=(1, 1), conv1_kernel=(1, 3, 3), inflate=(0, 1),
                          fusion_kernel=3, **STEM),
        fast_pathway=dict(lateral=False, base_channels=2, num_stages=2, stage_blocks=(1, 1), out_indices=(1, ),
                          spatial_strides=(1, 2), temporal_strides=(1, 1), conv1_kernel=(3, 3, 3), **STEM)),
    'C3D': dict(in_channels=5, base_channels=4, num_stages=3, temporal_downsample=False),
    # SE in the first block of each stage ('half'), Swish on
    'X3D': dict(in_channels=5, base_channels=8, num_stages=2, stage_blocks=(1, 2), spatial_strides=(2, 2), gamma_d=1),
}


# RGBPoseConv3D with PYSKL's stage plan and ratios (speed 4, channel 4): RGB base 8 (pose features join after its
# stages 2 and 3), pose base 4 on 5 heatmap channels; one block a stage, 1x3x3 stems, 3-frame laterals
TINY_RGB_PATHWAY = dict(lateral=True, lateral_infl=1, lateral_activate=(0, 0, 1, 1), base_channels=8, num_stages=4,
                        stage_blocks=(1, 1, 1, 1), conv1_kernel=(1, 3, 3), inflate=(0, 0, 1, 1), fusion_kernel=3)
TINY_POSE_PATHWAY = dict(lateral=True, lateral_inv=True, lateral_infl=16, lateral_activate=(0, 1, 1), in_channels=5,
                         base_channels=4, num_stages=3, stage_blocks=(1, 1, 1), out_indices=(2, ),
                         conv1_kernel=(1, 3, 3), conv1_stride=(1, 1), pool1_stride=(1, 1), inflate=(0, 1, 1),
                         spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 1), fusion_kernel=3)
TINY3D['RGBPoseConv3D'] = dict(speed_ratio=4, channel_ratio=4, rgb_pathway=TINY_RGB_PATHWAY,
                               pose_pathway=TINY_POSE_PATHWAY)


def tiny_volume(n=2, c=5, t=8, h=16, w=16):
    """A heatmap-volume batch ``[N, C, T, H, W]``."""
    return torch.rand(n, c, t, h, w, generator=torch.Generator().manual_seed(0))


def tiny_rgbpose(n=2, t=8, h=16):
    """RGBPoseConv3D's inputs: RGB frames ``[N, 3, t / 4, 4h, 4h]`` and heatmaps ``[N, 5, t, h, h]``."""
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(n, 3, t // 4, 4 * h, 4 * h, generator=generator),
            torch.rand(n, 5, t, h, h, generator=generator))
