"""DG-STGCN: shapes, gradients, PYSKL's initial values and parameter count, the dynamic graph against a direct
transcription of PYSKL's einsums (every ctr / ada mode), and the joint-skeleton fusion of the TCN."""
import pytest
import torch
import torch.nn.functional as F

from pyskl.models.backbones.dgstgcn import DGSTGCN, DGBlock, dggcn, dgmstcn
from pyskl.models.blocks import Zero, mstcn
from pyskl.registry import MODELS
from .helpers import DG_KWARGS as PYSKL_KWARGS
from .helpers import DG_RANDOM as RANDOM
from .helpers import TINY as TINY_OF
from .helpers import tiny_input

TINY = TINY_OF['DGSTGCN']


pytestmark = pytest.mark.usefixtures('one_thread')


def reference_dggcn(gcn, x):
    """PYSKL's dggcn forward, einsum by einsum."""
    n, c, t, v = x.shape
    K, mid = gcn.num_subsets, gcn.mid_channels
    acts = dict(tanh=torch.tanh, relu=torch.relu, sigmoid=torch.sigmoid, softmax=lambda g: g.softmax(-2))
    A = gcn.A[None, :, None, None]
    pre_x = gcn.pre(x).reshape(n, K, mid, t, v)
    if gcn.ctr is not None or gcn.ada is not None:
        tmp = x if 'NA' in (gcn.ctr, gcn.ada) else x.mean(dim=-2, keepdim=True)
        x1 = gcn.conv1(tmp).reshape(n, K, mid, -1, v)
        x2 = gcn.conv2(tmp).reshape(n, K, mid, -1, v)
    if gcn.ctr is not None:
        g = acts[gcn.ctr_act](x1.unsqueeze(-1) - x2.unsqueeze(-2))
        g = torch.einsum('nkctuv,k->nkctuv', g, gcn.alpha) if gcn.subset_wise else g * gcn.alpha[0]
        A = g + A
    if gcn.ada is not None:
        g = acts[gcn.ada_act](torch.einsum('nkctv,nkctw->nktvw', x1, x2)[:, :, None])
        g = torch.einsum('nkctuv,k->nkctuv', g, gcn.beta) if gcn.subset_wise else g * gcn.beta[0]
        A = g + A
    out = torch.einsum('nkctv,nkctvw->nkctw', pre_x, A.expand(n, K, mid, t, v, v))
    out = gcn.post(out.reshape(n, -1, t, v))
    return gcn.act(gcn.bn(out) + gcn.down(x))


def test_only_alpha0_and_beta0_act_without_subset_wise():
    """As PYSKL: without subset_wise only alpha[0] and beta[0] act, and at 0 they pass no gradient on to conv1."""
    torch.manual_seed(0)
    model = DGSTGCN(**TINY)
    model(tiny_input()).square().mean().backward()
    gcn = model.gcn[1].gcn
    assert gcn.alpha.grad[0] != 0 and torch.all(gcn.alpha.grad[1:] == 0)
    assert torch.all(gcn.conv1.weight.grad == 0)


def test_initial_values_follow_pyskl():
    torch.manual_seed(0)
    model = DGSTGCN(**TINY)
    graph = torch.as_tensor(model.graph.A, dtype=torch.float32)
    assert graph.shape == (8, 25, 25) and abs(graph.mean().item() - 0.04) < 0.01  # random: N(0.04, 0.02)
    for block in model.gcn:
        gcn, tcn = block.gcn, block.tcn
        assert isinstance(gcn.A, torch.nn.Parameter) and torch.equal(gcn.A, graph)
        assert torch.all(gcn.alpha == 0) and torch.all(gcn.beta == 0) and gcn.alpha.shape == (8, )
        assert torch.all(tcn.add_coeff == 0) and tcn.add_coeff.shape == (25, )
    assert model.gcn[0].gcn.A.data_ptr() != model.gcn[1].gcn.A.data_ptr()
    assert isinstance(model.gcn[0].residual, Zero)
    model.gcn[0].gcn.alpha.data.fill_(1)
    model.init_weights()
    assert torch.all(model.gcn[0].gcn.alpha == 0)


def test_full_model_parameter_count_is_pyskls():
    """PYSKL's NTU60 3D joint DG-STGCN with GCNHead(60, 256) has 1,701,172 parameters."""
    backbone = dict(type='DGSTGCN', graph_cfg=RANDOM, **PYSKL_KWARGS)
    model = MODELS.build(dict(type='RecognizerGCN', backbone=backbone,
                              cls_head=dict(type='GCNHead', num_classes=60, in_channels=256)))
    assert sum(p.numel() for p in model.parameters()) == 1_701_172
    assert len(model.backbone.gcn) == 10 and model.backbone.gcn[0].gcn.mid_channels == 8


@pytest.mark.parametrize('ctr,ada,subset_wise,ctr_act,ada_act', [
    ('T', 'T', False, 'tanh', 'softmax'),
    ('T', 'T', True, 'sigmoid', 'relu'),
    ('NA', 'T', False, 'tanh', 'softmax'),
    (None, 'NA', True, 'tanh', 'tanh'),
    ('T', None, False, 'relu', 'softmax'),
    (None, None, False, 'tanh', 'softmax'),
])
def test_dynamic_graph_matches_pyskl_math(ctr, ada, subset_wise, ctr_act, ada_act):
    torch.manual_seed(0)
    gcn = dggcn(6, 12, torch.randn(4, 25, 25) * 0.1, ratio=0.25, ctr=ctr, ada=ada, subset_wise=subset_wise,
                ctr_act=ctr_act, ada_act=ada_act)
    gcn.alpha.data.normal_()
    gcn.beta.data.normal_()
    x = torch.randn(2, 6, 7, 25)
    out, expected = gcn(x), reference_dggcn(gcn, x)
    assert torch.allclose(out, expected, atol=1e-5), (out - expected).abs().max()
    probe = torch.randn_like(out)
    params = list(gcn.parameters())  # alpha is unused without ctr, beta without ada
    grads = torch.autograd.grad((out * probe).sum(), params, allow_unused=True)
    expected_grads = torch.autograd.grad((expected * probe).sum(), params, allow_unused=True)
    for (name, _), g, e in zip(gcn.named_parameters(), grads, expected_grads):
        assert (g is None) == (e is None), name
        assert g is None or torch.allclose(g, e, atol=1e-4, rtol=1e-3), name


def test_dynamic_terms_start_switched_off():
    """With alpha = beta = 0 a dggcn is a static graph conv with its learned A."""
    torch.manual_seed(0)
    gcn = dggcn(6, 12, torch.randn(4, 25, 25), ratio=0.25).eval()
    x = torch.randn(2, 6, 7, 25)
    with torch.no_grad():
        static = torch.einsum('nkctv,kvw->nkctw', gcn.pre(x).view(2, 4, 3, 7, 25), gcn.A).reshape(2, 12, 7, 25)
        expected = F.relu(gcn.bn(gcn.post(static)) + gcn.down(x))
        assert torch.allclose(gcn(x), expected, atol=1e-5)
        gcn.beta.fill_(1.)
        assert not torch.allclose(gcn(x), expected, atol=1e-5)


def test_bad_modes_raise():
    with pytest.raises(ValueError, match='ctr'):
        dggcn(3, 8, torch.zeros(2, 5, 5), ctr='X')
    with pytest.raises(ValueError, match='ada_act'):
        dggcn(3, 8, torch.zeros(2, 5, 5), ada_act='gelu')


def test_dgmstcn_fuses_each_joint_with_the_mean_joint():
    torch.manual_seed(0)
    tcn = dgmstcn(12, 12).eval()
    plain = mstcn(12, 12).eval()
    plain.load_state_dict({k: v for k, v in tcn.state_dict().items() if k != 'add_coeff'})
    x = torch.randn(2, 12, 8, 25)
    with torch.no_grad():
        assert torch.allclose(tcn(x), plain(x), atol=1e-5)  # add_coeff = 0: joints stay apart
        tcn.add_coeff.normal_()
        branches = torch.cat([b(torch.cat([x, x.mean(-1, keepdim=True)], -1)) for b in tcn.branches], 1)
        fused = branches[..., :25] + branches[..., 25:] * tcn.add_coeff
        assert torch.allclose(tcn(x), tcn.bn(tcn.transform(fused)), atol=1e-5)


def test_dgmstcn_add_coeff_covers_smaller_skeletons_only():
    tcn = dgmstcn(12, 12)
    assert tcn(torch.randn(2, 12, 8, 17)).shape == (2, 12, 8, 17)  # COCO: the first 17 coefficients
    with pytest.raises(ValueError, match='num_joints=25'):
        tcn(torch.randn(2, 12, 8, 26))


def test_block_residuals_and_kwargs():
    A = torch.zeros(8, 25, 25)
    assert isinstance(DGBlock(16, 16, A).residual, torch.nn.Identity)
    assert DGBlock(16, 32, A, stride=2).residual.conv.stride == (2, 1)
    block = DGBlock(16, 16, A, gcn_ratio=0.5, tcn_dropout=0.3, tcn_ms_cfg=[(3, 1), '1x1'])
    assert block.gcn.mid_channels == 8 and block.tcn.drop.p == 0.3 and len(block.tcn.branches) == 2
    with pytest.raises(TypeError, match='DGBlock.*ratio'):
        DGBlock(16, 16, A, ratio=0.5)


def test_layerwise_kwargs_and_data_bn():
    model = DGSTGCN(**dict(TINY, tcn_dropout=0.1, gcn_ratio=(0.125, 0.25, 0.25, 0.5)))
    assert [b.tcn.drop.p for b in model.gcn] == [0, 0.1, 0.1, 0.1]  # never on the first block
    assert [b.gcn.mid_channels for b in model.gcn] == [2, 4, 8, 16]
    assert model.data_bn.num_features == 75
    assert DGSTGCN(**dict(TINY, data_bn_type='MVC')).data_bn.num_features == 150


def test_wrong_input_shape_is_named():
    model = DGSTGCN(**TINY)
    with pytest.raises(ValueError, match=r'V=25, C=3.*\(2, 2, 16, 25, 2\)'):
        model(tiny_input(c=2))
    with pytest.raises(ValueError, match='N, M=2, T'):
        DGSTGCN(**dict(TINY, data_bn_type='MVC'))(tiny_input(m=1))
