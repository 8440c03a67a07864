"""X3D: PYSKL's parameter count for X3D-shallow, width/depth rounding, SE placement, block key order, Swish."""
import pytest
import torch
import torch.nn as nn

from pyskl.models.backbones.x3d import X3D, round_repeats, round_width
from pyskl.registry import MODELS

from .helpers import TINY3D, tiny_volume

pytestmark = pytest.mark.usefixtures('one_thread')


def test_x3d_shallow_parameter_count_is_pyskls():
    """configs/posec3d/x3d_shallow_ntu60_xsub/joint.py: 254,508 with I3DHead(216 -> 60) (facts §3.2 / §4)."""
    model = MODELS.build(dict(
        type='Recognizer3D',
        backbone=dict(type='X3D', gamma_d=1, in_channels=17, base_channels=24, num_stages=3, se_ratio=None,
                      use_swish=False, stage_blocks=(2, 5, 3), spatial_strides=(2, 2, 2)),
        cls_head=dict(type='I3DHead', in_channels=216, num_classes=60, dropout=0.5)))
    assert sum(p.numel() for p in model.parameters()) == 254_508
    assert model.backbone.feat_dim == 216


def test_rounding():
    assert round_width(24, 1) == 24 and round_width(24, 2) == 48 and round_width(24, None) == 24
    assert round_width(20, 1) == 24  # to a multiple of 8 (half up)
    assert round_width(72, 1 / 16) == 8  # at least 8: the SE bottleneck of 72 channels
    assert round_width(100, 1) == 104 and round_width(12, 1) == 16
    assert round_repeats(5, 2.2) == 11 and round_repeats(1, 2.2) == 3 and round_repeats(3, None) == 3


def test_default_x3d_uses_gamma_d_and_se_on_every_other_block():
    model = X3D(num_stages=2, spatial_strides=(2, 2), base_channels=8)  # gamma_d 2.2: (1, 2) -> (3, 5) blocks
    assert model.stage_blocks == [3, 5]
    assert [hasattr(b, 'se_module') for b in model.layer2] == [True, False, True, False, True]
    assert model.layer1[0].se_module.fc1.out_channels == 8
    everywhere = X3D(num_stages=1, spatial_strides=(2, ), base_channels=8, se_style='all', stage_blocks=(2, ))
    assert all(hasattr(b, 'se_module') for b in everywhere.layer1)


def test_block_keys_start_with_the_shortcut():
    model = MODELS.build(dict(type='X3D', **TINY3D['X3D']))
    block = [k.split('.')[2] for k in model.state_dict() if k.startswith('layer1.0.')]
    assert list(dict.fromkeys(block)) == ['downsample', 'conv1', 'conv2', 'conv3', 'se_module']
    assert not any(k.startswith('conv1_s.bn') for k in model.state_dict())  # the spatial stem conv has no BN
    assert model.layer1[0].conv2.conv.groups == model.layer1[0].conv2.conv.in_channels  # channel-wise


def test_swish_can_be_turned_off():
    assert isinstance(MODELS.build(dict(type='X3D', **TINY3D['X3D'])).layer1[0].swish, nn.SiLU)
    plain = MODELS.build(dict(type='X3D', **TINY3D['X3D'], use_swish=False))
    assert isinstance(plain.layer1[0].swish, nn.Identity)
    x = torch.tensor([-1.0, 2.0])
    assert torch.allclose(nn.SiLU()(x), x * torch.sigmoid(x))  # Swish


def test_frozen_stem_and_stage():
    model = MODELS.build(dict(type='X3D', **TINY3D['X3D'], frozen_stages=1)).train()
    for m in (model.conv1_s, model.conv1_t, model.layer1):
        assert not m.training and not any(p.requires_grad for p in m.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    model(tiny_volume()).sum().backward()
    assert model.layer1[0].conv1.conv.weight.grad is None and model.layer2[0].conv1.conv.weight.grad is not None


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match='se_style'):
        X3D(se_style='some')
    with pytest.raises(ValueError, match='spatial_strides'):
        X3D(num_stages=3)
