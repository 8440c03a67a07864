"""X3D (Feichtenhofer, 2020) as PYSKL builds it; PoseC3D's "X3D-shallow" is ``X3D(gamma_d=1, se_ratio=None,
use_swish=False, stage_blocks=(2, 5, 3), num_stages=3, ...)``.

Input ``[N, C, T, H, W]``, output ``[N, int(gamma_b * base * 2**(num_stages - 1)), T, H', W']`` (time is never
strided). Keys: ``conv1_s`` (no BN), ``conv1_t``, ``layer{i}.{b}.{downsample, conv1, conv2, conv3, se_module}``
(that order: PYSKL registers the shortcut first), ``conv5``.
"""
import math

import torch.nn as nn
from mmcv.cnn import ConvModule

from pyskl.registry import MODELS

from ..blocks import bn_init, build_act, kaiming_convs_unit_bns
from .resnet3d import BN3D, CONV3D, RELU
from .utils import channels_last_on_cpu, freeze_and_norm_eval, load_pretrained


def round_width(width, multiplier, min_width=8, divisor=8) -> int:
    """``width * multiplier`` rounded to a multiple of ``divisor`` (at least ``min_width``, and never below 90% of
    the product); ``width`` itself when the multiplier is 0 or None."""
    if not multiplier:
        return width
    width *= multiplier
    rounded = max(min_width, int(width + divisor / 2) // divisor * divisor)
    return int(rounded + divisor if rounded < 0.9 * width else rounded)


def round_repeats(repeats, multiplier) -> int:
    """Blocks of a stage scaled by the depth factor, rounded up."""
    return int(math.ceil(multiplier * repeats)) if multiplier else repeats


class SEModule(nn.Module):
    """Squeeze-and-excitation: ``x * sigmoid(fc2(relu(fc1(mean over T, H, W of x))))``."""

    def __init__(self, channels, reduction):
        super().__init__()
        self.bottleneck = round_width(channels, reduction)
        self.fc1 = nn.Conv3d(channels, self.bottleneck, kernel_size=1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv3d(self.bottleneck, channels, kernel_size=1)

    def forward(self, x):
        scale = self.fc2(self.relu(self.fc1(x.mean(dim=(2, 3, 4), keepdim=True))))
        return x * scale.sigmoid()


class BlockX3D(nn.Module):
    """``relu(conv3(swish(se(conv2(conv1(x))))) + shortcut(x))``: 1x1x1 expand to ``planes`` (+ ReLU), a
    channel-wise 3x3x3 conv (spatially strided), optional SE, Swish (or nothing), 1x1x1 project to ``outplanes``."""

    def __init__(self, inplanes, planes, outplanes, spatial_stride=1, downsample=None, se_ratio=None,
                 use_swish=True, conv_cfg=CONV3D, norm_cfg=BN3D, act_cfg=RELU):
        super().__init__()
        self.inplanes, self.planes, self.outplanes = inplanes, planes, outplanes
        self.spatial_stride, self.se_ratio, self.use_swish = spatial_stride, se_ratio, use_swish
        self.downsample = downsample
        cfgs = dict(bias=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.conv1 = ConvModule(inplanes, planes, 1, act_cfg=act_cfg, **cfgs)
        self.conv2 = ConvModule(planes, planes, 3, stride=(1, spatial_stride, spatial_stride), padding=1,
                                groups=planes, act_cfg=None, **cfgs)
        self.swish = nn.SiLU() if use_swish else nn.Identity()  # SiLU is Swish, x * sigmoid(x)
        self.conv3 = ConvModule(planes, outplanes, 1, act_cfg=None, **cfgs)
        if se_ratio is not None:
            self.se_module = SEModule(planes, se_ratio)
        self.relu = build_act(act_cfg)

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        if self.se_ratio is not None:
            out = self.se_module(out)
        out = self.conv3(self.swish(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


@MODELS.register_module()
class X3D(nn.Module):
    """Args:
        gamma_w, gamma_b, gamma_d: width, bottleneck-width and depth factors (base channels rounded to a multiple of
            8; blocks per stage rounded up).
        pretrained: a checkpoint loaded non-strictly by ``init_weights``.
        in_channels, base_channels: input channels and the stem width (before ``gamma_w``).
        num_stages (1-4), stage_blocks, spatial_strides: the stages (stage ``i`` is ``base * 2**i`` wide).
        frozen_stages: the stem (0) and stages ``1..frozen_stages`` get no gradients and stay in eval mode.
        se_style: SE in every block (``'all'``) or every other block from the first (``'half'``);
            ``se_ratio`` its reduction (None: no SE).
        use_swish: Swish after the channel-wise conv (else nothing).
        conv_cfg, norm_cfg, act_cfg: mmcv layer configs.
        norm_eval: keep every BN in eval mode while training.
        zero_init_residual: zero the last BN of every block.
    """

    def __init__(self, gamma_w=1.0, gamma_b=2.25, gamma_d=2.2, pretrained=None, in_channels=3, base_channels=24,
                 num_stages=4, stage_blocks=(1, 2, 5, 3), spatial_strides=(2, 2, 2, 2), frozen_stages=-1,
                 se_style='half', se_ratio=1 / 16, use_swish=True, conv_cfg=CONV3D, norm_cfg=BN3D, act_cfg=RELU,
                 norm_eval=False, zero_init_residual=True):
        super().__init__()
        if not 1 <= num_stages <= 4:
            raise ValueError(f'num_stages must be 1..4, got {num_stages}')
        if len(spatial_strides) != num_stages:
            raise ValueError(f'spatial_strides {spatial_strides} needs num_stages={num_stages} entries')
        if se_style not in ('all', 'half'):
            raise ValueError(f"se_style must be 'all' or 'half', got {se_style!r}")
        if se_ratio is not None and se_ratio <= 0:
            raise ValueError(f'se_ratio must be positive or None, got {se_ratio}')
        self.gamma_w, self.gamma_b, self.gamma_d = gamma_w, gamma_b, gamma_d
        self.pretrained, self.in_channels = pretrained, in_channels
        self.base_channels = round_width(base_channels, gamma_w)
        self.stage_blocks = [round_repeats(n, gamma_d) for n in stage_blocks][:num_stages]
        self.num_stages, self.spatial_strides, self.frozen_stages = num_stages, spatial_strides, frozen_stages
        self.se_style, self.se_ratio, self.use_swish = se_style, se_ratio, use_swish
        self.conv_cfg, self.norm_cfg, self.act_cfg = conv_cfg, norm_cfg, act_cfg
        self.norm_eval, self.zero_init_residual = norm_eval, zero_init_residual

        base = self.base_channels
        self.conv1_s = ConvModule(in_channels, base, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), bias=False,
                                  conv_cfg=conv_cfg, norm_cfg=None, act_cfg=None)
        self.conv1_t = ConvModule(base, base, (5, 1, 1), padding=(2, 0, 0), groups=base, bias=False,
                                  conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.res_layers = []
        layer_inplanes = base
        for i, num_blocks in enumerate(self.stage_blocks):
            inplanes = base * 2**i
            layer = self.make_res_layer(layer_inplanes, inplanes, int(inplanes * gamma_b), num_blocks,
                                        spatial_strides[i])
            layer_inplanes = inplanes
            self.add_module(f'layer{i + 1}', layer)
            self.res_layers.append(f'layer{i + 1}')
        width = base * 2**(len(self.stage_blocks) - 1)
        self.conv5 = ConvModule(width, int(width * gamma_b), 1, bias=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                act_cfg=act_cfg)
        self.feat_dim = int(width * gamma_b)
        self.reset_parameters()

    def make_res_layer(self, layer_inplanes, inplanes, planes, blocks, spatial_stride=1) -> nn.Sequential:
        """A stage of ``blocks`` blocks ``inplanes -> planes -> inplanes`` wide (the first from ``layer_inplanes``,
        spatially strided, with a 1x1x1 projection shortcut where the shape changes)."""
        cfgs = dict(use_swish=self.use_swish, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        downsample = None
        if spatial_stride != 1 or layer_inplanes != inplanes:
            downsample = ConvModule(layer_inplanes, inplanes, 1, stride=(1, spatial_stride, spatial_stride),
                                    bias=False, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=None)
        with_se = [self.se_style == 'all' or i % 2 == 0 for i in range(blocks)]
        layers = [BlockX3D(layer_inplanes if i == 0 else inplanes, planes, inplanes,
                           spatial_stride=spatial_stride if i == 0 else 1, downsample=downsample if i == 0 else None,
                           se_ratio=self.se_ratio if with_se[i] else None, **cfgs) for i in range(blocks)]
        return nn.Sequential(*layers)

    def reset_parameters(self):
        """PYSKL's initialisation: Kaiming (fan_out) convs, unit BNs, and with ``zero_init_residual`` a zero last BN
        in every block."""
        kaiming_convs_unit_bns(self, nn.Conv3d)
        if self.zero_init_residual:
            for m in self.modules():
                if isinstance(m, BlockX3D):
                    bn_init(m.conv3.bn, 0)

    def init_weights(self):
        self.reset_parameters()
        load_pretrained(self, self.pretrained)

    def forward(self, x):
        x = self.conv1_t(self.conv1_s(channels_last_on_cpu(x)))
        for name in self.res_layers:
            x = getattr(self, name)(x)
        return self.conv5(x)

    def frozen_modules(self):
        if self.frozen_stages < 0:
            return []
        return [self.conv1_s, self.conv1_t] + [getattr(self, f'layer{i}') for i in range(1, self.frozen_stages + 1)]

    def train(self, mode=True):
        super().train(mode)
        freeze_and_norm_eval(self, self.frozen_modules(), self.norm_eval, mode)
        return self
