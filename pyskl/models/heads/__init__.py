from .rgbpose_head import RGBPoseHead
from .simple_head import GCNHead, I3DHead, SimpleHead

__all__ = ['SimpleHead', 'GCNHead', 'I3DHead', 'RGBPoseHead']
