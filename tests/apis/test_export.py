"""ONNX export: every GCN backbone exports with a dynamic batch and onnxruntime gives PyTorch's scores; so does
PoseC3D's SlowOnly, on PYSKL's reference weights and outputs; the command-line tool on PYSKL's gesture checkpoint
reproduces PYSKL's demo output. Skipped without onnx / onnxruntime (``pip install -e ".[onnx]"``)."""
import importlib.util
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config

from pyskl.models.blocks import spectral
from pyskl.registry import MODELS
from tests.conftest import REPO_ROOT, load_ref, load_script, shared_file
from tests.models.helpers import TINY

pytest.importorskip('onnx', reason='onnx is not installed (pip install -e ".[onnx]")')
pytest.importorskip('onnxruntime', reason='onnxruntime is not installed (pip install -e ".[onnx]")')

from pyskl.apis import init_recognizer  # noqa: E402
from pyskl.apis.export import check_onnx, export_onnx, onnx_session, sample_input_shape  # noqa: E402

pytestmark = pytest.mark.usefixtures('one_thread')

SMALL = dict(base_channels=8, num_stages=2, inflate_stages=[2], down_stages=[2])  # one plain and one strided block
SHAPE = (2, 2, 8, 25, 3)  # clips, M, T, V, C


def small_recognizer(name):
    """A recognizer of ``name``'s family, as small as its blocks allow, with a config attached."""
    backbone = dict(type='STGCN' if name.startswith('STGCN') else name, **TINY[name])
    if name != 'MSG3D':
        backbone.update(SMALL)
    head = dict(type='GCNHead', num_classes=5, in_channels=48 if name == 'MSG3D' else 16)
    # the clips' logits averaged: the check compares logits, not probabilities a softmax may flatten
    model = MODELS.build(dict(type='RecognizerGCN', backbone=backbone, cls_head=head,
                              test_cfg=dict(average_clips='score'))).eval()
    model.cfg = Config(dict(test_pipeline=[
        dict(type='UniformSample', clip_len=SHAPE[2], num_clips=SHAPE[0]), dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=SHAPE[1]), dict(type='PackActionInputs')]))
    return model


def load_tool(name):
    return load_script(f'tools/deployment/{name}.py')


def test_input_shape_comes_from_the_test_pipeline():
    model = small_recognizer('STGCN++')
    assert sample_input_shape(model) == SHAPE
    assert sample_input_shape(model, clips=5) == (5, ) + SHAPE[1:]


# The TorchScript-based exporter takes well under a second for these; torch.export's (the default) takes several: it
# is used below only for MS-G3D, which only it can export with a dynamic batch, and PoseC3D's SlowOnly.
@pytest.mark.parametrize('name', ['STGCN', 'STGCN++', 'AAGCN', 'CTRGCN', 'DGSTGCN'])
def test_every_gcn_exports_and_onnxruntime_gives_pytorchs_scores(name, tmp_path):
    model = small_recognizer(name)
    data = export_onnx(model, str(tmp_path / 'model.onnx'), SHAPE, legacy=True)
    assert (tmp_path / 'model.onnx').read_bytes() == data
    assert check_onnx(model, onnx_session(data), SHAPE, batch=3) <= 1e-4  # exported with 2 samples, run with 3


needs_onnxscript = pytest.mark.skipif(importlib.util.find_spec('onnxscript') is None,
                                      reason='onnxscript is not installed (pip install -e ".[onnx]")')


@needs_onnxscript
def test_msg3d_exports_through_the_plain_conv_path(tmp_path):
    """torch.export traces F.conv2d, not the DFT (forced on here), and leaves no fake tensor in the DFT's plan cache:
    the eager model still runs the DFT afterwards, with the same numbers."""
    import onnx
    model = small_recognizer('MSG3D')
    x = torch.randn(3, *SHAPE)
    with spectral.use_dft('always'), torch.no_grad():
        before = model(x, mode='tensor')
        data = export_onnx(model, str(tmp_path / 'model.onnx'), SHAPE)
        torch.testing.assert_close(model(x, mode='tensor'), before, rtol=0, atol=0)
    assert 'Conv' in {node.op_type for node in onnx.load_from_string(data).graph.node}
    assert check_onnx(model, onnx_session(data), SHAPE, batch=3) <= 1e-4


@needs_onnxscript
def test_slowonly_onnx_gives_pyskls_recognizer_output(tmp_path):
    """PoseC3D's SlowOnly (Recognizer3D) with PYSKL's reference weights, BatchNorms folded: onnxruntime on PYSKL's
    two-view input gives PYSKL's averaged probabilities."""
    case = load_ref('dev_posec3d_slowonly_r50_ntu60_xsub_joint')
    cfg = Config(dict(model=case['model_cfg'], test_pipeline=[
        dict(type='UniformSampleFrames', clip_len=8, num_clips=1), dict(type='PoseDecode'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False), dict(type='GeneratePoseTarget', double=True),
        dict(type='FormatShape', input_format='NCTHW_Heatmap'), dict(type='PackActionInputs')]))
    torch.save(case['state_dict'], tmp_path / 'slowonly.pth')
    model = init_recognizer(cfg, str(tmp_path / 'slowonly.pth'))  # strict, BatchNorms folded
    shape = sample_input_shape(model)
    assert shape == tuple(case['recognizer_input'].shape[1:]) == (2, 17, 8, 32, 32)
    data = export_onnx(model, str(tmp_path / 'slowonly.onnx'), shape)
    scores = onnx_session(data).run(['scores'], {'inputs': case['recognizer_input'].numpy()})[0]
    np.testing.assert_allclose(scores, case['recognizer_test_output'].numpy(), rtol=0, atol=1e-4)
    assert check_onnx(model, onnx_session(data), shape, batch=3) <= 1e-4


def test_export_tool_on_the_gesture_checkpoint_reproduces_pyskls_demo(tmp_path, capsys):
    case = load_ref('dev_hagrid_stgcnpp_gesture')
    out = tmp_path / 'hagrid.onnx'
    result = load_tool('export_onnx').main([str(REPO_ROOT / 'demo' / 'stgcnpp_gesture.py'),
                                            str(shared_file('data', 'hagrid.pth')), str(out), '--legacy'])
    printed = capsys.readouterr().out
    assert 'inputs [N, 1, 1, 10, 21, 2] -> scores [N, 40], N dynamic' in printed
    assert float(re.search(r'max \|difference\| ([\d.e+-]+)', printed).group(1)) <= 1e-4
    assert result['shape'] == (1, 1, 10, 21, 2)
    session = onnx_session(str(out))
    scores = session.run(['scores'], {'inputs': case['demo_recognizer_input'].numpy()})[0]
    np.testing.assert_allclose(scores, case['demo_recognizer_test_output'].numpy(), rtol=0, atol=1e-4)
    twice = np.concatenate([case['demo_recognizer_input'].numpy()] * 2)
    np.testing.assert_allclose(session.run(['scores'], {'inputs': twice})[0][1], scores[0], rtol=0, atol=1e-6)


def test_export_tool_clips_option_and_bench_tool(tmp_path, capsys):
    config, ckpt = str(REPO_ROOT / 'demo' / 'stgcnpp_gesture.py'), str(shared_file('data', 'hagrid.pth'))
    result = load_tool('export_onnx').main([config, ckpt, str(tmp_path / 'three.onnx'), '--clips', '3', '--legacy'])
    assert result['shape'] == (3, 1, 10, 21, 2)
    capsys.readouterr()
    speeds = load_tool('bench_onnx').main([config, '--checkpoint', ckpt, '--onnx', str(tmp_path / 'three.onnx'),
                                           '--clips', '3', '--persons', '1', '--frames', '10', '--batch', '2',
                                           '--threads', '1', '--warmup', '0', '--repeats', '1'])
    printed = capsys.readouterr().out
    assert 'PyTorch samples/s:' in printed and 'onnxruntime samples/s:' in printed
    assert speeds['pytorch'] > 0 and speeds['onnxruntime'] > 0 and speeds['max_diff'] <= 1e-4


@pytest.mark.skipif(importlib.util.find_spec('onnxsim') is not None, reason='onnxsim is installed')
def test_simplify_without_onnxsim_says_how_to_install_it(tmp_path):
    with pytest.raises(ImportError, match='pip install onnxsim'):
        export_onnx(small_recognizer('STGCN'), str(tmp_path / 'm.onnx'), SHAPE, legacy=True, simplify=True)
    assert not (tmp_path / 'm.onnx').exists()
