from .gcn import unit_gcn
from .init import bn_init, conv_branch_init, conv_init, kaiming_convs_unit_bns
from .layers import TemporalMaxPool, Zero, build_act, build_norm
from .ms_tcn import MSTCN
from .tcn import block_residual, mstcn, unit_tcn

__all__ = ['unit_gcn', 'unit_tcn', 'mstcn', 'MSTCN', 'block_residual', 'TemporalMaxPool', 'Zero', 'build_act',
           'build_norm', 'bn_init', 'conv_branch_init', 'conv_init', 'kaiming_convs_unit_bns']
