"""MS-G3D: shapes, gradients, PYSKL's initial values and parameter count, in_channels other than 3, and the
restructured (node-major) graph convolutions against a direct transcription of PYSKL's math, in train mode."""
import copy

import pytest
import torch
import torch.nn.functional as F

from pyskl.models.backbones.msg3d import (MSG3D, MSGCN, MSTCN, ST_MSGCN, MSG3DBlock, MW_MSG3DBlock,
                                          UnfoldTemporalWindows, graph_aggregate)
from pyskl.registry import MODELS
from tests.conftest import load_ref

from .helpers import TINY as TINY_OF
from .helpers import tiny_input

TINY = TINY_OF['MSG3D']
GRAPH = TINY['graph_cfg']


pytestmark = pytest.mark.usefixtures('one_thread')


def base_graph():
    return MSG3D(**TINY).A.numpy()


# Direct transcriptions of PYSKL's forward passes (einsum, nn.Unfold, Conv3d), to check the restructured ones.

def reference_unfold(unfold, x):
    N, C, T, V = x.shape
    cols = F.unfold(x, kernel_size=(unfold.window_size, 1), dilation=(unfold.window_dilation, 1),
                    stride=(unfold.window_stride, 1), padding=(unfold.padding, 0))
    cols = cols.reshape(N, C, unfold.window_size, -1, V).permute(0, 1, 3, 2, 4)
    return cols.reshape(N, C, -1, unfold.window_size * V)


def reference_graph_conv(module, x):
    """MSGCN / ST_MSGCN without residual: ``mlp(einsum('kvu,nctv->nkctu', A + PA, x))`` (then the activation)."""
    N, C, T, V = x.shape
    agg = torch.einsum('kvu,nctv->nkctu', module.A + module.PA, x).reshape(N, -1, T, V)
    out = module.mlp(agg)
    return module.act(out.clone()) if isinstance(module, ST_MSGCN) else out


def reference_g3d_pathway(block, x):
    N, _, _, V = x.shape
    unfold, st_gcn = block.gcn3d
    y = reference_graph_conv(st_gcn, reference_unfold(unfold, block.in1x1(x)))
    y = y.reshape(N, block.embed_channels_out, -1, block.window_size, V)
    return block.out_bn(block.out_conv(y).squeeze(3))


def assert_same_forward_and_grads(module, reference, x, atol=1e-4):
    """Train mode (BN batch statistics): same output and same gradients for the input and every parameter."""
    twin = copy.deepcopy(module)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out, expected = module(x1), reference(twin, x2)
    assert out.shape == expected.shape
    assert torch.allclose(out, expected, atol=atol), (out - expected).abs().max()
    probe = torch.randn_like(out)
    (out * probe).sum().backward()
    (expected * probe).sum().backward()
    assert torch.allclose(x1.grad, x2.grad, atol=atol)
    for (name, p), q in zip(module.named_parameters(), twin.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=atol, rtol=1e-3), name
    for (name, b), c in zip(module.named_buffers(), twin.buffers()):
        assert torch.allclose(b.float(), c.float(), atol=1e-5), name  # BN running statistics updated alike


def test_in_channels_2_works_where_pyskl_hard_codes_3():
    torch.manual_seed(0)
    model = MSG3D(**TINY, in_channels=2)
    assert model.data_bn.num_features == 2 * 25 * 2
    assert model.sgcn1[0].mlp.layers[0].in_channels == 2 * 3
    for pathway in model.gcn3d1.gcn3d:
        assert pathway.embed_channels_in == 2 and pathway.embed_channels_out == 12  # first block widens at once
        assert pathway.gcn3d[1].mlp.layers[0].in_channels == 2 * 2
    out = model(tiny_input(c=2))
    assert out.shape == (2, 2, 48, 4, 25)
    out.mean().backward()


def test_embedding_widths_follow_pyskl():
    model = MSG3D(graph_cfg=GRAPH)
    for mw, (c_in, c_out) in zip((model.gcn3d1, model.gcn3d2, model.gcn3d3), ((3, 96), (96, 96), (192, 192))):
        for pathway, size in zip(mw.gcn3d, (3, 5)):
            assert (pathway.embed_channels_in, pathway.embed_channels_out, pathway.window_size) == (c_in, c_out, size)
            assert pathway.gcn3d[1].A.shape == (6, 25 * size, 25 * size)
    assert model.sgcn1[0].A.shape == (13, 25, 25)
    assert isinstance(model.sgcn1[2].act, torch.nn.Identity) and isinstance(model.sgcn1[1].act, torch.nn.ReLU)


def test_initial_values_follow_pyskl():
    torch.manual_seed(0)
    model = MSG3D(**TINY)
    graph_convs = [m for m in model.modules() if isinstance(m, (MSGCN, ST_MSGCN))]
    assert len(graph_convs) == 9
    for m in graph_convs:
        assert m.PA.abs().max() <= 1e-6 and m.PA.abs().max() > 0  # U(-1e-6, 1e-6)
        assert torch.allclose(m.A.sum(1), torch.ones_like(m.A.sum(1)))  # column-normalised scales
    assert torch.equal(model.sgcn1[0].A[0], torch.eye(25))  # scale 0: the joint itself
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            assert torch.all(m.weight == 1) and torch.all(m.bias == 0)
    A = torch.as_tensor(model.graph.A[0], dtype=torch.float32)
    assert torch.equal(model.A, A) and A.sum() == 48  # binary_adj: 24 bones, both directions


def test_multiscale_adjacency_is_hop_distance():
    A1 = MSGCN(3, 3, 8, base_graph()).A
    # NTU joints: 0 spine base - 1 spine middle - 20 spine (shoulders)
    assert A1[1, 1, 0] > 0 and A1[1, 0, 1] > 0 and A1[1, 20, 0] == 0  # 1 hop: 0-1, not 0-20
    assert A1[2, 20, 0] > 0 and A1[2, 1, 0] == 0  # exactly 2 hops: 0-20, not 0-1
    assert torch.all(A1.diagonal(dim1=1, dim2=2) > 0)  # self loops at every scale


def test_full_model_parameter_count_is_pyskls():
    """PYSKL's NTU60 3D joint MS-G3D with GCNHead(60, 384) has 3,194,595 parameters."""
    model = MODELS.build(dict(type='RecognizerGCN', backbone=dict(type='MSG3D', graph_cfg=GRAPH),
                              cls_head=dict(type='GCNHead', num_classes=60, in_channels=384)))
    assert sum(p.numel() for p in model.parameters()) == 3_194_595


def test_graph_buffers_are_pyskls():
    case = load_ref('dev_msg3d_pyskl_ntu60_xsub_3dkp_j')
    ours = MODELS.build(case['model_cfg']).state_dict()
    for k, v in case['state_dict'].items():
        if k.endswith('.A'):  # the graphs are buffers: ours must be PYSKL's exactly
            assert torch.allclose(ours[k], v, atol=1e-6), k


def test_graph_aggregate_matches_einsum():
    x, A = torch.randn(2, 4, 5, 7), torch.randn(3, 7, 6)  # [N, C, T, V], [K, V, U]
    expected = torch.einsum('kvu,nctv->nkctu', A, x).reshape(2, 12, 5, 6)
    node_major = x.permute(3, 1, 0, 2).reshape(7, 4, 10)
    out = graph_aggregate(node_major, A)  # [U, K * C, N * T]
    assert torch.allclose(out.view(6, 12, 2, 5).permute(2, 1, 3, 0), expected, atol=1e-5)


@pytest.mark.parametrize('size,stride,dilation', [(3, 1, 1), (5, 2, 1), (3, 2, 2)])
def test_unfold_matches_nn_unfold(size, stride, dilation):
    unfold = UnfoldTemporalWindows(size, stride, dilation)
    x = torch.randn(2, 3, 11, 4)
    expected = reference_unfold(unfold, x)
    assert torch.equal(unfold(x), expected)
    joint_major = unfold.joint_major(x)  # [(v, w), C, (n, t)]
    T = expected.shape[2]
    assert torch.equal(joint_major.view(4, size, 3, 2, T).permute(3, 2, 4, 1, 0).reshape(expected.shape), expected)


def test_msgcn_matches_pyskl_math_in_training():
    torch.manual_seed(0)
    assert_same_forward_and_grads(MSGCN(3, 4, 8, base_graph()), reference_graph_conv, torch.randn(2, 4, 6, 25))


def test_st_msgcn_matches_pyskl_math_in_training():
    torch.manual_seed(0)
    gcn = ST_MSGCN(4, 8, base_graph(), num_scales=2, window_size=3)
    gcn.PA.data.normal_(0, 0.1)  # the (frame, joint) <-> (joint, frame) reordering must hold for any PA
    assert_same_forward_and_grads(gcn, reference_graph_conv, torch.randn(2, 4, 5, 75))


@pytest.mark.parametrize('first,stride,embed_factor', [(True, 1, 1), (False, 2, 1), (False, 1, 2)])
def test_g3d_pathway_matches_pyskl_math_in_training(first, stride, embed_factor):
    torch.manual_seed(0)
    block = MSG3DBlock(4, 8, base_graph(), num_scales=2, window_size=5, window_stride=stride, window_dilation=1,
                       embed_factor=embed_factor, first=first)
    for m in block.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
    assert_same_forward_and_grads(block, reference_g3d_pathway, torch.randn(2, 4, 9, 25))


def test_multi_window_block_sums_its_pathways():
    torch.manual_seed(0)
    mw = MW_MSG3DBlock(4, 8, base_graph(), num_scales=2, window_stride=2).eval()
    x = torch.randn(2, 4, 9, 25)
    with torch.no_grad():
        expected = sum(reference_g3d_pathway(p, x) for p in mw.gcn3d)
        assert torch.allclose(mw(x), expected, atol=1e-5)


def test_mstcn_branches_and_residual():
    tcn = MSTCN(96, 100, stride=2)
    widths = [b[0].out_channels for b in tcn.branches]
    assert widths == [16, 16, 16, 16, 16, 20]  # the strided 1x1 branch takes the remainder
    assert [b[3].conv.dilation for b in tcn.branches[:4]] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert isinstance(tcn.branches[4][4], torch.nn.BatchNorm2d)  # PYSKL's max-pool branch ends with a BN
    assert tcn.residual.conv.stride == (2, 1)
    assert tcn(torch.randn(2, 96, 10, 25)).shape == (2, 100, 5, 25)
    assert isinstance(MSTCN(8, 8).residual, torch.nn.Identity)
    assert isinstance(MSTCN(8, 8, final_act=False).act, torch.nn.Identity)


def test_wrong_input_shape_is_named():
    model = MSG3D(**TINY)
    with pytest.raises(ValueError, match=r'M=2, T, V=25, C=3.*\(2, 2, 16, 25, 2\)'):
        model(tiny_input(c=2))
    with pytest.raises(ValueError, match='M=2'):
        model(tiny_input(m=1))
