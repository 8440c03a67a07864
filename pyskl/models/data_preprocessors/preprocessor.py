"""Turns a collated batch (lists from the dataloader) into one float tensor on the model's device; renders PoseC3D's
heatmap volumes there when the pipeline deferred them (``GeneratePoseTarget(deferred=True)``)."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor

from pyskl.datasets.transforms.heatmap import render_batch
from pyskl.registry import MODELS


def _heatmap_cfg(data_samples) -> Optional[dict]:
    """The render settings deferred samples carry (None for ready-made inputs); one batch must share them."""
    cfgs = [sample.metainfo.get('heatmap_cfg') for sample in data_samples or []]
    if not cfgs or cfgs[0] is None:
        if any(cfg is not None for cfg in cfgs):
            raise ValueError('A batch mixes deferred heatmaps (GeneratePoseTarget(deferred=True)) with rendered ones')
        return None
    if any(cfg != cfgs[0] for cfg in cfgs[1:]):
        raise ValueError('The samples of one batch carry different heatmap settings (sigma, map size, limbs or '
                         f'double): {cfgs[0]} vs {next(cfg for cfg in cfgs if cfg != cfgs[0])}')
    return cfgs[0]


def _stack_persons(points: List[torch.Tensor]) -> torch.Tensor:
    """Deferred points ``[clips, M_i, L, V, 3]`` of each sample, persons padded with zeros (value 0: nothing drawn)
    to the batch's largest M, as ``[N, clips, M, L, V, 3]``."""
    most = max(p.shape[1] for p in points)
    return torch.stack([F.pad(p, (0, 0, 0, 0, 0, 0, 0, most - p.shape[1])) for p in points])


@MODELS.register_module()
class ActionDataPreprocessor(BaseDataPreprocessor):
    """Stack per-sample ``inputs`` (``[num_clips, ...]`` each) into ``[N, num_clips, ...]`` and move the batch.

    Samples whose pipeline deferred its heatmaps (``GeneratePoseTarget(deferred=True)``: keypoints packed as
    ``[clips, M, L, V, 3]`` with the render settings in the sample's ``heatmap_cfg``) are rendered here, on the
    model's device, into the volumes the pipeline would have made: ``[N, views, C, L, H, W]``.

    Args:
        mean, std: optional per-channel normalisation applied on the last axis of GCN inputs
            (``[..., C]``); PYSKL normalises inside the pipeline, so configs leave these unset.
    """

    def __init__(self, mean: Optional[Sequence[float]] = None, std: Optional[Sequence[float]] = None):
        super().__init__()
        self.normalize = mean is not None
        if self.normalize:
            self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32), persistent=False)
            self.register_buffer('std', torch.tensor(std, dtype=torch.float32), persistent=False)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs, data_samples = data['inputs'], data.get('data_samples')
        heatmap_cfg = _heatmap_cfg(data_samples)
        if heatmap_cfg is not None:
            points = list(inputs) if isinstance(inputs, (list, tuple)) else list(inputs.unbind(0))
            return dict(inputs=render_batch(_stack_persons(points).float(), heatmap_cfg), data_samples=data_samples)
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) > 1:
                raise ValueError(f'Samples of one batch have different input shapes {sorted(shapes)}; '
                                 'check the pipeline (clip_len, num_person, num_clips)')
            inputs = torch.stack(list(inputs))
        inputs = inputs.float()
        if self.normalize:
            inputs = (inputs - self.mean) / self.std
        return dict(inputs=inputs, data_samples=data_samples)
