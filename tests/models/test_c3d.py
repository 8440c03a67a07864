"""C3D-light: PYSKL's parameter count, what each stage does to the shape, and the 4-stage variant's keys."""
import pytest
import torch

from pyskl.models.backbones.c3d import C3D
from pyskl.registry import MODELS

pytestmark = pytest.mark.usefixtures('one_thread')


def test_parameter_count_is_pyskls():
    """configs/posec3d/c3d_light_ntu60_xsub/joint.py: 3,404,892 with I3DHead(256 -> 60) (facts §3.2 / §4)."""
    model = MODELS.build(dict(
        type='Recognizer3D', backbone=dict(type='C3D', in_channels=17, base_channels=32, num_stages=3,
                                           temporal_downsample=False),
        cls_head=dict(type='I3DHead', in_channels=256, num_classes=60, dropout=0.5)))
    assert sum(p.numel() for p in model.parameters()) == 3_404_892


@pytest.mark.parametrize('num_stages, temporal_downsample, shape', [
    (3, False, (1, 32, 8, 4, 4)),  # PoseC3D: H / 8, time kept
    (3, True, (1, 32, 2, 4, 4)),  # pools 2 and 3 also halve time
    (4, True, (1, 32, 1, 2, 2)),
])
def test_output_shapes(num_stages, temporal_downsample, shape):
    model = C3D(in_channels=3, base_channels=4, num_stages=num_stages, temporal_downsample=temporal_downsample)
    assert model(torch.randn(1, 3, 8, 32, 32)).shape == shape


def test_pools_average():
    """C3D-light average-pools (MMAction2's C3D max-pools): a constant volume stays constant through the pools."""
    model = C3D(in_channels=1, base_channels=1, num_stages=3)
    x = torch.full((1, 1, 1, 4, 4), 3.0)
    assert torch.equal(model.pool1(x), torch.full((1, 1, 1, 2, 2), 3.0))
    assert model.pool1(torch.arange(4.).reshape(1, 1, 1, 2, 2)).item() == 1.5


def test_four_stages_add_conv5():
    keys = list(C3D(base_channels=2, num_stages=4).state_dict())
    assert [k for k in keys if k.endswith('conv.weight')] == [
        f'conv{n}.conv.weight' for n in ('1a', '2a', '3a', '3b', '4a', '4b', '5a', '5b')]
    with pytest.raises(ValueError, match='3 or 4'):
        C3D(num_stages=2)
