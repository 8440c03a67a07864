"""What ``tools/analysis/get_flops.py`` and ``tools/analysis/bench_inference.py`` measure: parameters, FLOPs and
inference speed of a GCN recognizer (a model with ``backbone`` and ``cls_head`` taking ``[N, M, T, V, C]``)."""
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn


def gcn_input_shape(recognizer: nn.Module, frames: int = 100, num_person: int = 2) -> Tuple[int, int, int, int]:
    """``(M, T, V, C)`` the recognizer's backbone takes: V from its graph, C from its ``in_channels``."""
    backbone = recognizer.backbone
    graph = getattr(backbone, 'graph', None)
    in_channels = getattr(backbone, 'in_channels', None)
    if graph is None or in_channels is None:
        raise ValueError(f'{type(backbone).__name__} has no graph / in_channels to size a [M, T, V, C] input from; '
                         'give the shape explicitly')
    return num_person, frames, int(graph.A.shape[-1]), int(in_channels)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def parameter_counts(recognizer: nn.Module) -> Dict[str, int]:
    """Learnable parameters of the whole model, its backbone and its head (buffers such as a fixed graph excluded)."""
    head = getattr(recognizer, 'cls_head', None)
    return dict(total=count_parameters(recognizer), backbone=count_parameters(recognizer.backbone),
                head=count_parameters(head) if head is not None else 0)


class BackboneAndHead(nn.Module):
    """``cls_head(backbone(x))`` for one batch of clips ``[N, M, T, V, C]``: what a recognizer computes per clip,
    without the data-sample plumbing that a tracer cannot follow."""

    def __init__(self, recognizer: nn.Module):
        super().__init__()
        self.backbone, self.cls_head = recognizer.backbone, recognizer.cls_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cls_head(self.backbone(x))


def count_flops(recognizer: nn.Module, shape: Sequence[int], clips: int = 1) -> int:
    """FLOPs of one sample of ``clips`` clips of ``shape = (M, T, V, C)``, by ``mmengine.analysis.FlopAnalyzer``
    (fvcore's convention, as PYSKL used: one multiply-add counts as one FLOP)."""
    from mmengine.analysis import FlopAnalyzer
    model = BackboneAndHead(recognizer).eval()
    device = next(model.parameters()).device
    inputs = torch.zeros((clips, ) + tuple(shape), device=device)
    analyzer = FlopAnalyzer(model, (inputs, ))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings('none')
    with torch.no_grad():
        return int(analyzer.total())


def alternate(fns: Sequence[Callable[[], object]], warmup: int, repeats: int) -> List[List[float]]:
    """Each function's timings (seconds), timed in turns after ``warmup`` untimed rounds, so that a busy machine
    slows them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, spent in zip(fns, times):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return times


def median_seconds(fn: Callable[[], object], warmup: int = 3, repeats: int = 10) -> Tuple[float, List[float]]:
    """Median wall time of ``fn`` over ``repeats`` calls after ``warmup`` calls (and every timing)."""
    if repeats < 1:
        raise ValueError(f'repeats must be at least 1, got {repeats}')
    times, = alternate([fn], warmup, repeats)
    return statistics.median(times), times


def cpu_times(stat_path: str = '/proc/stat') -> Optional[Tuple[int, int]]:
    """``(steal, total)`` clock ticks of all CPUs so far (Linux ``/proc/stat``), or None where there is no such file.

    Steal is time the hypervisor gave to other guests while this VM wanted to run: on a shared VM it slows every
    timing, so benchmarks/bench_models.py prints it beside its figures."""
    try:
        with open(stat_path) as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != 'cpu' or len(fields) < 9:
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal (guest is within user)
    return ticks[7], sum(ticks)


def steal_share(before: Optional[Tuple[int, int]], after: Optional[Tuple[int, int]]) -> Optional[float]:
    """The share of CPU time stolen between two :func:`cpu_times` readings (None if either is missing)."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


__all__ = ['BackboneAndHead', 'alternate', 'count_flops', 'count_parameters', 'gcn_input_shape', 'median_seconds',
           'parameter_counts']
