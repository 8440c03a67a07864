"""Pipeline steps (``BaseTransform`` subclasses registered in ``pyskl.registry.TRANSFORMS``)."""
from .formatting import FormatGCNInput, PackActionInputs
from .heatmap import GeneratePoseTarget, Heatmap2Potion
from .loading import DecompressPose, PoseDecode
from .sampling import UniformSample, UniformSampleDecode, UniformSampleFrames
from .skeleton import (Flip, GenSkeFeat, JointToBone, MergeSkeFeat, PadTo, PreNormalize2D, PreNormalize3D,
                       RandomGaussianNoise, RandomRot, RandomScale, ToMotion)

__all__ = [
    'FormatGCNInput', 'PackActionInputs', 'GeneratePoseTarget', 'Heatmap2Potion', 'DecompressPose', 'PoseDecode', 'UniformSample', 'UniformSampleDecode',
    'UniformSampleFrames', 'Flip', 'GenSkeFeat', 'JointToBone', 'MergeSkeFeat', 'PadTo', 'PreNormalize2D',
    'PreNormalize3D', 'RandomGaussianNoise', 'RandomRot', 'RandomScale', 'ToMotion'
]
