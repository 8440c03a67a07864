from .aagcn import AAGCN
from .c3d import C3D
from .ctrgcn import CTRGCN
from .dgstgcn import DGSTGCN
from .msg3d import MSG3D
from .resnet3d import ResNet3d
from .resnet3d_slowfast import ResNet3dSlowFast
from .resnet3d_slowonly import ResNet3dSlowOnly
from .rgbposeconv3d import RGBPoseConv3D
from .stgcn import STGCN
from .x3d import X3D

__all__ = ['STGCN', 'AAGCN', 'CTRGCN', 'MSG3D', 'DGSTGCN', 'ResNet3d', 'ResNet3dSlowOnly', 'ResNet3dSlowFast', 'C3D',
           'X3D', 'RGBPoseConv3D']
