"""SlowFast: two ResNet3d pathways at two frame rates, the fast one feeding the slow one through lateral convs.

:class:`ResNet3dPathway` is also the building block of RGBPoseConv3D (RGB and pose pathways, laterals both ways:
``lateral_inv`` laterals upsample time with a transposed conv). Input ``[N, C, T, H, W]``; output
``(slow, fast)`` features. Keys and their order are PYSKL's: a pathway's ResNet3d keys, then ``conv1_lateral``,
then ``layer{i}_lateral`` (i = 1 .. num_stages - 1).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule

from pyskl.registry import MODELS

from .resnet3d import ResNet3d, inflate_2d_weights
from .utils import load_pretrained


class DeConvModule(nn.Module):
    """Transposed conv (no bias) + BN + ReLU whose output is exactly ``stride`` times the input in T, H and W.

    PYSKL builds the BN even with ``with_bn=False`` (unused); here it exists only when used. No PYSKL config
    turns it off, so checkpoints are unaffected.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=(1, 1, 1), padding=0, bias=False,
                 with_bn=True, with_relu=True):
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.conv = nn.ConvTranspose3d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                                       bias=bias)
        self.bn = nn.BatchNorm3d(out_channels) if with_bn else None
        self.relu = nn.ReLU() if with_relu else None

    def forward(self, x):
        N, _, T, H, W = x.shape
        x = self.conv(x, output_size=(self.stride[0] * T, self.stride[1] * H, self.stride[2] * W))
        if self.bn is not None:
            x = self.bn(x)
        return x if self.relu is None else self.relu(x)


class ResNet3dPathway(ResNet3d):
    """A :class:`ResNet3d` that takes another pathway's features through lateral connections.

    Each stage's input is this pathway's features concatenated (on channels) with the lateral features; the
    lateral conv that makes them is registered here, named after the stage it follows (``conv1_lateral`` after the
    stem, ``layer{i}_lateral`` after stage ``i``), and is applied by the model that runs both pathways.

    Args:
        lateral: take lateral features at all.
        lateral_inv: the other pathway is slower and wider (RGBPoseConv3D's pose pathway): laterals are
            :class:`DeConvModule` s upsampling time by ``speed_ratio`` and mapping ``w * channel_ratio`` channels to
            ``w * channel_ratio // lateral_infl``; otherwise 1D temporal convs (no BN, no activation) striding time by
            ``speed_ratio`` and mapping ``w // channel_ratio`` to ``w * lateral_infl // channel_ratio`` channels,
            ``w`` being this pathway's width at that point.
        speed_ratio, channel_ratio: frame-rate and width ratios between the pathways.
        fusion_kernel: temporal kernel of the laterals.
        lateral_infl: channel inflation of the laterals.
        lateral_activate: per stage (0-based; entry 0 = after the stem), whether that stage's input has laterals.
        **kwargs: :class:`ResNet3d` arguments.
    """

    def __init__(self, lateral=False, lateral_inv=False, speed_ratio=8, channel_ratio=8, fusion_kernel=7,
                 lateral_infl=2, lateral_activate=(1, 1, 1, 1), **kwargs):
        self.lateral, self.lateral_inv = lateral, lateral_inv
        self.speed_ratio, self.channel_ratio = speed_ratio, channel_ratio
        self.fusion_kernel, self.lateral_infl = fusion_kernel, lateral_infl
        self.lateral_activate = tuple(lateral_activate)
        super().__init__(**kwargs)
        self.lateral_connections = []  # the layer{i}_lateral names, as PYSKL keeps them
        for i, width in enumerate(self.stage_input_widths()):
            if lateral and self.lateral_activate[i]:
                name = 'conv1_lateral' if i == 0 else f'layer{i}_lateral'
                setattr(self, name, self.make_lateral(width))
                self.lateral_connections += [name] if i else []
        self.reset_parameters()

    def stage_input_widths(self):
        """This pathway's own channels at the input of each stage."""
        expansion = self.block.expansion
        return [self.base_channels] + [self.base_channels * 2**(i - 1) * expansion for i in range(1, self.num_stages)]

    def lateral_width(self, width: int) -> int:
        """Channels a lateral adds where this pathway has ``width`` channels."""
        if self.lateral_inv:
            return width * self.channel_ratio // self.lateral_infl
        return width * self.lateral_infl // self.channel_ratio

    def lateral_inplanes(self):
        return [self.lateral_width(w) if self.lateral and self.lateral_activate[i] else 0
                for i, w in enumerate(self.stage_input_widths())]

    def make_lateral(self, width: int) -> nn.Module:
        kernel, padding = (self.fusion_kernel, 1, 1), ((self.fusion_kernel - 1) // 2, 0, 0)
        stride = (self.speed_ratio, 1, 1)
        in_width = width * self.channel_ratio if self.lateral_inv else width // self.channel_ratio
        if min(in_width, self.lateral_width(width)) < 1:
            raise ValueError(f'a lateral where this pathway is {width} wide would map {in_width} to '
                             f'{self.lateral_width(width)} channels; check channel_ratio ({self.channel_ratio}) and '
                             f'lateral_infl ({self.lateral_infl})')
        if self.lateral_inv:
            return DeConvModule(in_width, self.lateral_width(width), kernel, stride, padding)
        return ConvModule(in_width, self.lateral_width(width), kernel, stride=stride, padding=padding, bias=False,
                          conv_cfg=self.conv_cfg, norm_cfg=None, act_cfg=None)

    def inflate_weights(self, state_dict_2d):
        """2D weights for the pathway's own convs; laterals keep their initialisation, and the input channels that
        laterals add get zero weights."""
        return inflate_2d_weights(self, state_dict_2d, skip=lambda name: 'lateral' in name, pad_in_channels=True)

    def frozen_modules(self):
        """As ResNet3d, plus the laterals after the frozen stages (not ``conv1_lateral``, as PYSKL)."""
        laterals = [getattr(self, f'layer{i}_lateral', None) for i in range(1, max(self.frozen_stages, 0) + 1)]
        return super().frozen_modules() + [m for m in laterals if m is not None]


def build_pathway(cfg: dict, speed_ratio: int, channel_ratio: int) -> ResNet3dPathway:
    """A pathway from a copy of ``cfg``, given the model's ratios when it has laterals (PYSKL wrote them into the
    shared default dicts)."""
    cfg = dict(cfg)
    if cfg.get('lateral', False):
        cfg.update(speed_ratio=speed_ratio, channel_ratio=channel_ratio)
    return ResNet3dPathway(**cfg)


def init_pathways(model: nn.Module, pretrained, *pathways: ResNet3dPathway) -> None:
    """Load ``pretrained`` (a checkpoint of the whole ``model``) strictly, else initialise the pathways in the order
    given (the order of the random draws, so seeded weights depend on it)."""
    if isinstance(pretrained, str):
        load_pretrained(model, pretrained, strict=True)
    else:
        for pathway in pathways:
            pathway.init_weights()


@MODELS.register_module()
class ResNet3dSlowFast(nn.Module):
    """SlowFast (Feichtenhofer et al., 2019): the slow pathway sees every ``resample_rate``-th frame, the fast one
    ``speed_ratio`` times more frames with ``channel_ratio`` times fewer channels, and feeds the slow one after the
    stem and after every stage but the last.

    Args:
        pretrained: a 3D checkpoint of the whole model, loaded strictly by ``init_weights``.
        resample_rate, speed_ratio, channel_ratio: see above; the pathways' own ratios are set from these.
        slow_pathway, fast_pathway: :class:`ResNet3dPathway` arguments.
    """

    def __init__(self, pretrained=None, resample_rate=8, speed_ratio=8, channel_ratio=8,
                 slow_pathway=dict(depth=50, lateral=True, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1)),
                 fast_pathway=dict(depth=50, lateral=False, base_channels=8, conv1_kernel=(5, 7, 7))):
        super().__init__()
        self.pretrained, self.resample_rate = pretrained, resample_rate
        self.speed_ratio, self.channel_ratio = speed_ratio, channel_ratio
        self.slow_path = build_pathway(slow_pathway, speed_ratio, channel_ratio)
        self.fast_path = ResNet3dPathway(**fast_pathway)  # as PYSKL: only the slow pathway takes the ratios

    @property
    def in_channels(self) -> int:
        return self.slow_path.in_channels

    def init_weights(self):
        init_pathways(self, self.pretrained, self.fast_path, self.slow_path)

    def forward(self, x):
        slow, fast = self.slow_path, self.fast_path
        x_slow = F.interpolate(x, mode='nearest', scale_factor=(1.0 / self.resample_rate, 1.0, 1.0))
        x_fast = F.interpolate(x, mode='nearest',
                               scale_factor=(1.0 / (self.resample_rate // self.speed_ratio), 1.0, 1.0))
        x_slow = slow.maxpool(slow.conv1(x_slow))
        x_fast = fast.maxpool(fast.conv1(x_fast))
        if hasattr(slow, 'conv1_lateral'):
            x_slow = torch.cat((x_slow, slow.conv1_lateral(x_fast)), dim=1)
        for name in slow.res_layers:
            x_slow = getattr(slow, name)(x_slow)
            x_fast = getattr(fast, name)(x_fast)
            lateral = getattr(slow, f'{name}_lateral', None)
            if lateral is not None:
                x_slow = torch.cat((x_slow, lateral(x_fast)), dim=1)
        return x_slow, x_fast
