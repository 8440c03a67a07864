"""Pipeline steps (``BaseTransform`` subclasses registered in ``pyskl.registry.TRANSFORMS``)."""
from .crop_resize import CenterCrop, PoseCompact, RandomCrop, RandomResizedCrop, Resize
from .formatting import FormatGCNInput, FormatShape, PackActionInputs
from .heatmap import GeneratePoseTarget, Heatmap2Potion
from .loading import DecompressPose, PoseDecode
from .multi_modality import MMCompact, MMDecode, MMPad, MMUniformSampleFrames
from .sampling import UniformSample, UniformSampleDecode, UniformSampleFrames
from .skeleton import (Flip, GenSkeFeat, JointToBone, MergeSkeFeat, PadTo, PreNormalize2D, PreNormalize3D,
                       RandomGaussianNoise, RandomRot, RandomScale, ToMotion)
from .video import DecordDecode, DecordInit, Normalize

__all__ = [
    'CenterCrop', 'PoseCompact', 'RandomCrop', 'RandomResizedCrop', 'Resize', 'FormatGCNInput', 'FormatShape',
    'PackActionInputs', 'GeneratePoseTarget', 'Heatmap2Potion', 'DecompressPose', 'PoseDecode', 'UniformSample',
    'UniformSampleDecode', 'UniformSampleFrames', 'Flip', 'GenSkeFeat', 'JointToBone', 'MergeSkeFeat', 'PadTo',
    'PreNormalize2D', 'PreNormalize3D', 'RandomGaussianNoise', 'RandomRot', 'RandomScale', 'ToMotion',
    'MMCompact', 'MMDecode', 'MMPad', 'MMUniformSampleFrames', 'DecordDecode', 'DecordInit', 'Normalize'
]
