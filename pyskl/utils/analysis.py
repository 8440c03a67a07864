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


def median_seconds(fn: Callable[[], object], warmup: int = 3, repeats: int = 10) -> Tuple[float, List[float]]:
    """Median wall time of ``fn`` over ``repeats`` calls after ``warmup`` calls (and every timing)."""
    if repeats < 1:
        raise ValueError(f'repeats must be at least 1, got {repeats}')
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
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


def inference_samples_per_second(recognizer: nn.Module, shape: Sequence[int], batch: int = 16, warmup: int = 3,
                                 repeats: int = 10) -> Tuple[float, float]:
    """Samples/s of the recognizer's forward (``mode='tensor'``, one clip each) in inference mode on random input
    ``[batch, 1, M, T, V, C]``; returns ``(samples_per_second, median_seconds_per_batch)``."""
    recognizer.eval()
    device = next(recognizer.parameters()).device
    inputs = torch.randn((batch, 1) + tuple(shape), device=device)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)

    def forward():
        with torch.inference_mode():
            recognizer(inputs, mode='tensor')
        sync()

    median, _ = median_seconds(forward, warmup, repeats)
    return batch / median, median


__all__ = ['BackboneAndHead', 'count_flops', 'count_parameters', 'gcn_input_shape', 'inference_samples_per_second',
           'median_seconds', 'parameter_counts']
