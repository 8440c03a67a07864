"""fuse_bn: folding eval-mode BatchNorms into the convs gives the same outputs, on every GCN backbone, through the
blocks' own conv paths (merged 1x1 convs, the DFT temporal conv, batched matmuls on conv weights)."""
import copy

import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from pyskl.models.blocks.spectral import use_dft
from pyskl.models.fuse_bn import ChannelAffine, count_batchnorms, fuse_bn
from pyskl.registry import MODELS
from tests.conftest import REPO_ROOT, load_ref, shared_file

from .helpers import TINY, tiny_input

pytestmark = pytest.mark.usefixtures('one_thread')

# BatchNorms no rule folds: the input's data BN (per joint and coordinate, before any conv), MS-TCN's BN after the
# max-pool (CTR-GCN 4 blocks, MS-G3D 9 MS-TCNs) and DG-STGCN's BN over the branches (its joint-mean fusion sits
# between them and the BN)
LEFT_UNFOLDED = {'STGCN': 1, 'STGCN++': 1, 'AAGCN': 1, 'CTRGCN': 5, 'MSG3D': 10, 'DGSTGCN': 5}


def build_tiny(name):
    backbone = dict(type='STGCN' if name.startswith('STGCN') else name, **TINY[name])
    return MODELS.build(backbone)


def randomise_statistics(model, seed=0):
    """BatchNorm weights, biases and running statistics away from their identity start (and the zero-initialised
    mixing coefficients off zero), so that every fold matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                n = m.num_features
                m.weight.copy_(torch.rand(n, generator=g) * 0.6 + 0.2)
                m.bias.copy_(torch.randn(n, generator=g) * 0.5)
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
        for name, p in model.named_parameters():
            if name.endswith(('alpha', 'beta', 'add_coeff')):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model.eval()


def assert_same_outputs(fused, reference, x, tol=1e-5):
    """Within ``tol`` of the output's scale (AAGCN's attention gates make outputs of tens)."""
    with torch.no_grad():
        expected = reference(x)
        got = fused(x)
    scale = max(1., float(expected.abs().max()))
    torch.testing.assert_close(got, expected, rtol=0, atol=tol * scale)


@pytest.mark.parametrize('name', list(TINY))
def test_folded_backbone_gives_the_same_outputs_with_and_without_the_dft(name):
    model = randomise_statistics(build_tiny(name))
    fused = fuse_bn(copy.deepcopy(model))
    assert count_batchnorms(fused) == LEFT_UNFOLDED[name] < count_batchnorms(model)
    x = tiny_input()
    for mode in ('never', 'always'):  # F.conv2d and the DFT temporal conv read the same folded weights
        with use_dft(mode):
            assert_same_outputs(fused, model, x)


def test_fold_keeps_the_merged_mstcn_heads_and_puts_what_cannot_move_in_channel_affines():
    model = randomise_statistics(build_tiny('STGCN++'))
    fused = fuse_bn(copy.deepcopy(model))
    tcn = fused.gcn[1].tcn
    assert all(isinstance(b[1], nn.Identity) for b in tcn.branches if isinstance(b, nn.Sequential))
    assert isinstance(tcn.transform[0], nn.Identity) and isinstance(tcn.bn, nn.Identity)
    assert isinstance(tcn.branches[4][3][1], ChannelAffine)  # the max-pool branch's slice of transform's BN
    assert isinstance(fused.gcn[1].gcn.bn, ChannelAffine)  # identity residual: the shift stays after aggregation
    assert isinstance(fused.gcn[2].gcn.bn, nn.Identity)  # a conv residual: the shift went into its bias
    vanilla = fuse_bn(randomise_statistics(build_tiny('STGCN')))
    assert isinstance(vanilla.gcn[0].gcn.bn, ChannelAffine) and vanilla.gcn[0].gcn.bn.scale is None


def test_fold_refuses_training_mode_and_batch_statistics():
    with pytest.raises(RuntimeError, match='eval mode'):
        fuse_bn(build_tiny('STGCN').train())
    model = build_tiny('STGCN').eval()
    model.gcn[0].tcn.bn = nn.BatchNorm2d(16, track_running_stats=False).eval()
    with pytest.raises(RuntimeError, match='track_running_stats=False'):
        fuse_bn(model)


@pytest.mark.parametrize('case', [
    'stgcn_pyskl_ntu60_xsub_3dkp_j', 'stgcn_vanilla_ntu60_xsub_3dkp_j', 'stgcnpp_ntu60_xsub_3dkp_j',
    'aagcn_pyskl_ntu60_xsub_3dkp_j', 'ctrgcn_pyskl_ntu60_xsub_3dkp_j', 'dgstgcn_ntu60_xsub_3dkp_j',
    'posec3d_slowonly_r50_ntu60_xsub_joint', 'posec3d_c3d_light_ntu60_xsub_joint',
    'posec3d_x3d_shallow_ntu60_xsub_joint'
])
def test_folded_pyskl_reference_models_give_pyskls_features(case):
    """PYSKL's reference weights (random BatchNorm statistics and coefficients): folded, the backbone still gives
    PYSKL's features within 1e-4, and the unfolded model's within 1e-5. The 3D CNNs' ConvModules fold entirely."""
    ref = load_ref(f'dev_{case}')
    model = MODELS.build(ref['model_cfg'])
    model.load_state_dict(ref['state_dict'], strict=True)
    model.eval()
    fused = fuse_bn(copy.deepcopy(model))
    if case.startswith('posec3d'):
        assert count_batchnorms(fused) == 0
    assert_same_outputs(fused.backbone, model.backbone, ref['backbone_input'])
    with torch.no_grad():
        torch.testing.assert_close(fused.backbone(ref['backbone_input']), ref['backbone_output'], rtol=0, atol=1e-4)


def test_folded_gesture_checkpoint_gives_the_same_logits():
    from pyskl.apis import init_recognizer
    config, ckpt = str(REPO_ROOT / 'demo' / 'stgcnpp_gesture.py'), str(shared_file('data', 'hagrid.pth'))
    model, fused = init_recognizer(config, ckpt, fuse_bn=False), init_recognizer(config, ckpt)
    assert count_batchnorms(fused) == 1 and count_batchnorms(model) == 52
    x = torch.rand(3, 1, 30, 21, 2)
    assert_same_outputs(fused.backbone, model.backbone, x)
    assert_same_outputs(lambda v: fused.cls_head(fused.backbone(v)), lambda v: model.cls_head(model.backbone(v)), x)
