from .aagcn import AAGCN
from .ctrgcn import CTRGCN
from .dgstgcn import DGSTGCN
from .msg3d import MSG3D
from .stgcn import STGCN

__all__ = ['STGCN', 'AAGCN', 'CTRGCN', 'MSG3D', 'DGSTGCN']
