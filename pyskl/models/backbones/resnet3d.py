"""ResNet3d, the inflated 3D ResNet of PYSKL: the base of SlowOnly (PoseC3D), SlowFast's pathways and RGBPoseConv3D.

Input ``[N, C, T, H, W]``, output ``[N, C', T', H', W']`` (a tuple when ``out_indices`` names several stages).
Every conv is an mmcv ``ConvModule`` (``conv`` + ``bn``), so keys read ``conv1.conv.weight``, ``conv1.bn.*``,
``layer{i}.{b}.conv{1,2,3}.{conv,bn}.*`` and ``layer{i}.0.downsample.{conv,bn}.*`` in PYSKL's order, and PYSKL
checkpoints load with ``strict=True``. :func:`inflate_2d_weights` starts a model from 2D ResNet weights.
"""
import logging
from typing import Callable, Dict, List, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.logging import print_log
from torch.nn.modules.utils import _ntuple, _triple

from pyskl.registry import MODELS

from ..blocks import bn_init, build_act, kaiming_convs_unit_bns
from .utils import channels_last_on_cpu, freeze_and_norm_eval, load_pretrained

CONV3D = dict(type='Conv3d')
BN3D = dict(type='BN3d', requires_grad=True)
RELU = dict(type='ReLU', inplace=True)


def conv_module(in_channels, out_channels, kernel_size, stride=1, padding=0, act=True, conv_cfg=CONV3D,
                norm_cfg=BN3D, act_cfg=RELU, **kwargs) -> ConvModule:
    """A bias-free conv + BN (+ activation) as every ResNet3d conv is."""
    return ConvModule(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False,
                      conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg if act else None, **kwargs)


class BasicBlock3d(nn.Module):
    """``relu(conv2(conv1(x)) + shortcut(x))`` with 3x3x3 convs (1x3x3 when not inflated); ResNet-18/34.

    ``stride`` is ``(temporal, spatial)`` and applies to conv1. PYSKL asserts ``inflate_style == '3x3x3'`` here,
    so its ResNet3d(depth=18/34) with the default ``'3x1x1'`` cannot be built; a basic block has only one inflated
    form, so the style is accepted and ignored (as MMAction2 does).
    """
    expansion = 1

    def __init__(self, inplanes, planes, stride=(1, 1), downsample=None, inflate=True, inflate_style='3x3x3',
                 conv_cfg=CONV3D, norm_cfg=BN3D, act_cfg=RELU):
        super().__init__()
        self.inplanes, self.planes, self.stride, self.inflate = inplanes, planes, stride, inflate
        kernel, padding = (3, 1) if inflate else ((1, 3, 3), (0, 1, 1))
        cfgs = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv1 = conv_module(inplanes, planes, kernel, (stride[0], stride[1], stride[1]), padding, **cfgs)
        self.conv2 = conv_module(planes, planes * self.expansion, kernel, 1, padding, act=False, **cfgs)
        self.downsample = downsample
        self.relu = build_act(act_cfg)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + identity)


# inflate style -> (conv1 kernel, conv1 padding, conv2 kernel, conv2 padding) of a bottleneck
BOTTLENECK_KERNELS = {
    None: (1, 0, (1, 3, 3), (0, 1, 1)),  # not inflated
    '3x1x1': ((3, 1, 1), (1, 0, 0), (1, 3, 3), (0, 1, 1)),
    '3x3x3': (1, 0, 3, 1),
}


class Bottleneck3d(nn.Module):
    """``relu(conv3(conv2(conv1(x))) + shortcut(x))``: 1x1x1 reduce, 1x3x3 (strided), 1x1x1 expand (x4).

    Inflation puts the temporal extent on conv1 (``'3x1x1'``: a 3x1x1 conv1) or on conv2 (``'3x3x3'``).
    ``stride`` is ``(temporal, spatial)`` and applies to conv2.
    """
    expansion = 4

    def __init__(self, inplanes, planes, stride=(1, 1), downsample=None, inflate=True, inflate_style='3x1x1',
                 conv_cfg=CONV3D, norm_cfg=BN3D, act_cfg=RELU):
        super().__init__()
        if inflate_style not in ('3x1x1', '3x3x3'):
            raise ValueError(f"inflate_style must be '3x1x1' or '3x3x3', got {inflate_style!r}")
        self.inplanes, self.planes, self.stride, self.inflate = inplanes, planes, stride, inflate
        self.inflate_style = inflate_style
        k1, p1, k2, p2 = BOTTLENECK_KERNELS[inflate_style if inflate else None]
        cfgs = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv1 = conv_module(inplanes, planes, k1, 1, p1, **cfgs)
        self.conv2 = conv_module(planes, planes, k2, (stride[0], stride[1], stride[1]), p2, **cfgs)
        self.conv3 = conv_module(planes, planes * self.expansion, 1, act=False, **cfgs)
        self.downsample = downsample
        self.relu = build_act(act_cfg)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv3(self.conv2(self.conv1(x))) + identity)


def make_res_layer(block, inplanes, planes, blocks, stride=(1, 1), inflate=1, inflate_style='3x1x1',
                   advanced=False, conv_cfg=CONV3D, norm_cfg=BN3D, act_cfg=RELU) -> nn.Sequential:
    """One stage: ``blocks`` residual blocks, the first strided (``(temporal, spatial)``) with a 1x1x1 projection
    shortcut (``downsample``) where the shape changes.

    ``inflate`` (0/1, or one per block) says which blocks get a temporal kernel. ``advanced`` projects without
    stride and average-pools instead (``downsample.0`` conv, ``downsample.1`` pool). PYSKL adds the projection
    only for a spatial stride or a width change, so a temporal-only stride broke the residual sum; a temporal
    stride counts here too.
    """
    inflate = (inflate, ) * blocks if isinstance(inflate, int) else tuple(inflate)
    if len(inflate) != blocks:
        raise ValueError(f'inflate has {len(inflate)} entries for a stage of {blocks} blocks')
    cfgs = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
    outplanes = planes * block.expansion
    stride3d = (stride[0], stride[1], stride[1])
    downsample = None
    if stride3d != (1, 1, 1) or inplanes != outplanes:
        if advanced:
            downsample = nn.Sequential(
                conv_module(inplanes, outplanes, 1, act=False, **cfgs),
                nn.AvgPool3d(kernel_size=stride3d, stride=stride3d, ceil_mode=True))
        else:
            downsample = conv_module(inplanes, outplanes, 1, stride3d, act=False, **cfgs)
    layers = [block(inplanes, planes, stride, downsample, inflate[0] == 1, inflate_style, **cfgs)]
    layers += [block(outplanes, planes, (1, 1), None, inflate[i] == 1, inflate_style, **cfgs) for i in range(1, blocks)]
    return nn.Sequential(*layers)


def names_in_2d_resnet(name: str):
    """The 2D ResNet (torchvision / mmcv) names of the conv and BN of ConvModule ``name``:
    ``layer1.0.conv2`` -> ``layer1.0.conv2``, ``layer1.0.bn2``; ``layer1.0.downsample`` -> ``.0``, ``.1``."""
    if 'downsample' in name:
        return f'{name}.0', f'{name}.1'
    head, _, last = name.rpartition('.')
    return name, (f'{head}.' if head else '') + last.replace('conv', 'bn')


def _inflate_conv(conv: nn.Conv3d, weight_2d: torch.Tensor, name: str, pad_in_channels: bool) -> bool:
    """``conv.weight = weight_2d`` repeated over time / kernel_t (so a static clip gives the 2D response).
    With ``pad_in_channels``, extra input channels of the 3D conv (lateral inputs) get zero weights."""
    out_3d, in_3d, kernel_t = conv.weight.shape[:3]
    if weight_2d.dim() != 4 or weight_2d.shape[0] != out_3d or weight_2d.shape[2:] != conv.weight.shape[3:] or \
            not (weight_2d.shape[1] == in_3d or pad_in_channels and weight_2d.shape[1] < in_3d):
        print_log(f'{name}: 2D weight {tuple(weight_2d.shape)} does not fit the 3D weight '
                  f'{tuple(conv.weight.shape)}; not inflated', logger='current', level=logging.WARNING)
        return False
    if weight_2d.shape[1] < in_3d:
        weight_2d = torch.cat([weight_2d, weight_2d.new_zeros((out_3d, in_3d - weight_2d.shape[1]) +
                                                              weight_2d.shape[2:])], dim=1)
    with torch.no_grad():
        conv.weight.copy_(weight_2d.unsqueeze(2).expand_as(conv.weight) / kernel_t)
    return True


def _inflate_bn(bn: nn.Module, state_dict_2d: Dict[str, torch.Tensor], prefix: str) -> List[str]:
    """Copy a 2D BN's parameters and statistics (those the 2D state dict has) into a 3D BN."""
    entries = dict(bn.named_parameters(), **dict(bn.named_buffers()))
    found = {k: state_dict_2d[f'{prefix}.{k}'] for k in entries if f'{prefix}.{k}' in state_dict_2d}
    if any(found[k].shape != entries[k].shape for k in found):
        print_log(f'{prefix}: 2D BN shapes do not fit; not loaded', logger='current', level=logging.WARNING)
        return []
    with torch.no_grad():
        for k, value in found.items():
            entries[k].copy_(value)
    return [f'{prefix}.{k}' for k in found]


def inflate_2d_weights(model: nn.Module, state_dict_2d: Dict[str, torch.Tensor],
                       skip: Callable[[str], bool] = lambda name: False, pad_in_channels: bool = False) -> List[str]:
    """Start a 3D ResNet from a 2D ResNet's ``state_dict`` (PYSKL's ``pretrained2d``); returns the 2D keys used.

    Each ConvModule ``name`` (not ``skip(name)``) takes the 2D conv of the same name (``downsample.0`` for a
    shortcut) repeated over time and divided by the temporal kernel, and the 2D BN (``bn{n}`` / ``downsample.1``).
    Modules the 2D model lacks, or whose shapes differ, are reported and keep their initialisation; 2D keys left
    unused are reported too.
    """
    used = []
    for name, module in model.named_modules():
        if not isinstance(module, ConvModule) or skip(name):
            continue
        conv_name, bn_name = names_in_2d_resnet(name)
        if f'{conv_name}.weight' not in state_dict_2d:
            print_log(f'{conv_name} is not in the 2D state_dict', logger='current', level=logging.WARNING)
        elif _inflate_conv(module.conv, state_dict_2d[f'{conv_name}.weight'], conv_name, pad_in_channels):
            used.append(f'{conv_name}.weight')
        if module.with_norm:
            if f'{bn_name}.weight' not in state_dict_2d:
                print_log(f'{bn_name} is not in the 2D state_dict', logger='current', level=logging.WARNING)
            else:
                used += _inflate_bn(module.bn, state_dict_2d, bn_name)
    unused = sorted(set(state_dict_2d) - set(used))
    if unused:
        print_log(f'2D weights not used: {unused}', logger='current', level=logging.INFO)
    return used


@MODELS.register_module()
class ResNet3d(nn.Module):
    """Stem (conv1 + 1x3x3 max-pool) and ``num_stages`` residual stages.

    Args:
        depth: 18, 34 (BasicBlock3d) or 50, 101, 152 (Bottleneck3d).
        pretrained: a checkpoint loaded by ``init_weights``: 2D ResNet weights inflated (``pretrained2d=True``)
            or a 3D checkpoint loaded non-strictly.
        stage_blocks: blocks per stage (default: the depth's, cut to ``num_stages``).
        in_channels, base_channels: input channels and the stem's width (stage ``i`` is ``base * 2**i`` wide
            inside its blocks, ``expansion`` times that at its output).
        num_stages (1-4), out_indices: which stages' outputs to return (0-based).
        spatial_strides, temporal_strides: each stage's stride (applied in its first block).
        conv1_kernel, conv1_stride, pool1_stride: the stem; strides are ``(temporal, spatial)``.
        advanced: shortcuts average-pool instead of striding.
        frozen_stages: the stem (0) and stages ``1..frozen_stages`` are put in eval mode with no gradients.
        inflate: per stage (or per block), whether blocks get a temporal kernel; ``inflate_style`` '3x1x1' or
            '3x3x3' (bottlenecks).
        conv_cfg, norm_cfg, act_cfg: mmcv layer configs.
        norm_eval: keep every BN in eval mode while training.
        zero_init_residual: zero the last BN of every block (each block starts as the identity).
    """

    arch_settings = {
        18: (BasicBlock3d, (2, 2, 2, 2)),
        34: (BasicBlock3d, (3, 4, 6, 3)),
        50: (Bottleneck3d, (3, 4, 6, 3)),
        101: (Bottleneck3d, (3, 4, 23, 3)),
        152: (Bottleneck3d, (3, 8, 36, 3)),
    }

    def __init__(self, depth=50, pretrained=None, stage_blocks=None, pretrained2d=True, in_channels=3, num_stages=4,
                 base_channels=64, out_indices=(3, ), spatial_strides=(1, 2, 2, 2), temporal_strides=(1, 1, 1, 1),
                 conv1_kernel=(3, 7, 7), conv1_stride=(1, 2), pool1_stride=(1, 2), advanced=False, frozen_stages=-1,
                 inflate=(1, 1, 1, 1), inflate_style='3x1x1', conv_cfg=CONV3D, norm_cfg=BN3D, act_cfg=RELU,
                 norm_eval=False, zero_init_residual=True):
        super().__init__()
        if depth not in self.arch_settings:
            raise KeyError(f'invalid depth {depth} for ResNet3d; choose one of {sorted(self.arch_settings)}')
        if not 1 <= num_stages <= 4:
            raise ValueError(f'num_stages must be 1..4, got {num_stages}')
        if max(out_indices) >= num_stages:
            raise ValueError(f'out_indices {out_indices} name a stage beyond num_stages={num_stages}')
        if not len(spatial_strides) == len(temporal_strides) == num_stages:
            raise ValueError(f'spatial_strides {spatial_strides} and temporal_strides {temporal_strides} need '
                             f'num_stages={num_stages} entries')
        self.block, default_blocks = self.arch_settings[depth]
        stage_blocks = tuple(default_blocks[:num_stages] if stage_blocks is None else stage_blocks)
        if len(stage_blocks) != num_stages:
            raise ValueError(f'stage_blocks {stage_blocks} needs num_stages={num_stages} entries')

        self.depth, self.pretrained, self.pretrained2d = depth, pretrained, pretrained2d
        self.in_channels, self.base_channels, self.num_stages = in_channels, base_channels, num_stages
        self.stage_blocks, self.out_indices = stage_blocks, tuple(out_indices)
        self.spatial_strides, self.temporal_strides = spatial_strides, temporal_strides
        self.conv1_kernel, self.conv1_stride, self.pool1_stride = conv1_kernel, conv1_stride, pool1_stride
        self.advanced, self.frozen_stages = advanced, frozen_stages
        self.stage_inflations = _ntuple(num_stages)(inflate)
        self.inflate_style = inflate_style
        self.conv_cfg, self.norm_cfg, self.act_cfg = conv_cfg, norm_cfg, act_cfg
        self.norm_eval, self.zero_init_residual = norm_eval, zero_init_residual

        self.conv1 = conv_module(in_channels, base_channels, conv1_kernel,
                                 (conv1_stride[0], conv1_stride[1], conv1_stride[1]),
                                 tuple((k - 1) // 2 for k in _triple(conv1_kernel)),
                                 conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.maxpool = nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(pool1_stride[0], pool1_stride[1], pool1_stride[1]),
                                    padding=(0, 1, 1))
        self.res_layers = []
        inplanes = base_channels
        for i, (num_blocks, extra) in enumerate(zip(stage_blocks, self.lateral_inplanes())):
            planes = base_channels * 2**i
            layer = make_res_layer(self.block, inplanes + extra, planes, num_blocks,
                                   stride=(temporal_strides[i], spatial_strides[i]), inflate=self.stage_inflations[i],
                                   inflate_style=inflate_style, advanced=advanced, conv_cfg=conv_cfg,
                                   norm_cfg=norm_cfg, act_cfg=act_cfg)
            inplanes = planes * self.block.expansion
            self.add_module(f'layer{i + 1}', layer)
            self.res_layers.append(f'layer{i + 1}')
        self.feat_dim = self.block.expansion * base_channels * 2**(num_stages - 1)
        self.reset_parameters()

    def lateral_inplanes(self) -> Sequence[int]:
        """Channels another pathway concatenates to each stage's input (none here; see ResNet3dPathway)."""
        return [0] * self.num_stages

    def reset_parameters(self):
        """PYSKL's initialisation: Kaiming (fan_out) convs, unit BNs, and with ``zero_init_residual`` a zero last BN
        in every block."""
        kaiming_convs_unit_bns(self, nn.Conv3d)
        if self.zero_init_residual:
            for m in self.modules():
                if isinstance(m, (Bottleneck3d, BasicBlock3d)):
                    bn_init((m.conv3 if isinstance(m, Bottleneck3d) else m.conv2).bn, 0)

    def inflate_weights(self, state_dict_2d: Dict[str, torch.Tensor]) -> List[str]:
        return inflate_2d_weights(self, state_dict_2d)

    def init_weights(self):
        """:meth:`reset_parameters` (already run at construction), then ``pretrained``, if set."""
        self.reset_parameters()
        if not isinstance(self.pretrained, str):
            return
        if self.pretrained2d:
            from pyskl.utils.checkpoint import get_state_dict, read_checkpoint
            self.inflate_weights(get_state_dict(read_checkpoint(self.pretrained)))
        else:
            load_pretrained(self, self.pretrained)

    def forward(self, x):
        x = self.maxpool(self.conv1(channels_last_on_cpu(x)))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def frozen_modules(self) -> List[nn.Module]:
        """The stem and the first ``frozen_stages`` stages."""
        if self.frozen_stages < 0:
            return []
        return [self.conv1] + [getattr(self, f'layer{i}') for i in range(1, self.frozen_stages + 1)]

    def train(self, mode=True):
        super().train(mode)
        freeze_and_norm_eval(self, self.frozen_modules(), self.norm_eval, mode)
        return self
