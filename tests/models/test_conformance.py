"""Every GCN backbone through one suite: it trains on a tiny input, its state_dict has PYSKL's keys in PYSKL's order,
and a saved checkpoint loads back bit-exact. (Outputs against PYSKL's: tests/parity; parameter counts:
tests/configs.)"""
import pytest
import torch

from pyskl.models import backbones
from pyskl.registry import MODELS
from pyskl.utils import load_checkpoint
from pyskl.utils.checkpoint import save_checkpoint_atomic
from tests.conftest import load_ref

from .helpers import TINY, tiny_input

# family -> (registered type, output of the tiny model on tiny_input(), PYSKL reference case of the full model)
SUITE = {
    'STGCN': ('STGCN', (2, 2, 32, 8, 25), 'dev_stgcn_pyskl_ntu60_xsub_3dkp_j'),
    'STGCN++': ('STGCN', (2, 2, 32, 8, 25), 'dev_stgcnpp_ntu60_xsub_3dkp_j'),
    'AAGCN': ('AAGCN', (2, 2, 32, 8, 25), 'dev_aagcn_pyskl_ntu60_xsub_3dkp_j'),  # [N, M, 2 * base, T / 2, V]
    'CTRGCN': ('CTRGCN', (2, 2, 32, 8, 25), 'dev_ctrgcn_pyskl_ntu60_xsub_3dkp_j'),
    'MSG3D': ('MSG3D', (2, 2, 48, 4, 25), 'dev_msg3d_pyskl_ntu60_xsub_3dkp_j'),
    'DGSTGCN': ('DGSTGCN', (2, 2, 32, 8, 25), 'dev_dgstgcn_ntu60_xsub_3dkp_j'),
}

pytestmark = pytest.mark.usefixtures('one_thread')


def build_tiny(family, seed=0):
    torch.manual_seed(seed)
    return MODELS.build(dict(type=SUITE[family][0], **TINY[family]))


def test_the_suite_covers_every_backbone():
    assert {kind for kind, _, _ in SUITE.values()} == set(backbones.__all__)


@pytest.mark.parametrize('family', list(SUITE))
def test_forward_backward_shapes_and_grads(family):
    model = build_tiny(family)
    out = model(tiny_input())
    assert out.shape == SUITE[family][1]
    out.square().mean().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    assert not missing, f'no gradient reached {missing}'
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize('family', list(SUITE))
def test_state_dict_keys_and_order_are_pyskls(family):
    case = load_ref(SUITE[family][2])
    model = MODELS.build(case['model_cfg'])
    ours = model.state_dict()
    assert list(ours) == list(case['state_dict'])
    assert all(ours[k].shape == v.shape for k, v in case['state_dict'].items())


@pytest.mark.parametrize('family', list(SUITE))
def test_saved_checkpoint_loads_back_bit_exact(family, tmp_path):
    model = build_tiny(family)
    model(tiny_input(t=8))  # a training forward moves the BN statistics off their initial values
    save_checkpoint_atomic(dict(state_dict=model.state_dict()), str(tmp_path / 'tiny.pth'))
    twin = build_tiny(family, seed=1)  # other random weights, which the load must replace
    load_checkpoint(twin, str(tmp_path / 'tiny.pth'), strict=True)
    ours, theirs = model.state_dict(), twin.state_dict()
    assert list(ours) == list(theirs)
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    model.eval(), twin.eval()
    with torch.no_grad():
        assert torch.equal(model(tiny_input()), twin(tiny_input()))
