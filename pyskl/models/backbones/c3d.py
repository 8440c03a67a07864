"""C3D as PoseC3D uses it ("C3D-light"): 3x3x3 conv + BN + ReLU layers between average pools, no fully connected
layers. Input ``[N, C, T, H, W]``, output ``[N, 8 * base_channels, T', H / 8, W / 8]`` (T' = T with
``temporal_downsample=False``). Keys ``conv1a``, ``conv2a``, ``conv3a/b``, ``conv4a/b`` (``conv5a/b`` with 4 stages),
each an mmcv ``ConvModule`` (``.conv``, ``.bn``).
"""
import torch.nn as nn
from mmcv.cnn import ConvModule

from pyskl.registry import MODELS

from ..blocks import conv_init
from .utils import load_pretrained


@MODELS.register_module()
class C3D(nn.Module):
    """Args:
        in_channels: input channels (17 keypoint heatmaps in PoseC3D).
        base_channels: width of conv1a; the stages double it up to ``8 * base_channels``.
        num_stages: 3 (ends at conv4b, PoseC3D) or 4 (adds pool4, conv5a, conv5b).
        temporal_downsample: pools 2-4 also halve time (pool1 never does).
        pretrained: a checkpoint loaded non-strictly by ``init_weights``.
    """

    def __init__(self, in_channels=3, base_channels=64, num_stages=4, temporal_downsample=True, pretrained=None):
        super().__init__()
        if num_stages not in (3, 4):
            raise ValueError(f'C3D has 3 or 4 stages, got num_stages={num_stages}')
        self.in_channels, self.base_channels, self.num_stages = in_channels, base_channels, num_stages
        self.temporal_downsample, self.pretrained = temporal_downsample, pretrained
        pool = (2, 2, 2) if temporal_downsample else (1, 2, 2)
        c = base_channels

        def conv(c_in, c_out):
            return ConvModule(c_in, c_out, 3, padding=1, conv_cfg=dict(type='Conv3d'), norm_cfg=dict(type='BN3d'),
                              act_cfg=dict(type='ReLU'))

        self.conv1a = conv(in_channels, c)
        self.pool1 = nn.AvgPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2))
        self.conv2a = conv(c, 2 * c)
        self.pool2 = nn.AvgPool3d(kernel_size=pool, stride=pool)
        self.conv3a = conv(2 * c, 4 * c)
        self.conv3b = conv(4 * c, 4 * c)
        self.pool3 = nn.AvgPool3d(kernel_size=pool, stride=pool)
        self.conv4a = conv(4 * c, 8 * c)
        self.conv4b = conv(8 * c, 8 * c)
        if num_stages == 4:
            self.pool4 = nn.AvgPool3d(kernel_size=pool, stride=pool)
            self.conv5a = conv(8 * c, 8 * c)
            self.conv5b = conv(8 * c, 8 * c)
        self.reset_parameters()

    def reset_parameters(self):
        """PYSKL's initialisation: Kaiming (fan_out) convs; BNs keep PyTorch's (unit weight, zero bias)."""
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                conv_init(m)

    def init_weights(self):
        self.reset_parameters()
        load_pretrained(self, self.pretrained)

    def forward(self, x):
        x = self.pool1(self.conv1a(x))
        x = self.pool2(self.conv2a(x))
        x = self.pool3(self.conv3b(self.conv3a(x)))
        x = self.conv4b(self.conv4a(x))
        if self.num_stages == 3:
            return x
        return self.conv5b(self.conv5a(self.pool4(x)))
