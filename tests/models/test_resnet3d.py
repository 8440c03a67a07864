"""ResNet3d / SlowOnly: PYSKL's parameter counts, block kernels per inflate style, the residual shortcut, the
initialisation, frozen stages and norm_eval, and inflating 2D ResNet weights (pretrained2d)."""
import re

import pytest
import torch
import torch.nn as nn

from pyskl.models.backbones.resnet3d import (BasicBlock3d, Bottleneck3d, ResNet3d, inflate_2d_weights,
                                             make_res_layer)
from pyskl.models.backbones.resnet3d_slowonly import ResNet3dSlowOnly
from pyskl.models.backbones.utils import channels_last_on_cpu
from pyskl.registry import MODELS

from .helpers import TINY3D, tiny_volume

pytestmark = pytest.mark.usefixtures('one_thread')

# PYSKL's configs/posec3d/slowonly_r50_ntu60_xsub/joint.py backbone, and rgbpose_conv3d/rgb_only.py's
POSEC3D_SLOWONLY = dict(type='ResNet3dSlowOnly', in_channels=17, base_channels=32, num_stages=3, out_indices=(2, ),
                        stage_blocks=(4, 6, 3), conv1_stride=(1, 1), pool1_stride=(1, 1), inflate=(0, 1, 1),
                        spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 2))
RGB_ONLY = dict(type='ResNet3dSlowOnly', depth=50, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1))


def count(module):
    return sum(p.numel() for p in module.parameters())


def recognizer(backbone, in_channels):
    return MODELS.build(dict(type='Recognizer3D', backbone=backbone,
                             cls_head=dict(type='I3DHead', in_channels=in_channels, num_classes=60, dropout=0.5)))


@pytest.mark.parametrize('backbone, in_channels, expected', [
    (POSEC3D_SLOWONLY, 512, 2_024_860),  # PoseC3D SlowOnly-R50, NTU60 XSub joint (facts §3.2)
    (RGB_ONLY, 2048, 31_757_436),  # RGBPoseConv3D's rgb_only.py (facts §4)
])
def test_parameter_counts_are_pyskls(backbone, in_channels, expected):
    assert count(recognizer(backbone, in_channels)) == expected


def test_posec3d_feature_map_shape():
    """facts §3.2: a 48x56x56 clip gives [N, 512, 24, 7, 7] (temporal stride 2 in the last stage only)."""
    model = MODELS.build(dict(POSEC3D_SLOWONLY, stage_blocks=(1, 1, 1))).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 17, 48, 56, 56)).shape == (1, 512, 24, 7, 7)


@pytest.mark.parametrize('inflate, style, conv1, conv2', [
    (False, '3x1x1', (1, 1, 1), (1, 3, 3)),
    (True, '3x1x1', (3, 1, 1), (1, 3, 3)),
    (True, '3x3x3', (1, 1, 1), (3, 3, 3)),
])
def test_bottleneck_kernels_per_inflate_style(inflate, style, conv1, conv2):
    block = Bottleneck3d(16, 4, stride=(2, 2), inflate=inflate, inflate_style=style,
                         downsample=make_res_layer(Bottleneck3d, 16, 4, 1, stride=(2, 2))[0].downsample)
    assert block.conv1.conv.kernel_size == conv1 and block.conv2.conv.kernel_size == conv2
    assert block.conv3.conv.kernel_size == (1, 1, 1) and block.conv3.conv.out_channels == 16
    assert block.conv2.conv.stride == (2, 2, 2) and block.conv1.conv.stride == (1, 1, 1)
    assert block(torch.randn(1, 16, 4, 6, 6)).shape == (1, 16, 2, 3, 3)  # 'same' padding everywhere


def test_basic_block_inflates_to_3x3x3_whatever_the_style():
    """PYSKL refused inflate_style='3x1x1' (ResNet3d's default) for basic blocks, so depth 18/34 could not be
    built with defaults; a basic block has one inflated form."""
    inflated = BasicBlock3d(4, 4, inflate=True, inflate_style='3x1x1')
    flat = BasicBlock3d(4, 4, inflate=False)
    assert inflated.conv1.conv.kernel_size == inflated.conv2.conv.kernel_size == (3, 3, 3)
    assert flat.conv1.conv.kernel_size == (1, 3, 3)
    assert ResNet3d(depth=18, num_stages=1, out_indices=(0, ), spatial_strides=(1, ), temporal_strides=(1, ),
                    base_channels=4)(torch.randn(1, 3, 2, 8, 8)).shape == (1, 4, 2, 2, 2)


def test_a_temporal_stride_alone_gets_a_projection_shortcut():
    """PYSKL projected only for a spatial stride or a width change, so this stage failed in the residual sum."""
    layer = make_res_layer(Bottleneck3d, 16, 4, 2, stride=(2, 1))
    assert layer[0].downsample.conv.stride == (2, 1, 1) and layer[1].downsample is None
    assert layer(torch.randn(1, 16, 4, 5, 5)).shape == (1, 16, 2, 5, 5)
    assert make_res_layer(Bottleneck3d, 16, 4, 1, stride=(1, 1))[0].downsample is None


def test_advanced_shortcut_pools_instead_of_striding():
    layer = make_res_layer(Bottleneck3d, 8, 4, 1, stride=(1, 2), advanced=True)
    conv, pool = layer[0].downsample
    assert conv.conv.stride == (1, 1, 1) and isinstance(pool, nn.AvgPool3d) and pool.ceil_mode
    assert layer(torch.randn(1, 8, 2, 5, 5)).shape == (1, 16, 2, 3, 3)


def test_initialisation_is_pyskls():
    torch.manual_seed(0)
    two_stages = dict(base_channels=8, num_stages=2, stage_blocks=(2, 1), out_indices=(1, ), spatial_strides=(1, 2),
                      temporal_strides=(1, 1))
    model = ResNet3dSlowOnly(**two_stages)
    for name, m in model.named_modules():
        if isinstance(m, nn.BatchNorm3d):
            last_of_block = name.endswith('conv3.bn')
            assert torch.all(m.weight == (0 if last_of_block else 1)), name
            assert torch.all(m.bias == 0), name
    weight = model.layer1[0].conv2.conv.weight  # Kaiming normal, fan_out: std sqrt(2 / (out * k))
    assert weight.std().item() == pytest.approx((2 / (8 * 9))**0.5, rel=0.1)
    plain = ResNet3dSlowOnly(**two_stages, zero_init_residual=False)
    assert torch.all(plain.layer1[0].conv3.bn.weight == 1)


def test_out_indices_return_a_tuple():
    out = MODELS.build(dict(type='ResNet3d', **TINY3D['ResNet3d']))(tiny_volume())
    assert isinstance(out, tuple) and len(out) == 2


def test_frozen_stages_and_norm_eval():
    model = ResNet3dSlowOnly(**dict(TINY3D['ResNet3dSlowOnly'], frozen_stages=1, norm_eval=True)).train()
    frozen = [p for m in (model.conv1, model.layer1) for p in m.parameters()]
    assert frozen and not any(p.requires_grad for p in frozen)
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert not any(m.training for m in model.modules() if isinstance(m, nn.BatchNorm3d))
    mean = model.layer2[0].conv1.bn.running_mean.clone()
    model(tiny_volume())
    assert torch.equal(model.layer2[0].conv1.bn.running_mean, mean)  # norm_eval: statistics unchanged
    trainable = ResNet3dSlowOnly(**dict(TINY3D['ResNet3dSlowOnly'], frozen_stages=0)).train()
    assert trainable.layer2.training and not trainable.conv1.training and trainable.layer1.training


def test_bad_arguments_are_refused():
    with pytest.raises(KeyError, match='depth 42'):
        ResNet3d(depth=42)
    with pytest.raises(ValueError, match='out_indices'):
        ResNet3d(num_stages=2, out_indices=(2, ), spatial_strides=(1, 2), temporal_strides=(1, 1))
    with pytest.raises(ValueError, match='stage_blocks'):
        ResNet3d(stage_blocks=(1, 1))


# ---------------------------------------------------------------------------------------------- pretrained2d
def resnet2d_state_dict(model):
    """A 2D ResNet's state_dict (torchvision names: ``conv1``/``bn1``, ``layer1.0.conv2``/``layer1.0.bn2``,
    ``layer1.0.downsample.0``/``.1``) for every conv of ``model``, random values; plus an fc layer the 3D model
    lacks."""
    gen = torch.Generator().manual_seed(3)
    state = {}
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv3d):
            module = name[:-len('.conv')]
            if module.endswith('downsample'):
                conv, bn = f'{module}.0', f'{module}.1'
            else:
                conv, bn = module, re.sub(r'conv(\d)$', r'bn\1', module)
            out, cin, _, kh, kw = m.weight.shape
            state[f'{conv}.weight'] = torch.randn(out, cin, kh, kw, generator=gen)
            for key in ('weight', 'bias', 'running_mean', 'running_var'):
                state[f'{bn}.{key}'] = torch.rand(out, generator=gen) + 0.5
            state[f'{bn}.num_batches_tracked'] = torch.tensor(11)
    state['fc.weight'] = torch.zeros(10, 32)
    return state


def test_2d_weights_inflate_into_every_conv_and_bn(tmp_path):
    model = ResNet3dSlowOnly(**TINY3D['ResNet3dSlowOnly'])
    state_2d = resnet2d_state_dict(model)
    used = inflate_2d_weights(model, state_2d)
    assert sorted(used) == sorted(k for k in state_2d if k != 'fc.weight')
    inflated = model.layer2[0].conv1.conv.weight  # inflated block: a 3x1x1 conv1
    assert inflated.shape[2] == 3
    assert torch.allclose(inflated, state_2d['layer2.0.conv1.weight'].unsqueeze(2).expand_as(inflated) / 3)
    assert torch.equal(model.conv1.conv.weight[:, :, 0], state_2d['conv1.weight'])  # kernel_t 1: copied
    assert torch.equal(model.layer1[0].downsample.bn.running_var, state_2d['layer1.0.downsample.1.running_var'])
    assert model.conv1.bn.num_batches_tracked.item() == 11

    # through init_weights, from a file, as a config's pretrained=... does
    torch.save(dict(state_dict=state_2d), tmp_path / 'r2d.pth')
    fresh = ResNet3dSlowOnly(**TINY3D['ResNet3dSlowOnly'], pretrained=str(tmp_path / 'r2d.pth'))
    fresh.init_weights()
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), model.state_dict().values()))


def test_a_static_clip_through_an_inflated_conv_gives_the_2d_response():
    """Inflation divides by the temporal kernel, so a clip of one repeated frame gives the 2D conv's output (away
    from the temporal padding)."""
    block = Bottleneck3d(8, 2, inflate=True, downsample=None, inflate_style='3x3x3')
    weight_2d = torch.randn(2, 2, 3, 3)
    inflate_2d_weights(nn.ModuleDict(dict(conv2=block.conv2)), {'conv2.weight': weight_2d})
    frame = torch.randn(1, 2, 6, 6)
    clip = frame.unsqueeze(2).expand(1, 2, 5, 6, 6)
    out_3d = block.conv2.conv(clip)[:, :, 2]
    assert torch.allclose(out_3d, nn.functional.conv2d(frame, weight_2d, padding=1), atol=1e-5)


def test_mismatched_or_missing_2d_weights_keep_their_initialisation():
    model = ResNet3dSlowOnly(**TINY3D['ResNet3dSlowOnly'])
    before = model.conv1.conv.weight.clone()
    state_2d = resnet2d_state_dict(model)
    state_2d['conv1.weight'] = torch.randn(4, 3, 7, 7)  # an RGB stem for a 5-channel input
    del state_2d['layer1.0.conv2.weight']
    used = inflate_2d_weights(model, state_2d)
    assert 'conv1.weight' not in used and torch.equal(model.conv1.conv.weight, before)
    assert 'layer1.0.bn2.weight' in used and 'layer1.0.conv3.weight' in used


def test_cpu_forward_runs_channels_last_with_the_same_results():
    model = ResNet3dSlowOnly(**TINY3D['ResNet3dSlowOnly']).eval()
    x = tiny_volume()
    with torch.no_grad():
        out = model(x)
        contiguous = model.maxpool(model.conv1(x))  # the same layers without the channels-last input
        for name in model.res_layers:
            contiguous = getattr(model, name)(contiguous)
    assert model.conv1(channels_last_on_cpu(x)).is_contiguous(memory_format=torch.channels_last_3d)
    assert contiguous.is_contiguous() and torch.allclose(out, contiguous, atol=1e-5)
