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


def _render(points, heatmap_cfg: dict) -> torch.Tensor:
    """The volumes ``[N, views, C, L, H, W]`` of the batch's deferred points."""
    points = list(points) if isinstance(points, (list, tuple)) else list(points.unbind(0))
    return render_batch(_stack_persons(points).float(), heatmap_cfg)


def _stack(inputs, key: Optional[str] = None) -> torch.Tensor:
    """The samples' inputs (a list, or a batch already) as one float tensor; they must have one shape."""
    if isinstance(inputs, (list, tuple)):
        shapes = {tuple(x.shape) for x in inputs}
        if len(shapes) > 1:
            what = f'{key!r} shapes' if key else 'input shapes'
            raise ValueError(f'Samples of one batch have different {what} {sorted(shapes)}; '
                             'check the pipeline (clip_len, num_person, num_clips)')
        inputs = torch.stack(list(inputs))
    return inputs.float()


@MODELS.register_module()
class ActionDataPreprocessor(BaseDataPreprocessor):
    """Stack per-sample ``inputs`` (``[num_clips, ...]`` each) into ``[N, num_clips, ...]`` and move the batch; a dict
    of inputs (RGBPose's ``imgs`` and ``heatmap_imgs``) is stacked key by key.

    Samples whose pipeline deferred its heatmaps (``GeneratePoseTarget(deferred=True)``: keypoints packed as
    ``[clips, M, L, V, 3]`` with the render settings in the sample's ``heatmap_cfg``) are rendered here, on the
    model's device, into the volumes the pipeline would have made: ``[N, views, C, L, H, W]`` (RGBPose: its
    ``heatmap_imgs``).

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
        if isinstance(inputs, dict):  # RGBPose: imgs and heatmap_imgs (deferred points go there), stacked apart
            if self.normalize:
                raise ValueError('ActionDataPreprocessor: mean/std apply to GCN inputs; RGBPose inputs are '
                                 'normalised in the pipeline (Normalize)')
            if heatmap_cfg is not None and 'heatmap_imgs' not in inputs:
                raise ValueError('Deferred heatmaps (heatmap_cfg) but no heatmap_imgs among the inputs '
                                 f'{sorted(inputs)}')
            render = heatmap_cfg is not None
            return dict(inputs={key: _render(value, heatmap_cfg) if render and key == 'heatmap_imgs' else
                                _stack(value, key) for key, value in inputs.items()}, data_samples=data_samples)
        if heatmap_cfg is not None:
            return dict(inputs=_render(inputs, heatmap_cfg), data_samples=data_samples)
        inputs = _stack(inputs)
        if self.normalize:
            inputs = (inputs - self.mean) / self.std
        return dict(inputs=inputs, data_samples=data_samples)
