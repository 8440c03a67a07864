"""CTR-GCN: shapes, gradients, PYSKL's initial values, parameter counts and kwargs handling."""
import pytest
import torch

from pyskl.models.backbones.ctrgcn import CTRGC, CTRGCN, MSTCN, unit_ctrgcn
from pyskl.models.blocks import Zero
from pyskl.registry import MODELS
from .helpers import NTU, tiny_input
from .helpers import TINY as TINY_OF

TINY = TINY_OF['CTRGCN']


pytestmark = pytest.mark.usefixtures('one_thread')


def test_refinement_follows_alpha():
    """With alpha = 0 a unit is a plain graph conv over conv3; alpha switches the channel-wise topology on."""
    torch.manual_seed(0)
    A = torch.rand(3, 25, 25)
    gcn = unit_ctrgcn(8, 16, A).eval()
    gcn.init_weights()
    x = torch.randn(2, 8, 12, 25)
    with torch.no_grad():
        plain = sum(torch.einsum('nctu,uv->nctv', c.conv3(x), A[k]) for k, c in enumerate(gcn.convs))
        expected = torch.relu(gcn.bn(plain) + gcn.down(x))
        assert torch.allclose(gcn(x), expected, atol=1e-6)
        gcn.alpha.fill_(1.)
        assert not torch.allclose(gcn(x), expected, atol=1e-6)


def test_initial_values_follow_pyskl():
    torch.manual_seed(0)
    model = CTRGCN(graph_cfg=NTU)
    for block in model.net:
        gcn = block.gcn1
        assert gcn.alpha.item() == 0
        assert torch.equal(gcn.A, model.A) and gcn.A.data_ptr() != model.A.data_ptr()
        assert torch.all(gcn.bn.weight == 1e-6) and torch.all(gcn.bn.bias == 0)
        for m in block.modules():
            if isinstance(m, torch.nn.Conv2d) and m not in set(block.residual.modules()):
                assert torch.all(m.bias == 0)
            if isinstance(m, torch.nn.BatchNorm2d) and m is not gcn.bn and m not in set(block.residual.modules()):
                assert torch.all(m.weight == 1) and torch.all(m.bias == 0)
    conv3 = model.net[-1].gcn1.convs[0].conv3.weight  # kaiming normal, fan_out = 256
    assert abs(conv3.std().item() / (2. / 256)**.5 - 1) < 0.05


def test_rel_channels():
    assert CTRGC(3, 64).rel_channels == 8
    assert CTRGC(16, 64).rel_channels == 8
    assert CTRGC(64, 64).rel_channels == 8
    assert CTRGC(128, 256).rel_channels == 16


def test_full_model_parameter_count_is_pyskls():
    """PYSKL's NTU60 3D joint CTR-GCN with GCNHead(60, 256) has 1,446,672 parameters."""
    model = MODELS.build(dict(type='RecognizerGCN', backbone=dict(type='CTRGCN', graph_cfg=NTU),
                              cls_head=dict(type='GCNHead', num_classes=60, in_channels=256)))
    assert sum(p.numel() for p in model.parameters()) == 1_446_672
    assert len(model.backbone.net) == 10


def test_mstcn_branch_widths_kernel_and_dilations():
    tcn = MSTCN(64, 64, kernel_size=5, stride=2, dilations=(1, 2), residual=False)
    widths = [b[0].out_channels for b in tcn.branches]
    assert widths == [16, 16, 16, 16]
    tcn = MSTCN(66, 66, kernel_size=5, dilations=(1, 2))
    assert [b[0].out_channels for b in tcn.branches] == [16, 16, 16, 18]  # the 1x1 branch takes the remainder
    conv = tcn.branches[1][3].conv
    assert conv.kernel_size == (5, 1) and conv.dilation == (2, 1) and conv.padding == (4, 0)
    x = torch.randn(2, 66, 12, 25)
    assert MSTCN(66, 66, stride=2, dilations=(1, 2))(x).shape == (2, 66, 6, 25)


def test_kwargs_reach_every_block_and_tcn_dropout_skips_the_first():
    model = CTRGCN(**TINY, kernel_size=3, dilations=[1, 2, 3], tcn_dropout=0.2)
    assert [b.tcn1.drop.p for b in model.net] == [0, 0.2, 0.2, 0.2]
    for block in model.net:
        assert len(block.tcn1.branches) == 5
        assert block.tcn1.branches[2][3].conv.kernel_size == (3, 1)
    assert model(tiny_input()).shape == (2, 2, 32, 8, 25)


def test_input_block_always_exists():
    """Unlike ST-GCN / AAGCN, PYSKL's CTR-GCN keeps the input block when in_channels == base_channels."""
    model = CTRGCN(**dict(TINY, in_channels=16))
    assert len(model.net) == 4
    assert model.net[0].gcn1.in_c == 16 and isinstance(model.net[0].residual, Zero)  # no residual
    assert model(tiny_input(c=16)).shape == (2, 2, 32, 8, 25)


def test_unknown_kwargs_raise():
    with pytest.raises(TypeError, match='CTRGCN.*gcn_adaptive'):
        CTRGCN(**TINY, gcn_adaptive='init')


def test_fused_unit_matches_the_per_subset_reference_forward_and_backward():
    """unit_ctrgcn computes all subsets at once; it must equal PYSKL's sum of CTRGC blocks, gradients included."""
    torch.manual_seed(0)
    gcn = unit_ctrgcn(8, 16, torch.rand(3, 25, 25)).double().train()
    with torch.no_grad():
        gcn.alpha.fill_(0.7)  # 0 at build would switch the refinement (and conv4's gradients) off
    x = torch.randn(2, 8, 6, 25, dtype=torch.double, requires_grad=True)
    grad_out = torch.randn(2, 16, 6, 25, dtype=torch.double)
    params = [x, *gcn.parameters()]

    def reference(x):
        y = sum(conv(x, gcn.A[k], gcn.alpha) for k, conv in enumerate(gcn.convs))
        return torch.relu(gcn.bn(y) + gcn.down(x))

    results = []
    for fn in (gcn, reference):
        out = fn(x)
        results.append((out, torch.autograd.grad(out, params, grad_out)))
    (out, got), (ref_out, want) = results
    assert torch.allclose(out, ref_out, atol=1e-10)
    for (name, _), g, w in zip([('input', x), *gcn.named_parameters()], got, want):
        assert torch.allclose(g, w, atol=1e-9), f'gradient of {name} differs'
