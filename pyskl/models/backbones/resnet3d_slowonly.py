"""SlowOnly: ResNet3d with a 1x7x7 stem and temporal kernels only in the late stages; PoseC3D's main backbone.

Input ``[N, C, T, H, W]`` (heatmap volumes: C keypoints or limbs), output ``[N, C', T', H', W']``.
"""
from pyskl.registry import MODELS

from .resnet3d import ResNet3d


@MODELS.register_module()
class ResNet3dSlowOnly(ResNet3d):
    """:class:`ResNet3d` with SlowOnly's defaults: ``conv1_kernel=(1, 7, 7)``, ``inflate=(0, 0, 1, 1)``."""

    def __init__(self, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1), **kwargs):
        super().__init__(conv1_kernel=conv1_kernel, inflate=inflate, **kwargs)
