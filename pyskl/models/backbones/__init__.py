from .stgcn import STGCN

__all__ = ['STGCN']
