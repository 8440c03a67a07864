"""AAGCN: shapes, gradients, PYSKL's initial values, parameter counts and kwargs handling."""
import math

import pytest
import torch
import torch.nn as nn

from pyskl.models.backbones.aagcn import AAGCN, unit_aagcn
from pyskl.registry import MODELS
from .helpers import NTU, tiny_input
from .helpers import TINY as TINY_OF

TINY = TINY_OF['AAGCN']


pytestmark = pytest.mark.usefixtures('one_thread')


def test_adaptive_graph_and_attention_change_the_output():
    """alpha, conv_ta and fc2c start at 0; once non-zero, each must change what the block computes."""
    torch.manual_seed(0)
    gcn = unit_aagcn(8, 16, torch.rand(3, 25, 25)).eval()
    x = torch.randn(2, 8, 12, 25)
    base = gcn(x)
    for name in ('alpha', 'conv_ta.weight', 'fc2c.weight'):
        param = gcn.get_parameter(name)
        with torch.no_grad():
            param.fill_(0.5)
            assert not torch.allclose(gcn(x), base), f'{name} has no effect'
            param.zero_()


def test_initial_values_follow_pyskl():
    torch.manual_seed(0)
    model = AAGCN(graph_cfg=NTU)
    for i, block in enumerate(model.gcn):
        gcn = block.gcn
        assert gcn.alpha.item() == 0
        assert torch.equal(gcn.A, model.A), 'each block learns its own copy of the graph'
        assert gcn.A.data_ptr() != model.A.data_ptr()
        assert torch.all(gcn.bn.weight == 1e-6) and torch.all(gcn.bn.bias == 0)
        for name in ('conv_ta.weight', 'conv_ta.bias', 'conv_sa.bias', 'fc1c.bias', 'fc2c.weight', 'fc2c.bias'):
            assert torch.all(gcn.get_parameter(name) == 0), name
        for conv in (*gcn.conv_d, *gcn.conv_a, *gcn.conv_b, block.tcn.conv):
            assert torch.all(conv.bias == 0)
        assert torch.all(block.tcn.bn.weight == 1) and torch.all(block.tcn.bn.bias == 0)
        if i == 0:
            assert torch.all(gcn.down[1].weight == 1)
    # conv_d: normal with std sqrt(2 / (out * in * K)) (branch init); checked on the widest layer
    conv_d = model.gcn[-1].gcn.conv_d[0].weight
    expected = math.sqrt(2. / (256 * 256 * 3))
    assert abs(conv_d.std().item() / expected - 1) < 0.05
    # conv_a: kaiming normal, fan_out = out channels
    conv_a = model.gcn[-1].gcn.conv_a[0].weight
    assert abs(conv_a.std().item() / math.sqrt(2. / 64) - 1) < 0.05


def test_full_model_parameter_count_is_pyskls():
    """PYSKL's NTU60 3D joint AAGCN with GCNHead(60, 256) has 3,781,668 parameters."""
    model = MODELS.build(dict(type='RecognizerGCN', backbone=dict(type='AAGCN', graph_cfg=NTU),
                              cls_head=dict(type='GCNHead', num_classes=60, in_channels=256)))
    assert sum(p.numel() for p in model.parameters()) == 3_781_668
    assert len(model.backbone.gcn) == 10
    assert model.backbone.data_bn.num_features == 150  # 'MVC': 2 persons * 3 * 25


def test_tcn_dropout_skips_the_first_stage_and_tuples_spread_over_stages():
    model = AAGCN(**TINY, tcn_dropout=0.3, gcn_attention=(False, True, True, True))
    assert [b.tcn.drop.p for b in model.gcn] == [0, 0.3, 0.3, 0.3]
    assert [hasattr(b.gcn, 'conv_ta') for b in model.gcn] == [False, True, True, True]
    assert model(tiny_input()).shape == (2, 2, 32, 8, 25)


def test_non_adaptive_graph_is_a_buffer_and_mstcn_is_accepted():
    model = AAGCN(**TINY, gcn_adaptive=False, tcn_type='mstcn')
    gcn = model.gcn[0].gcn
    assert 'A' in dict(gcn.named_buffers()) and not hasattr(gcn, 'alpha')
    out = model(tiny_input())
    assert out.shape == (2, 2, 32, 8, 25)
    out.mean().backward()


def test_input_block_only_when_widths_differ():
    assert len(AAGCN(**TINY).gcn) == 4
    model = AAGCN(**dict(TINY, in_channels=16))
    assert len(model.gcn) == 3 and model.num_stages == 3
    assert model(tiny_input(c=16)).shape == (2, 2, 32, 8, 25)


@pytest.mark.parametrize('kwargs, error', [
    (dict(data_bn_type='XYZ'), ValueError),
    (dict(gcn_type='unit_gcn'), ValueError),
    (dict(tcn_type='conv'), ValueError),
    (dict(dropout=0.1), TypeError),
])
def test_bad_arguments_raise_clear_errors(kwargs, error):
    with pytest.raises(error, match='AAGCN'):
        AAGCN(**TINY, **kwargs)


def test_data_bn_types():
    assert isinstance(AAGCN(**TINY, data_bn_type='VC').data_bn, nn.BatchNorm1d)
    assert AAGCN(**TINY, data_bn_type='VC').data_bn.num_features == 75
    model = AAGCN(**TINY, data_bn_type=None)
    assert isinstance(model.data_bn, nn.Identity)
    assert model(tiny_input()).shape == (2, 2, 32, 8, 25)


def reference_attention(gcn, y):
    """MS-AAGCN's attention step by step, as PYSKL writes it: spatial, temporal, then channel gates."""
    y = y * (1 + torch.sigmoid(gcn.conv_sa(y.mean(-2))).unsqueeze(-2))
    y = y * (1 + torch.sigmoid(gcn.conv_ta(y.mean(-1))).unsqueeze(-1))
    gate = torch.sigmoid(gcn.fc2c(torch.relu(gcn.fc1c(y.mean((-2, -1))))))
    return y * (1 + gate[..., None, None])


def test_fused_attention_matches_the_step_by_step_one_forward_and_backward():
    """GatedAttention has a hand-written backward: its output and every gradient must equal autograd's."""
    torch.manual_seed(0)
    gcn = unit_aagcn(4, 8, torch.rand(3, 25, 25)).double()
    for p in (gcn.conv_ta.weight, gcn.fc2c.weight, gcn.fc2c.bias):
        nn.init.normal_(p, std=0.3)  # PYSKL starts these at 0, which would hide their gradient paths
    y = torch.randn(2, 8, 6, 25, dtype=torch.double, requires_grad=True)
    grad_out = torch.randn(2, 8, 6, 25, dtype=torch.double)
    params = [y, *gcn.parameters()]

    def grads(fn):
        out = fn(gcn, y)
        return out, torch.autograd.grad(out, params, grad_out, allow_unused=True)

    out, got = grads(lambda g, x: g.attend(x))
    ref_out, want = grads(reference_attention)
    assert torch.allclose(out, ref_out, atol=1e-12)
    for (name, _), g, w in zip([('input', y), *gcn.named_parameters()], got, want):
        assert (g is None) == (w is None), name
        if w is not None:
            assert torch.allclose(g, w, atol=1e-10), f'gradient of {name} differs'
