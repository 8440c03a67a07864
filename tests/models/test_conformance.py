"""Every backbone through one suite: it trains on a tiny input, its state_dict has PYSKL's keys in PYSKL's order,
and a saved checkpoint loads back bit-exact. (Outputs against PYSKL's: tests/parity; parameter counts:
tests/configs and the per-model tests.)"""
import pytest
import torch

from pyskl.models import backbones
from pyskl.registry import MODELS
from pyskl.utils import load_checkpoint
from pyskl.utils.checkpoint import save_checkpoint_atomic
from tests.conftest import load_ref

from .helpers import TINY, TINY3D, tiny_input, tiny_rgbpose, tiny_volume

# family -> (registered type, output shape(s) of the tiny model on its tiny input, PYSKL reference case of the full
# model or None)
SUITE = {
    'STGCN': ('STGCN', (2, 2, 32, 8, 25), 'dev_stgcn_pyskl_ntu60_xsub_3dkp_j'),
    'STGCN++': ('STGCN', (2, 2, 32, 8, 25), 'dev_stgcnpp_ntu60_xsub_3dkp_j'),
    'AAGCN': ('AAGCN', (2, 2, 32, 8, 25), 'dev_aagcn_pyskl_ntu60_xsub_3dkp_j'),  # [N, M, 2 * base, T / 2, V]
    'CTRGCN': ('CTRGCN', (2, 2, 32, 8, 25), 'dev_ctrgcn_pyskl_ntu60_xsub_3dkp_j'),
    'MSG3D': ('MSG3D', (2, 2, 48, 4, 25), 'dev_msg3d_pyskl_ntu60_xsub_3dkp_j'),
    'DGSTGCN': ('DGSTGCN', (2, 2, 32, 8, 25), 'dev_dgstgcn_ntu60_xsub_3dkp_j'),
    # 3D CNNs on [2, 5, 8, 16, 16]
    'ResNet3d': ('ResNet3d', ((2, 4, 8, 16, 16), (2, 8, 4, 8, 8)), None),
    'ResNet3dSlowOnly': ('ResNet3dSlowOnly', (2, 32, 4, 4, 4), 'dev_posec3d_slowonly_r50_ntu60_xsub_joint'),
    'ResNet3dSlowFast': ('ResNet3dSlowFast', ((2, 32, 2, 8, 8), (2, 16, 4, 8, 8)), None),  # (slow, fast)
    'C3D': ('C3D', (2, 32, 8, 2, 2), 'dev_posec3d_c3d_light_ntu60_xsub_joint'),
    'X3D': ('X3D', (2, 36, 8, 2, 2), 'dev_posec3d_x3d_shallow_ntu60_xsub_joint'),
    # RGB [2, 3, 2, 64, 64] + heatmaps [2, 5, 8, 16, 16] -> (rgb, pose)
    'RGBPoseConv3D': ('RGBPoseConv3D', ((2, 256, 2, 2, 2), (2, 64, 8, 2, 2)), None),
}
WITH_REFERENCE = [family for family, (_, _, case) in SUITE.items() if case is not None]

pytestmark = pytest.mark.usefixtures('one_thread')


def build_tiny(family, seed=0):
    torch.manual_seed(seed)
    return MODELS.build(dict(type=SUITE[family][0], **(TINY3D.get(family) or TINY[family])))


def tiny_batch(family, **kwargs):
    """The tiny model's positional inputs."""
    if family == 'RGBPoseConv3D':
        return tiny_rgbpose(**kwargs)
    return (tiny_volume(**kwargs) if family in TINY3D else tiny_input(**kwargs), )


def as_tuple(out):
    return out if isinstance(out, tuple) else (out, )


def test_the_suite_covers_every_backbone():
    assert {kind for kind, _, _ in SUITE.values()} == set(backbones.__all__)


@pytest.mark.parametrize('family', list(SUITE))
def test_forward_backward_shapes_and_grads(family):
    model = build_tiny(family)
    out = as_tuple(model(*tiny_batch(family)))
    expected = SUITE[family][1]
    assert tuple(o.shape for o in out) == (expected if isinstance(expected[0], tuple) else (expected, ))
    sum(o.square().mean() for o in out).backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    assert not missing, f'no gradient reached {missing}'
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize('family', WITH_REFERENCE)
def test_state_dict_keys_and_order_are_pyskls(family):
    case = load_ref(SUITE[family][2])
    model = MODELS.build(case['model_cfg'])
    ours = model.state_dict()
    assert list(ours) == list(case['state_dict'])
    assert all(ours[k].shape == v.shape for k, v in case['state_dict'].items())


@pytest.mark.parametrize('family', list(SUITE))
def test_saved_checkpoint_loads_back_bit_exact(family, tmp_path):
    model = build_tiny(family)
    model(*tiny_batch(family, t=8))  # a training forward moves the BN statistics off their initial values
    save_checkpoint_atomic(dict(state_dict=model.state_dict()), str(tmp_path / 'tiny.pth'))
    twin = build_tiny(family, seed=1)  # other random weights, which the load must replace
    load_checkpoint(twin, str(tmp_path / 'tiny.pth'), strict=True)
    ours, theirs = model.state_dict(), twin.state_dict()
    assert list(ours) == list(theirs)
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    model.eval(), twin.eval()
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(as_tuple(model(*tiny_batch(family))),
                                                     as_tuple(twin(*tiny_batch(family)))))
