"""ONNX export with torch's default (torch.export-based) exporter, several seconds a model: MS-G3D, which only it
exports with a dynamic batch, and PoseC3D's SlowOnly on PYSKL's reference weights. Skipped without onnx,
onnxruntime and onnxscript (``pip install -e ".[onnx]"``)."""
import numpy as np
import pytest
import torch
from mmengine.config import Config

from pyskl.models.blocks import spectral
from tests.apis.test_export import SHAPE, small_recognizer
from tests.conftest import load_ref

for module in ('onnx', 'onnxruntime', 'onnxscript'):
    pytest.importorskip(module, reason=f'{module} is not installed (pip install -e ".[onnx]")')

from pyskl.apis import init_recognizer  # noqa: E402
from pyskl.apis.export import check_onnx, export_onnx, onnx_session, sample_input_shape  # noqa: E402

pytestmark = pytest.mark.usefixtures('one_thread')


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
