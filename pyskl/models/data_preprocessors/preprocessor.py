"""Turns a collated batch (lists from the dataloader) into one float tensor on the model's device."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from pyskl.registry import MODELS


@MODELS.register_module()
class ActionDataPreprocessor(BaseDataPreprocessor):
    """Stack per-sample ``inputs`` (``[num_clips, ...]`` each) into ``[N, num_clips, ...]`` and move the batch.

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
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) > 1:
                raise ValueError(f'Samples of one batch have different input shapes {sorted(shapes)}; '
                                 'check the pipeline (clip_len, num_person, num_clips)')
            inputs = torch.stack(list(inputs))
        inputs = inputs.float()
        if self.normalize:
            inputs = (inputs - self.mean) / self.std
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
