"""ONNX export of a recognizer's test forward, checked against PyTorch with onnxruntime
(``tools/deployment/export_onnx.py`` and ``bench_onnx.py`` are the command lines).

The exported graph takes a batch of samples, each cut into clips as the config's test pipeline cuts them
(``[N, clips, M, T, V, C]`` for GCNs), and returns each sample's test scores ``[N, num_classes]``: the clips' scores
combined as ``test_cfg.average_clips`` says (``'prob'``: the softmax probabilities averaged), the vector
``inference_recognizer`` and ``tools/test.py --out`` give. The batch axis is dynamic.

``onnx`` and ``onnxruntime`` come with ``pip install -e ".[onnx]"`` (with ``onnxscript``, which torch's default
exporter, ``torch.export``-based, needs); ``onnxsim`` is used for ``simplify=True`` when installed.
"""
import io
import logging
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from pyskl.utils.fileio import atomic_write

INPUT_NAME, OUTPUT_NAME = 'inputs', 'scores'


class RecognizerScores(nn.Module):
    """A recognizer's test forward on a tensor: ``[N, clips, ...]`` -> ``[N, num_classes]``, clips averaged as
    ``test_cfg.average_clips`` says; no data samples, so it traces."""

    def __init__(self, recognizer: nn.Module):
        super().__init__()
        self.recognizer = recognizer

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.recognizer.average_clip(self.recognizer(inputs, mode='tensor'))


def require(module: str, how: str = 'pip install -e ".[onnx]"'):
    """Import an optional dependency, or fail saying how to install it."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f'{module} is not installed: {how}') from e


def sample_input_shape(model: nn.Module, clips: Optional[int] = None) -> Tuple[int, ...]:
    """One sample's input as the config's test pipeline makes it: ``(clips, M, T, V, C)`` for a GCN recognizer,
    ``(views, C, T, H, W)`` for a 3D CNN (PoseC3D heatmaps).

    The clip count and T come from the pipeline's ``UniformSample(Frames)`` (``num_clips``, ``clip_len``; a double
    ``GeneratePoseTarget`` makes two views of each clip), M from ``FormatGCNInput.num_person``, H and W from the last
    ``Resize`` to a fixed size or ``CenterCrop``, V and C from the model; ``clips`` overrides the pipeline's count."""
    from pyskl.apis.inference import find_step, get_test_pipeline
    from pyskl.utils.analysis import gcn_input_shape
    pipeline = get_test_pipeline(model.cfg)
    sampler = find_step(pipeline, 'UniformSample', 'UniformSampleFrames')
    if sampler is None or not isinstance(sampler.get('clip_len'), int):
        raise ValueError('The test pipeline has no UniformSample(Frames) with an integer clip_len to size the input '
                         'from; give the input shape explicitly (export_onnx.py --shape)')
    clips = clips or sampler.get('num_clips', 1)
    formatter = find_step(pipeline, 'FormatGCNInput')
    if formatter is not None:
        return (clips, ) + gcn_input_shape(model, frames=sampler['clip_len'], num_person=formatter.get('num_person', 2))
    heatmaps = find_step(pipeline, 'GeneratePoseTarget')
    size = _fixed_size(pipeline)
    in_channels = getattr(model.backbone, 'in_channels', None)
    if heatmaps is None or size is None or in_channels is None:
        raise ValueError('Cannot size the input from the test pipeline (no FormatGCNInput, or heatmaps without a '
                         'fixed Resize / CenterCrop size); give the shape explicitly (export_onnx.py --shape)')
    views = clips * (2 if heatmaps.get('double') else 1)
    scaling = heatmaps.get('scaling', 1)  # GeneratePoseTarget renders at scaling x img_shape
    return (views, in_channels, sampler['clip_len']) + tuple(int(side * scaling + 0.5) for side in size)


def _fixed_size(pipeline) -> Optional[Tuple[int, int]]:
    """``(H, W)`` the last fixed-size ``Resize`` (``keep_ratio=False``; ``scale`` is ``(w, h)``) or
    ``CenterCrop`` leaves, or None."""
    size = None
    for step in pipeline:
        if step.get('type') == 'Resize' and not step.get('keep_ratio', True) and min(step['scale']) > 0:
            size = (step['scale'][1], step['scale'][0])
        elif step.get('type') == 'CenterCrop':
            crop = step['crop_size']
            size = (crop, crop) if isinstance(crop, int) else (crop[1], crop[0])
    return size


def export_onnx(model: nn.Module, out_file: str, sample_shape: Sequence[int], opset: Optional[int] = None,
                legacy: bool = False, simplify: bool = False) -> bytes:
    """Export ``model``'s test forward (:class:`RecognizerScores`) for inputs ``[N, *sample_shape]`` with a dynamic N to
    ``out_file`` (written atomically, weights inside); returns the model's bytes.

    ``legacy=True`` uses torch's TorchScript-based exporter (deprecated by torch; faster to export and needs no
    onnxscript, but it cannot export MS-G3D's temporal windows with a dynamic batch, nor the 3D CNNs' channels-last
    activations); the default is torch's ``torch.export``-based exporter, which exports them all.
    """
    require('onnx')
    # the exporter warns, for every export, that torchvision's ops have no translation when torchvision is absent
    logging.getLogger('torch.onnx._internal.exporter._registration').setLevel(logging.ERROR)
    wrapper = RecognizerScores(model).eval()
    example = torch.zeros((2, ) + tuple(sample_shape), device=next(model.parameters()).device)
    with torch.no_grad():
        if legacy:
            buffer = io.BytesIO()
            torch.onnx.export(wrapper, (example, ), buffer, dynamo=False, input_names=[INPUT_NAME],
                              output_names=[OUTPUT_NAME], opset_version=opset or 17,
                              dynamic_axes={INPUT_NAME: {0: 'batch'}, OUTPUT_NAME: {0: 'batch'}})
            data = buffer.getvalue()
        else:
            require('onnxscript')
            batch = torch.export.Dim('batch', min=1)
            program = torch.onnx.export(wrapper, (example, ), dynamo=True, input_names=[INPUT_NAME],
                                        output_names=[OUTPUT_NAME], opset_version=opset,
                                        dynamic_shapes=({0: batch}, ), verbose=False)
            data = program.model_proto.SerializeToString()
    if simplify:
        data = simplify_onnx(data)
    with atomic_write(out_file, 'wb') as f:
        f.write(data)
    return data


def simplify_onnx(data: bytes) -> bytes:
    """Constant folding and redundant-node removal by onnx-simplifier (``pip install onnxsim``)."""
    onnx = require('onnx')
    onnxsim = require('onnxsim', 'pip install onnxsim')
    simplified, ok = onnxsim.simplify(onnx.load_from_string(data))
    if not ok:
        raise RuntimeError('onnx-simplifier could not validate the simplified model')
    return simplified.SerializeToString()


def onnx_session(model_or_file, threads: Optional[int] = None):
    """An onnxruntime CPU session on a model file or its bytes."""
    ort = require('onnxruntime')
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(model_or_file, options, providers=['CPUExecutionProvider'])


def check_onnx(model: nn.Module, session, sample_shape: Sequence[int], batch: int = 3, atol: float = 1e-4,
               seed: int = 0) -> float:
    """Run PyTorch and onnxruntime on the same random batch (another size than the export's, so the dynamic axis is
    exercised); return the largest difference, or raise if it exceeds ``atol``."""
    inputs = torch.randn((batch, ) + tuple(sample_shape), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        expected = RecognizerScores(model).eval()(inputs.to(next(model.parameters()).device)).float().cpu().numpy()
    got = session.run([OUTPUT_NAME], {INPUT_NAME: inputs.numpy()})[0]
    if got.shape != expected.shape:
        raise RuntimeError(f'onnxruntime returned scores of shape {got.shape}, PyTorch {expected.shape}')
    diff = float(np.abs(got - expected).max())
    if not diff <= atol:
        raise RuntimeError(f'onnxruntime and PyTorch differ by {diff:.3g} (> {atol}) on random inputs of shape '
                           f'{tuple(inputs.shape)}')
    return diff


__all__ = ['RecognizerScores', 'export_onnx', 'check_onnx', 'onnx_session', 'simplify_onnx', 'sample_input_shape']
