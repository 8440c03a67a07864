"""``benchmarks/bench_gemm_floor.py`` records every matrix product of a step, counts its work and replays it alike."""
from pathlib import Path

import pytest
import torch
import torch.nn as nn

BENCHMARKS = Path(__file__).resolve().parents[2] / 'benchmarks'


@pytest.fixture
def floor(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_gemm_floor
    return bench_gemm_floor


def test_records_the_products_of_forward_and_backward_with_their_flops(floor):
    conv, linear = nn.Conv2d(4, 6, (3, 1), padding=(1, 0)), nn.Linear(6, 5)
    x = torch.randn(2, 4, 7, 3)  # no grad: the conv's backward computes its weight's gradient only
    recorder = floor.RecordProducts()
    with recorder:
        linear(conv(x).mean((2, 3))).sum().backward()

    work = [(func.__name__, floor.flops(func, floor.fresh(layout))) for func, layout, _ in recorder.calls]
    conv_pass = 2 * (2 * 6 * 7 * 3) * 4 * 3  # 2 x output elements x (input channels x kernel taps)
    linear_pass = 2 * 2 * 6 * 5
    assert sorted(work) == sorted([
        ('convolution.default', conv_pass), ('addmm.default', linear_pass),
        ('mm.default', linear_pass), ('mm.default', linear_pass),  # the linear's grad input and grad weight
        ('convolution_backward.default', conv_pass)])


def test_fresh_tensors_keep_the_recorded_layout_and_replay(floor):
    a = torch.randn(4, 9, 5).transpose(1, 2)
    b = torch.randn(9, 3).expand(4, 9, 3)  # a broadcast weight, stride 0 over the batch
    recorder = floor.RecordProducts()
    with recorder:
        torch.bmm(a, b)
    (func, layout, kwargs), = recorder.calls
    args = floor.fresh(layout)
    assert [(t.shape, t.stride()) for t in args] == [(a.shape, a.stride()), (b.shape, b.stride())]
    assert floor.flops(func, args) == 2 * 4 * 5 * 9 * 3
    assert floor.replay_seconds(func, args) > 0
