"""How long the matrix products of one training step take on their own, against the step and its target.

One forward+backward step at ``bench_models.py``'s setting is run under a dispatch mode that records every matrix
product the step makes (``mm``, ``addmm``, ``bmm``, ``baddbmm``, ``convolution`` and its backward) with its
shapes and strides. Each one is then replayed alone on fresh tensors of the same layout (best of 3, warm caches)
and the times are summed. That sum is the time the step's matrix arithmetic needs as the model formulates it. The
rest of the step is everything else: BatchNorm, activations, attention passes, copies.

If the sum alone is longer than the step the target allows, tuning the rest cannot meet the target. Meeting it
would then need fewer multiply-adds, or faster kernels than the BLAS / oneDNN that PyTorch calls. For reference,
the script also prints the rate of one large square ``mm``, the most this machine's BLAS gives.
Run: ``python benchmarks/bench_gemm_floor.py [--models AAGCN CTRGCN] [--threads 2]``.
"""
import argparse
import math
import time

import torch
from bench_models import MODEL_ZOO, TRAIN_TARGETS, add_setting_args, build, step_functions
from torch.utils._python_dispatch import TorchDispatchMode

from pyskl.utils import register_all_modules
from pyskl.utils.analysis import median_seconds
from pyskl.utils.memory import keep_freed_memory

aten = torch.ops.aten
MATMULS = {aten.mm.default: 0, aten.addmm.default: 1, aten.bmm.default: 0, aten.baddbmm.default: 1}
CONVS = {aten.convolution.default, aten.convolution_backward.default}


class RecordProducts(TorchDispatchMode):
    """Records ``(op, args, kwargs)`` of each matrix product, with tensors kept as ``(shape, stride, dtype)``."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in MATMULS or func in CONVS:
            layout = [(tuple(a.shape), a.stride(), a.dtype) if isinstance(a, torch.Tensor) else a for a in args]
            self.calls.append((func, layout, kwargs))
        return func(*args, **kwargs)


def fresh(layout):
    """Tensors laid out as recorded (strides kept: a transposed or expanded operand stays one)."""
    args = []
    for a in layout:
        if isinstance(a, tuple) and len(a) == 3 and isinstance(a[2], torch.dtype):
            shape, stride, dtype = a
            extent = 1 + sum((s - 1) * st for s, st in zip(shape, stride)) if all(shape) else 1
            args.append(torch.randn(extent, dtype=dtype).as_strided(shape, stride))
        else:
            args.append(a)
    return args


def flops(func, args):
    """Multiply-adds x 2 of a recorded product."""
    if func in MATMULS:
        a, b = args[MATMULS[func]], args[MATMULS[func] + 1]
        return 2 * math.prod(a.shape) * b.shape[-1]
    if func is aten.convolution.default:
        x, weight, stride, padding, dilation, groups = args[0], args[1], args[3], args[4], args[5], args[8]
        out_size = [(size + 2 * p - d * (k - 1) - 1) // s + 1
                    for size, k, s, p, d in zip(x.shape[2:], weight.shape[2:], stride, padding, dilation)]
        out_numel = x.shape[0] * weight.shape[0] * math.prod(out_size)
        return 2 * out_numel * (x.shape[1] // groups) * math.prod(weight.shape[2:])
    grad_out, x, weight, groups, mask = args[0], args[1], args[2], args[9], args[10]
    per_pass = 2 * grad_out.numel() * (x.shape[1] // groups) * math.prod(weight.shape[2:])
    return per_pass * (int(mask[0]) + int(mask[1]))  # grad input and grad weight each cost a forward


def replay_seconds(func, args, repeats=3):
    func(*args)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        func(*args)
        best = min(best, time.perf_counter() - start)
    return best


def blas_peak(size=2048):
    """GFLOP/s of one ``[size, size] @ [size, size]`` ``mm``, at its fastest of 5 (a peak, not a typical rate)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    seconds = min(median_seconds(lambda: torch.mm(a, b), 2, 5)[1])
    return 2 * size ** 3 / seconds / 1e9


def measure(name, batch, frames, warmup, repeats):
    model = build(name).train()
    train_step = step_functions(model, batch, frames)[1]
    step = median_seconds(train_step, warmup, repeats)[0]
    recorder = RecordProducts()
    with recorder:
        train_step()
    products, work = 0., 0
    for func, layout, kwargs in recorder.calls:
        args = fresh(layout)
        work += flops(func, args)
        products += replay_seconds(func, args)
    return step, products, work, len(recorder.calls)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', default=['AAGCN', 'CTRGCN'], choices=list(MODEL_ZOO))
    add_setting_args(parser, repeats=3)
    args = parser.parse_args()
    kept = keep_freed_memory()
    torch.set_num_threads(args.threads)
    register_all_modules()
    peak = blas_peak()
    print(f'torch {torch.__version__}, {args.threads} threads, batch {args.batch}, T={args.frames}, M=2, V=25, C=3, '
          f'freed memory kept: {kept}; a 2048^3 mm runs at {peak:.0f} GFLOP/s')
    print(f'{"model":8s} {"step s":>7s} {"target step s":>14s} {"products alone s":>17s} {"their GFLOP":>12s} '
          f'{"GFLOP/s":>8s} {"products at mm peak s":>21s} {"rest of step s":>15s}')
    for name in args.models:
        step, products, work, calls = measure(name, args.batch, args.frames, args.warmup, args.repeats)
        target = TRAIN_TARGETS.get(name)
        target_step = f'{args.batch / target:14.2f}' if target else f'{"-":>14s}'
        print(f'{name:8s} {step:7.2f} {target_step} {products:17.2f} {work / 1e9:12.1f} {work / products / 1e9:8.1f} '
              f'{work / peak / 1e9:21.2f} {step - products:15.2f}')
        print(f'{"":8s} ({calls} products in one step)')


if __name__ == '__main__':
    main()
