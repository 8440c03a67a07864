"""Temporal convolution through the discrete Fourier transform over time, for CPUs.

A ``(k, 1)`` conv over ``T`` frames costs ``k * T_out`` channel mixes (``C x O`` each) per joint. Over time the
conv is a product per frequency, so it can be computed as:

1. a real DFT of each channel over time (one matmul with a fixed ``[2F, T]`` matrix),
2. one ``2C x 2O`` channel mix per frequency (a batched matmul; ``F`` is about ``T / 2``),
3. the inverse DFT (one matmul with a fixed ``[T_out, 2F]`` matrix).

The zero padding of the conv is kept by taking a transform length ``L`` long enough that the circular wrap-around
only reads zeros; a stride ``s`` splits the frames into ``s`` phases, each its own set of input channels. For the
kernel-9 temporal convs of ST-GCN and AAGCN this does 1.4-3.4x fewer multiply-adds than the direct conv (the most
at 256 channels); on a 2-core CPU, ST-GCN's training step runs about 1.3x faster, AAGCN's 1.2x
(``benchmarks/bench_models.py --dft never`` gives the figures without it), for 7-14 % more peak memory. The
result is the same function: it matches ``F.conv2d`` to float rounding (about 1e-6 relative in float32, 1e-15 in
float64), forward and backward, which flows through the matmuls by autograd.

:func:`temporal_conv` chooses between this and ``F.conv2d`` by counting multiply-adds; GPUs always get the conv
(cuDNN). :func:`use_dft` turns the DFT off (or forces it) where a bit-for-bit ``F.conv2d`` is wanted.
"""
import contextlib
import functools
import math

import torch
import torch.nn as nn

# The DFT is used where its multiply-adds are at most this share of the direct conv's: it runs at a lower
# arithmetic rate (the transposes between its matmuls). Chosen on whole models (benchmarks/bench_models.py, 2-core
# CPU): ST-GCN's kernel-9 convs (shares 0.29-0.71) all gain. CTR-GCN's 64-channel dilated branches (0.67) take it
# with no measurable gain or loss; narrower branches (CTR-GCN, ST-GCN++: 3 and more) and 1x1 convs do not.
DFT_COST_SHARE = 0.75
_MODE = 'auto'


@contextlib.contextmanager
def use_dft(mode: str):
    """``with use_dft('never'):`` runs every temporal conv as ``F.conv2d``; ``'always'`` takes the DFT wherever
    it applies (tests); ``'auto'`` (the default) chooses by cost."""
    global _MODE
    if mode not in ('auto', 'never', 'always'):
        raise ValueError(f"use_dft: mode must be 'auto', 'never' or 'always', got {mode!r}")
    before, _MODE = _MODE, mode
    try:
        yield
    finally:
        _MODE = before


def temporal_conv(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``conv(x)`` for a conv over time (kernel ``(k, 1)``), through the DFT where that is cheaper."""
    if _MODE != 'never' and _dft_applies(x, conv) and (_MODE == 'always' or dft_is_cheaper(x.size(2), conv)):
        return dft_conv(x, conv.weight, conv.bias, conv.stride[0], conv.dilation[0], conv.padding[0])
    return conv(x)


def dft_is_cheaper(frames: int, conv: nn.Conv2d) -> bool:
    """Whether the DFT takes at most ``DFT_COST_SHARE`` of the direct conv's multiply-adds on ``frames`` frames."""
    geometry = (frames, conv.stride[0], conv.dilation[0], conv.padding[0], conv.kernel_size[0])
    C, O = conv.in_channels, conv.out_channels
    T_out = _out_frames(*geometry)
    freqs = _plan_sizes(*geometry)[1]
    s = conv.stride[0]
    direct = conv.kernel_size[0] * T_out * C * O
    dft = 2 * s * freqs * frames * C + 4 * s * freqs * C * O + 2 * freqs * T_out * O  # transform, mix, inverse
    return dft <= DFT_COST_SHARE * direct


def _dft_applies(x, conv) -> bool:
    return (x.device.type == 'cpu' and x.dtype in (torch.float32, torch.float64) and x.dim() == 4
            and conv.kernel_size[1] == 1 and conv.stride[1] == 1 and conv.padding[1] == 0
            and conv.dilation[1] == 1 and conv.groups == 1 and conv.padding_mode == 'zeros'
            and isinstance(conv.padding[0], int) and not torch.is_autocast_enabled('cpu')
            and not torch.jit.is_scripting() and not torch.jit.is_tracing() and not _is_exporting()
            # too few frames for the kernel: F.conv2d raises its own error
            and _out_frames(x.size(2), conv.stride[0], conv.dilation[0], conv.padding[0], conv.kernel_size[0]) > 0)


def _is_exporting() -> bool:
    """Under ``torch.export`` (the ONNX exporter's default): the traced graph takes the plain conv, and the plan
    cache below never holds the exporter's fake tensors."""
    is_exporting = getattr(torch.compiler, 'is_exporting', None)  # torch >= 2.5
    return bool(is_exporting and is_exporting())


def _out_frames(T, s, d, p, k):
    return (T + 2 * p - d * (k - 1) - 1) // s + 1


def _tap_offsets(s, d, p, k):
    """Tap ``j`` reads frame ``s * t + j * d - p``: phase ``(j * d - p) mod s``, at ``t + (j * d - p) // s`` in
    that phase's frames."""
    offsets = [j * d - p for j in range(k)]
    return [o % s for o in offsets], [o // s for o in offsets]


def _plan_sizes(T, s, d, p, k):
    """The transform length ``L`` and the number of real-DFT frequencies ``F``. Phase frames run over
    ``[0, ceil(T / s))``; reads at negative positions wrap to ``L - m`` and must land past them, reads past the
    end must stay below ``L``."""
    _, shifts = _tap_offsets(s, d, p, k)
    length = max(-(-T // s) + max(0, -min(shifts)), _out_frames(T, s, d, p, k) + max(0, max(shifts)))
    return length, length // 2 + 1


@functools.lru_cache(maxsize=256)
def _plan(T, s, d, p, k, dtype, device):
    """Fixed matrices of the transform (built in float64, cached per geometry):

    - ``forward`` ``[s * 2 * F, T]``: frame ``t`` to (phase, cos / -sin, frequency) of its phase;
    - ``inverse`` ``[T_out, 2 * F]``: the real inverse DFT at the output frames;
    - ``taps_to_spectrum`` ``[(cos / sin, s, F), k]``: the kernel's taps to its spectrum, per phase.
    """
    with torch.inference_mode(False), torch.no_grad():
        length, F_ = _plan_sizes(T, s, d, p, k)
        T_out = _out_frames(T, s, d, p, k)
        phases, shifts = _tap_offsets(s, d, p, k)
        freq = torch.arange(F_, dtype=torch.float64)[:, None] * (2 * math.pi / length)
        frames = torch.arange(T)
        angle = freq * (frames // s).double()  # [F, T]
        forward = torch.zeros(s, 2, F_, T, dtype=torch.float64)
        for phase in range(s):
            in_phase = (frames % s == phase).double()
            forward[phase, 0] = torch.cos(angle) * in_phase
            forward[phase, 1] = -torch.sin(angle) * in_phase
        # a real signal's spectrum counts each frequency but 0 (and L / 2) twice
        weight = torch.full((F_, 1), 2., dtype=torch.float64)
        weight[0] = 1
        if length % 2 == 0:
            weight[-1] = 1
        angle_out = freq * torch.arange(T_out, dtype=torch.float64)
        inverse = torch.cat([torch.cos(angle_out) * weight, -torch.sin(angle_out) * weight]).T / length
        tap_angle = freq * torch.tensor(shifts, dtype=torch.float64)  # [F, k]
        tap_in_phase = torch.zeros(s, 1, k, dtype=torch.float64)
        tap_in_phase[phases, 0, range(k)] = 1
        taps_to_spectrum = torch.stack([torch.cos(tap_angle) * tap_in_phase, torch.sin(tap_angle) * tap_in_phase])
        mats = (forward.view(s * 2 * F_, T), inverse, taps_to_spectrum.view(2 * s * F_, k))
        return tuple(m.to(dtype=dtype, device=device).contiguous() for m in mats)


def dft_conv(x: torch.Tensor, weight: torch.Tensor, bias, stride: int = 1, dilation: int = 1,
             padding: int = 0) -> torch.Tensor:
    """``F.conv2d(x, weight, bias, (stride, 1), (padding, 0), (dilation, 1))`` for ``weight`` ``[O, C, k, 1]``,
    through the DFT over time. The output has the input's memory format (channels-last or contiguous)."""
    N, C, T, V = x.shape
    O, k = weight.size(0), weight.size(2)
    s = stride
    forward, inverse, taps_to_spectrum = _plan(T, s, dilation, padding, k, x.dtype, x.device)
    F_, T_out = forward.size(0) // (2 * s), inverse.size(0)

    # the kernel's spectrum as one real [2 * s * C, 2 * O] mix per frequency: rows (re / im, phase, c)
    taps = weight.view(O, C, k).permute(2, 1, 0).reshape(k, C * O)
    kernel = torch.matmul(taps_to_spectrum, taps).view(2, s, F_, C, O).transpose(1, 2).reshape(2, F_, s * C, O)
    spec_re, spec_im = kernel
    mix = torch.cat([torch.cat([spec_re, spec_im], 2), torch.cat([-spec_im, spec_re], 2)], 1)

    channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    if channels_last:  # memory [N, T, V, C]
        spec = torch.matmul(forward, x.permute(0, 2, 3, 1).reshape(N, T, V * C))  # [N, (s, 2, F), V * C]
        spec = spec.view(N, s, 2, F_, V, C).permute(3, 0, 4, 2, 1, 5)
    else:  # memory [N, C, T, V]
        spec = torch.matmul(forward, x.reshape(N * C, T, V))  # [N * C, (s, 2, F), V]
        spec = spec.view(N, C, s, 2, F_, V).permute(4, 0, 5, 3, 2, 1)
    out = torch.bmm(spec.reshape(F_, N * V, 2 * s * C), mix).view(F_, N, V, 2, O)  # (re / im) per frequency
    if channels_last:
        y = torch.matmul(inverse, out.permute(1, 3, 0, 2, 4).reshape(N, 2 * F_, V * O)).view(N, T_out, V, O)
        y = y if bias is None else y + bias
        return y.permute(0, 3, 1, 2)
    y = torch.matmul(inverse, out.permute(1, 4, 3, 0, 2).reshape(N * O, 2 * F_, V)).view(N, O, T_out, V)
    return y if bias is None else y + bias.view(O, 1, 1)


__all__ = ['temporal_conv', 'dft_conv', 'dft_is_cheaper', 'use_dft', 'DFT_COST_SHARE']
