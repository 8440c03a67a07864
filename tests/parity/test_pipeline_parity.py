"""The GCN test pipelines here compute what PYSKL's computed: reference cases in ../shared/fixtures/pyskl_ref.

Each case holds PYSKL's ``test_pipeline`` (ending in mmcv-1 ``Collect`` + ``ToTensor``, replaced here by
``PackActionInputs``), one synthetic annotation, what PoseDataset added to it, the outputs and every step's results.
"""
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from tests.conftest import load_ref

CASES = [
    'dev_pipe_stgcnpp_ntu60_3dkp_j', 'dev_pipe_stgcnpp_ntu60_3dkp_b', 'dev_pipe_stgcnpp_ntu60_3dkp_jm',
    'dev_pipe_stgcnpp_ntu60_3dkp_bm', 'dev_pipe_stgcnpp_ntu60_hrnet_j', 'dev_pipe_hagrid_gesture_demo',
    'dev_pipe_dgstgcn_ntu60_3dkp_j'
]
TOL = 1e-4


def to_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    return value


def build_pipeline(case):
    steps = [dict(step) for step in case['pipeline_cfg'] if step['type'] not in ('Collect', 'ToTensor')]
    return Compose(steps + [dict(type='PackActionInputs')])


def annotation(case):
    results = to_numpy(dict(case['input_annotation']))
    results.update(to_numpy(dict(case['dataset_added_keys'] or {})))
    return results


@pytest.mark.parametrize('name', CASES)
def test_pipeline_matches_pyskl(name):
    case = load_ref(name)
    packed = build_pipeline(case)(annotation(case))

    expected = case['outputs']['keypoint']
    assert packed['inputs'].dtype == torch.float32
    assert tuple(packed['inputs'].shape) == tuple(expected.shape)
    assert (packed['inputs'] - expected).abs().max().item() <= TOL
    assert packed['data_samples'].gt_label.tolist() == [case['outputs']['label']]


@pytest.mark.parametrize('name', CASES)
def test_sampled_frames_match_pyskl(name):
    """Where PYSKL recorded ``frame_inds``, the sampler picks exactly the same frames."""
    case = load_ref(name)
    recorded = [step for step in case['steps'] if isinstance(step['results'].get('frame_inds'), torch.Tensor)]
    if not recorded:
        pytest.skip(f'{name} records no frame_inds (its sampler decodes the clips itself)')
    sampler_at = next(i for i, step in enumerate(case['steps']) if 'frame_inds' in step['results'])
    prefix = [dict(step) for step in case['pipeline_cfg'][:sampler_at + 1]]
    results = Compose(prefix)(annotation(case))
    np.testing.assert_array_equal(results['frame_inds'], recorded[0]['results']['frame_inds'].numpy())


@pytest.mark.parametrize('name', CASES)
def test_intermediate_steps_match_pyskl(name):
    """Each step's keypoint (where PYSKL stored it) agrees, so a mismatch points at the step that parts."""
    case = load_ref(name)
    results = annotation(case)
    for cfg, step in zip(case['pipeline_cfg'], case['steps']):
        if cfg['type'] in ('Collect', 'ToTensor'):
            break
        results = Compose([dict(cfg)])(results)
        expected = step['results'].get('keypoint')
        if isinstance(expected, torch.Tensor):
            assert results['keypoint'].shape == tuple(expected.shape), cfg['type']
            assert np.abs(results['keypoint'] - expected.numpy()).max() <= TOL, cfg['type']
        assert results.get('total_frames') == step['results'].get('total_frames'), cfg['type']


POSEC3D_CASES = ['dev_pipe_posec3d_joint_small', 'dev_pipe_posec3d_limb_small']
EXACT_KEYS = ('img_shape', 'crop_quadruple', 'scale_factor', 'frame_inds', 'total_frames', 'clip_len', 'num_clips')


@pytest.mark.parametrize('name', POSEC3D_CASES)
def test_posec3d_keypoint_steps_match_pyskl(name):
    """PoseC3D's steps before the heatmaps (sampling, decoding, PoseCompact, Resize) give PYSKL's keypoints and its
    bookkeeping: the crop box and scale factor exactly."""
    case = load_ref(name)
    results = annotation(case)
    checked = []
    for cfg, step in zip(case['pipeline_cfg'], case['steps']):
        if cfg['type'] == 'GeneratePoseTarget':
            break
        results = Compose([dict(cfg)])(results)
        expected = to_numpy(step['results'])
        assert results['keypoint'].shape == expected['keypoint'].shape, cfg['type']
        assert np.abs(results['keypoint'] - expected['keypoint']).max() <= TOL, cfg['type']
        for key in EXACT_KEYS:
            assert (key in results) == (key in expected), (cfg['type'], key)
            if key in expected:
                np.testing.assert_array_equal(results[key], expected[key], err_msg=f"{cfg['type']}: {key}")
        checked.append(cfg['type'])
    assert checked == ['UniformSampleFrames', 'PoseDecode', 'PoseCompact', 'Resize']


@pytest.mark.parametrize('name', POSEC3D_CASES)
def test_posec3d_pipeline_outputs_match_pyskl(name):
    """The whole flip-test pipeline (PoseCompact, Resize, GeneratePoseTarget(double=True), FormatShape) gives PYSKL's
    heatmap volumes."""
    case = load_ref(name)
    packed = build_pipeline(case)(annotation(case))
    expected = case['outputs']['imgs']  # [2 views (double=True), 17, clip_len, 64, 64]
    assert packed['inputs'].dtype == torch.float32
    assert tuple(packed['inputs'].shape) == tuple(expected.shape)
    assert (packed['inputs'] - expected).abs().max().item() <= TOL
    assert packed['data_samples'].gt_label.tolist() == [case['outputs']['label']]


@pytest.mark.parametrize('name', POSEC3D_CASES)
def test_posec3d_deferred_rendering_matches_pyskl(name):
    """The same config with ``GeneratePoseTarget(deferred=True)``: the pipeline packs points and the data
    preprocessor renders PYSKL's volumes."""
    from mmengine.dataset import pseudo_collate

    from pyskl.models.data_preprocessors import ActionDataPreprocessor
    case = load_ref(name)
    steps = [dict(step, deferred=True) if step['type'] == 'GeneratePoseTarget' else dict(step)
             for step in case['pipeline_cfg'] if step['type'] not in ('Collect', 'ToTensor')]
    packed = Compose(steps + [dict(type='PackActionInputs')])(annotation(case))
    assert packed['inputs'].numel() < case['outputs']['imgs'].numel() / 100  # points, not volumes
    volumes = ActionDataPreprocessor()(pseudo_collate([packed]))['inputs']
    assert (volumes[0] - case['outputs']['imgs']).abs().max().item() <= TOL

