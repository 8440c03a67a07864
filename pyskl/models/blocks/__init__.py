from .gcn import unit_gcn
from .init import bn_init, conv_branch_init, conv_init
from .layers import Zero, build_act, build_norm
from .tcn import mstcn, unit_tcn

__all__ = ['unit_gcn', 'unit_tcn', 'mstcn', 'Zero', 'build_act', 'build_norm', 'bn_init', 'conv_branch_init',
           'conv_init']
