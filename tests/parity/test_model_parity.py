"""The models built here compute what PYSKL computed: reference cases in ../shared/fixtures/pyskl_ref.

Each case holds PYSKL's ``model`` dict, a state_dict (or ../shared/data/hagrid.pth), inputs and PYSKL's outputs.
"""
import pytest
import torch

from pyskl.registry import MODELS
from pyskl.utils import load_state_dict
from tests.conftest import load_ref, shared_file

GCN_CASES = [
    'dev_stgcn_pyskl_ntu60_xsub_3dkp_j', 'dev_stgcn_vanilla_ntu60_xsub_3dkp_j', 'dev_stgcnpp_ntu60_xsub_3dkp_j',
    'dev_stgcnpp_ntu60_xsub_hrnet_j', 'dev_hagrid_stgcnpp_gesture', 'dev_aagcn_pyskl_ntu60_xsub_3dkp_j',
    'dev_ctrgcn_pyskl_ntu60_xsub_3dkp_j', 'dev_msg3d_pyskl_ntu60_xsub_3dkp_j', 'dev_dgstgcn_ntu60_xsub_3dkp_j'
]
CNN3D_CASES = [
    'dev_posec3d_slowonly_r50_ntu60_xsub_joint', 'dev_posec3d_c3d_light_ntu60_xsub_joint',
    'dev_posec3d_x3d_shallow_ntu60_xsub_joint'
]
TOL = 1e-4


def build_reference_model(case):
    return load_reference_weights(MODELS.build(case['model_cfg']), case)


def load_reference_weights(model, case):
    if 'state_dict' in case:
        state_dict = case['state_dict']
    else:  # the real checkpoint of the hagrid case
        state_dict = torch.load(shared_file('data', 'hagrid.pth'), map_location='cpu', weights_only=True)
    load_state_dict(model, state_dict, strict=True, source=case['name'])
    return model.eval()


def max_diff(a, b):
    assert a.shape == b.shape, f'shape {tuple(a.shape)} != reference {tuple(b.shape)}'
    return (a - b).abs().max().item()


@pytest.mark.parametrize('name', GCN_CASES)
def test_gcn_matches_pyskl(name):
    case = load_ref(name)
    model = build_reference_model(case)
    if 'graph_A' in case:
        assert max_diff(torch.as_tensor(model.backbone.graph.A, dtype=torch.float32), case['graph_A']) < 1e-6 \
            or case['model_cfg']['backbone']['graph_cfg']['mode'] == 'random'  # random graphs differ by draw
    with torch.no_grad():
        feats = model.backbone(case['backbone_input'])
        assert max_diff(feats, case['backbone_output']) <= TOL
        assert max_diff(model.cls_head(case['backbone_output']), case['head_output']) <= TOL
        preds = model(case['recognizer_input'], mode='predict')
        scores = torch.stack([p.pred_score for p in preds])
        assert max_diff(scores, case['recognizer_test_output']) <= TOL
        if 'demo_recognizer_input' in case:
            preds = model(case['demo_recognizer_input'], mode='predict')
            scores = torch.stack([p.pred_score for p in preds])
            assert max_diff(scores, case['demo_recognizer_test_output']) <= TOL


@pytest.mark.parametrize('name', CNN3D_CASES)
def test_cnn3d_matches_pyskl(name):
    """PoseC3D's SlowOnly, C3D-light and X3D-shallow: the same keys in the same order, and the same backbone, head
    and multi-view test outputs (``[1, num_views, C, T, H, W]``, views averaged as probabilities)."""
    case = load_ref(name)
    model = MODELS.build(case['model_cfg'])
    assert list(model.state_dict()) == list(case['state_dict'])
    load_reference_weights(model, case)
    with torch.no_grad():
        assert max_diff(model.backbone(case['backbone_input']), case['backbone_output']) <= TOL
        assert max_diff(model.cls_head(case['backbone_output']), case['head_output']) <= TOL
        preds = model(case['recognizer_input'], mode='predict')
        scores = torch.stack([p.pred_score for p in preds])
        assert max_diff(scores, case['recognizer_test_output']) <= TOL


def test_hagrid_checkpoint_loads_strictly_into_the_demo_config():
    """PYSKL's demo/stgcnpp_gesture.py model dict builds unchanged and takes hagrid.pth with strict=True."""
    cfg = dict(
        type='RecognizerGCN',
        backbone=dict(type='STGCN', in_channels=2, gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn',
                      num_stages=6, down_stages=[6], inflate_stages=[6], graph_cfg=dict(layout='handmp',
                                                                                          mode='spatial')),
        cls_head=dict(type='GCNHead', num_classes=40, in_channels=128))
    model = MODELS.build(cfg)
    state_dict = torch.load(shared_file('data', 'hagrid.pth'), map_location='cpu', weights_only=True)
    assert list(model.state_dict()) == list(state_dict), 'key order differs from PYSKL'
    missing, unexpected, mismatch = load_state_dict(model, state_dict, strict=True)
    assert not missing and not unexpected and not mismatch
    assert sum(p.numel() for p in model.parameters()) == 197_478
