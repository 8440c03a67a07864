"""SlowFast and its pathway: lateral widths, names and order (what RGBPoseConv3D needs), the transposed-conv
laterals, RGBPoseConv3D's parameter count from two pathways, frozen laterals, and 2D inflation around laterals."""
import pytest
import torch

from pyskl.models.backbones.resnet3d_slowfast import DeConvModule, ResNet3dPathway
from pyskl.registry import MODELS

from .helpers import TINY3D, tiny_volume

pytestmark = pytest.mark.usefixtures('one_thread')

# the tiny SlowFast's slow pathway, with the ratios ResNet3dSlowFast gives it
SLOW = dict(TINY3D['ResNet3dSlowFast']['slow_pathway'], speed_ratio=2, channel_ratio=2)

# PYSKL's RGBPoseConv3D defaults (pyskl/models/cnns/rgbposeconv3d.py), with the ratios it writes into both
RATIOS = dict(speed_ratio=4, channel_ratio=4)
RGB_PATHWAY = dict(num_stages=4, lateral=True, lateral_infl=1, lateral_activate=(0, 0, 1, 1), base_channels=64,
                   conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1), **RATIOS)
POSE_PATHWAY = dict(num_stages=3, stage_blocks=(4, 6, 3), lateral=True, lateral_inv=True, lateral_infl=16,
                    lateral_activate=(0, 1, 1), in_channels=17, base_channels=32, out_indices=(2, ),
                    conv1_kernel=(1, 7, 7), conv1_stride=(1, 1), pool1_stride=(1, 1), inflate=(0, 1, 1),
                    spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 1), **RATIOS)


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_rgbposeconv3d_pathways_have_pyskls_parameter_count():
    """36,147,928 parameters for rgbpose_conv3d.py (facts §4) = both pathways + RGBPoseHead (2048 and 512 -> 60)."""
    rgb, pose = ResNet3dPathway(**RGB_PATHWAY), ResNet3dPathway(**POSE_PATHWAY)
    head = (2048 + 1) * 60 + (512 + 1) * 60
    assert count(rgb) + count(pose) + head == 36_147_928


def test_rgbposeconv3d_lateral_names_widths_and_order():
    rgb, pose = ResNet3dPathway(**RGB_PATHWAY), ResNet3dPathway(**POSE_PATHWAY)
    # RGB takes pose features before stages 3 and 4: convs striding time by 4 (32 pose frames -> 8 RGB frames)
    assert rgb.lateral_connections == ['layer2_lateral', 'layer3_lateral'] and not hasattr(rgb, 'conv1_lateral')
    assert rgb.layer2_lateral.conv.weight.shape == (128, 128, 7, 1, 1) and rgb.layer2_lateral.conv.stride == (4, 1, 1)
    assert rgb.layer3_lateral.conv.weight.shape == (256, 256, 7, 1, 1)
    assert rgb.layer3[0].conv1.conv.in_channels == 512 + 128 and rgb.layer4[0].conv1.conv.in_channels == 1024 + 256
    # pose takes RGB features before stages 2 and 3: transposed convs upsampling time by 4, with BN
    assert pose.lateral_connections == ['layer1_lateral', 'layer2_lateral']
    assert isinstance(pose.layer1_lateral, DeConvModule) and pose.layer1_lateral.conv.weight.shape == (512, 32, 7, 1, 1)
    assert pose.layer2_lateral.conv.weight.shape == (1024, 64, 7, 1, 1)
    assert pose.layer2[0].conv1.conv.in_channels == 128 + 32 and pose.layer3[0].conv1.conv.in_channels == 256 + 64
    keys = list(pose.state_dict())  # the pathway's own keys, then the laterals, as PYSKL registers them
    assert keys.index('layer3.2.conv3.bn.num_batches_tracked') + 1 == keys.index('layer1_lateral.conv.weight')
    assert keys[-6:] == [f'layer2_lateral.{k}' for k in ('conv.weight', 'bn.weight', 'bn.bias', 'bn.running_mean',
                                                         'bn.running_var', 'bn.num_batches_tracked')]


def test_tiny_rgb_and_pose_pathways_fit_together_as_rgbposeconv3d_runs_them():
    """RGBPoseConv3D's data flow on tiny pathways: each lateral's output fits the other pathway's next stage."""
    small = dict(conv1_kernel=(1, 3, 3), fusion_kernel=3)
    rgb = ResNet3dPathway(**dict(RGB_PATHWAY, **small, base_channels=8, stage_blocks=(1, 1, 1, 1)))
    pose = ResNet3dPathway(**dict(POSE_PATHWAY, **small, base_channels=4, stage_blocks=(1, 1, 1)))
    imgs, heatmaps = torch.randn(1, 3, 2, 64, 64), torch.randn(1, 17, 8, 16, 16)  # 1/4 of RGB's size, 4x frames
    x_rgb = rgb.layer2(rgb.layer1(rgb.maxpool(rgb.conv1(imgs))))
    x_pose = pose.layer1(pose.maxpool(pose.conv1(heatmaps)))
    x_rgb, x_pose = (torch.cat((x_rgb, rgb.layer2_lateral(x_pose)), dim=1),
                     torch.cat((x_pose, pose.layer1_lateral(x_rgb)), dim=1))
    x_rgb, x_pose = rgb.layer3(x_rgb), pose.layer2(x_pose)
    x_rgb, x_pose = (torch.cat((x_rgb, rgb.layer3_lateral(x_pose)), dim=1),
                     torch.cat((x_pose, pose.layer2_lateral(x_rgb)), dim=1))
    assert rgb.layer4(x_rgb).shape == (1, 256, 2, 2, 2) and pose.layer3(x_pose).shape == (1, 64, 8, 2, 2)


def test_deconv_lateral_output_is_exactly_stride_times_the_input():
    deconv = DeConvModule(8, 2, (7, 1, 1), stride=(4, 1, 1), padding=(3, 0, 0))
    assert deconv(torch.randn(2, 8, 3, 5, 5)).shape == (2, 2, 12, 5, 5)
    bare = DeConvModule(8, 2, (3, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0), with_bn=False, with_relu=False)
    assert list(bare.state_dict()) == ['conv.weight'] and bare(-torch.ones(1, 8, 2, 1, 1)).min() < 0


def test_slowfast_laterals_follow_the_stem_and_every_stage_but_the_last():
    model = MODELS.build(dict(type='ResNet3dSlowFast', **TINY3D['ResNet3dSlowFast']))
    assert model.in_channels == 5
    slow = model.slow_path
    # the fast stem's 2 channels -> 4 (slow base 4 * lateral_infl 2 // channel_ratio 2), time strided by speed_ratio
    assert slow.conv1_lateral.conv.weight.shape == (4, 2, 3, 1, 1) and slow.conv1_lateral.conv.stride == (2, 1, 1)
    assert slow.layer1_lateral.conv.weight.shape == (16, 8, 3, 1, 1) and not hasattr(slow, 'layer2_lateral')
    assert slow.layer1[0].conv1.conv.in_channels == 4 + 4 and slow.layer2[0].conv1.conv.in_channels == 16 + 16
    assert not hasattr(model.fast_path, 'conv1_lateral')
    keys = [k for k in model.state_dict() if k.startswith('slow_path.')]
    assert keys[-2:] == ['slow_path.conv1_lateral.conv.weight', 'slow_path.layer1_lateral.conv.weight']
    x_slow, x_fast = model(tiny_volume(t=8))
    assert x_slow.shape[2] == 2 and x_fast.shape[2] == 4  # every 4th and every 2nd frame


def test_frozen_stages_freeze_the_laterals_after_them():
    pathway = ResNet3dPathway(**SLOW, frozen_stages=1).train()
    assert not any(p.requires_grad for p in pathway.layer1_lateral.parameters())
    assert all(p.requires_grad for p in pathway.conv1_lateral.parameters())  # as PYSKL: the stem's is not frozen


def test_2d_inflation_skips_laterals_and_zero_pads_their_input_channels():
    pathway = ResNet3dPathway(**SLOW)
    lateral_before = pathway.layer1_lateral.conv.weight.clone()
    conv = pathway.layer2[0].conv1.conv  # 16 own + 16 lateral input channels, kernel 3x1x1
    weight_2d = torch.randn(conv.out_channels, 16, 1, 1)
    state_2d = {'layer2.0.conv1.weight': weight_2d, 'layer1_lateral.weight': torch.zeros(1)}
    used = pathway.inflate_weights(state_2d)
    assert used == ['layer2.0.conv1.weight']
    assert torch.allclose(conv.weight[:, :16], weight_2d.unsqueeze(2).expand(-1, -1, 3, -1, -1) / 3)
    assert torch.all(conv.weight[:, 16:] == 0)
    assert torch.equal(pathway.layer1_lateral.conv.weight, lateral_before)


def test_laterals_get_pyskls_initialisation():
    """Kaiming (fan_out) lateral convs; the transposed convs keep PyTorch's own initialisation, as in PYSKL."""
    torch.manual_seed(0)
    rgb = ResNet3dPathway(**dict(RGB_PATHWAY, base_channels=8, stage_blocks=(1, 1, 1, 1)))
    weight = rgb.layer2_lateral.conv.weight  # (16, 16, 7, 1, 1): fan_out 16 * 7
    assert weight.std().item() == pytest.approx((2 / (16 * 7))**0.5, rel=0.15)
    pose = ResNet3dPathway(**dict(POSE_PATHWAY, base_channels=8, stage_blocks=(1, 1, 1)))
    deconv = pose.layer1_lateral.conv  # weight (128, 8, 7, 1, 1); PyTorch's default: U(-b, b), b = 1 / sqrt(8 * 7)
    assert deconv.weight.abs().max().item() == pytest.approx(1 / (8 * 7)**0.5, rel=0.02)


def test_a_lateral_without_channels_is_refused():
    with pytest.raises(ValueError, match='channel_ratio'):
        ResNet3dPathway(**dict(SLOW, channel_ratio=8))  # base 4 // 8 = 0 input channels
