"""The DFT temporal conv (pyskl.models.blocks.spectral) is F.conv2d: values, gradients, layouts, and when it is used."""
import pytest
import torch
import torch.nn as nn

from pyskl.models.blocks import spectral, unit_tcn
from pyskl.models.blocks.spectral import dft_conv, dft_is_cheaper, temporal_conv, use_dft
from pyskl.registry import MODELS
from pyskl.utils import register_all_modules

# (in, out, frames, kernel, stride, dilation): odd and even frame counts, fewer frames than taps, strides 1-3
GEOMETRIES = [(8, 6, 25, 9, 1, 1), (8, 6, 7, 9, 2, 1), (8, 6, 24, 9, 2, 1), (5, 7, 13, 5, 3, 2), (8, 8, 20, 3, 1, 4),
              (8, 8, 11, 3, 2, 3), (4, 4, 1, 9, 1, 1), (4, 4, 3, 9, 2, 1), (6, 6, 10, 1, 2, 1)]


def _conv(c_in, c_out, kernel, stride, dilation, dtype=torch.float64):
    torch.manual_seed(0)
    pad = (kernel - 1) * dilation // 2
    return nn.Conv2d(c_in, c_out, (kernel, 1), padding=(pad, 0), stride=(stride, 1), dilation=(dilation, 1)).to(dtype)


def _input(c, frames, channels_last, n=3, v=4, dtype=torch.float64):
    x = torch.randn(n, c, frames, v, dtype=dtype, generator=torch.Generator().manual_seed(1))
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


@pytest.mark.parametrize('channels_last', [False, True])
@pytest.mark.parametrize('geometry', GEOMETRIES, ids=str)
def test_dft_conv_is_conv2d_values_and_gradients(geometry, channels_last):
    c_in, c_out, frames, kernel, stride, dilation = geometry
    conv = _conv(c_in, c_out, kernel, stride, dilation)
    x = _input(c_in, frames, channels_last).requires_grad_()
    expected = conv(x)
    grad = torch.randn_like(expected)
    expected_grads = torch.autograd.grad(expected, (x, conv.weight, conv.bias), grad)

    out = dft_conv(x, conv.weight, conv.bias, stride, dilation, conv.padding[0])
    assert out.shape == expected.shape
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    for got, want in zip(torch.autograd.grad(out, (x, conv.weight, conv.bias), grad), expected_grads):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-11)
    if frames > 1 and out.size(2) > 1:  # the result keeps the input's memory format
        assert out.is_contiguous(memory_format=torch.channels_last) == channels_last


def test_dft_conv_float32_at_stgcn_width():
    conv = _conv(128, 128, 9, 1, 1, dtype=torch.float32)
    x = _input(128, 50, True, n=2, v=25, dtype=torch.float32)
    expected = conv(x)
    err = (dft_conv(x, conv.weight, conv.bias, 1, 1, 4) - expected).abs().max() / expected.abs().max()
    assert err < 1e-5


def test_dft_is_chosen_for_wide_kernel9_convs_only():
    stgcn_convs = [(64, 100, 1), (128, 100, 2), (128, 50, 1), (256, 50, 2), (256, 25, 1)]  # width, frames, stride
    for width, frames, stride in stgcn_convs:
        assert dft_is_cheaper(frames, _conv(width, width, 9, stride, 1)), (width, frames, stride)
    assert not dft_is_cheaper(100, _conv(16, 16, 5, 1, 1))  # CTR-GCN's narrowest branch
    assert not dft_is_cheaper(100, _conv(10, 10, 3, 1, 4))  # an ST-GCN++ branch
    assert not dft_is_cheaper(100, _conv(256, 256, 1, 1, 1))  # a 1x1 conv


def test_use_dft_switches_the_path():
    conv = _conv(128, 128, 9, 1, 1, dtype=torch.float32)
    x = _input(128, 50, True, n=1, v=5, dtype=torch.float32)
    with use_dft('never'):
        assert torch.equal(temporal_conv(x, conv), conv(x))
    with use_dft('always'):
        assert torch.equal(temporal_conv(x, conv), dft_conv(x, conv.weight, conv.bias, 1, 1, 4))
    assert torch.equal(temporal_conv(x, conv), dft_conv(x, conv.weight, conv.bias, 1, 1, 4))  # 'auto' picks it
    small = _conv(4, 4, 3, 1, 1, dtype=torch.float32)
    assert torch.equal(temporal_conv(x[:, :4], small), small(x[:, :4]))
    with pytest.raises(ValueError, match='auto'):
        with use_dft('sometimes'):
            pass


def test_too_few_frames_gets_conv2ds_error():
    conv = nn.Conv2d(4, 4, (9, 1))  # no padding: 9 frames at least
    with use_dft('always'), pytest.raises(RuntimeError, match='Kernel size can.t be greater'):
        temporal_conv(torch.randn(1, 4, 5, 3), conv)


def test_non_cpu_tensors_take_the_conv():
    conv = _conv(8, 8, 9, 1, 1, dtype=torch.float32).to('meta')
    with use_dft('always'):
        out = temporal_conv(torch.empty(2, 8, 20, 5, device='meta'), conv)
    assert out.device.type == 'meta' and out.shape == (2, 8, 20, 5)


def test_plan_made_in_inference_mode_serves_training():
    """The transform matrices are cached; one first built under inference_mode must still work with autograd."""
    conv = _conv(6, 6, 9, 1, 1, dtype=torch.float32)
    x = _input(6, 37, False, dtype=torch.float32)  # a frame count no other test uses
    with torch.inference_mode():
        dft_conv(x, conv.weight, conv.bias, 1, 1, 4)
    dft_conv(x, conv.weight, conv.bias, 1, 1, 4).sum().backward()
    assert conv.weight.grad is not None and torch.isfinite(conv.weight.grad).all()


def test_unit_tcn_runs_the_same_either_way():
    tcn = unit_tcn(128, 128, 9, stride=2).train()
    x = _input(128, 40, True, n=2, v=25, dtype=torch.float32)
    with use_dft('never'):
        expected = tcn(x)
    with use_dft('always'):
        got = tcn(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


def test_stgcn_at_ntu_size_matches_with_and_without_dft(monkeypatch):
    """The full ST-GCN (every kernel-9 conv takes the DFT at T=100): logits and gradients as with F.conv2d."""
    calls = []
    monkeypatch.setattr(spectral, 'dft_conv', lambda *args: calls.append(args[0].shape) or dft_conv(*args))
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'))).eval()
    x = torch.randn(1, 2, 100, 25, 3)
    outs = {}
    for mode in ('never', 'auto'):
        model.zero_grad()
        with use_dft(mode):
            out = model(x)
        out.square().mean().backward()
        outs[mode] = out.detach(), model.gcn[9].tcn.conv.weight.grad.clone()
    assert len(calls) == 10  # the ten blocks' temporal convs, in the 'auto' run only
    torch.testing.assert_close(outs['auto'][0], outs['never'][0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(outs['auto'][1], outs['never'][1], rtol=1e-3, atol=1e-6)
