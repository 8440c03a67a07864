"""GCN recognizer: inputs ``[N, num_clips, M, T, V, C]``."""
from typing import List, Optional

import torch

from pyskl.registry import MODELS
from pyskl.structures import ActionDataSample

from .base import BaseRecognizer, samples_where


@MODELS.register_module()
class RecognizerGCN(BaseRecognizer):
    """Training takes one clip per sample; testing runs every clip and averages their scores (``test_cfg``)."""

    one_view_error = '{name} trains on one clip per sample, got {views} clips; set num_clips=1 in the train pipeline'

    def expected_joints_and_channels(self):
        """``(V, C)`` the backbone takes: V from its graph, C from ``in_channels`` (None where unknown)."""
        graph = getattr(self.backbone, 'graph', None)
        num_node = None if graph is None else int(graph.A.shape[-1])
        return num_node, getattr(self.backbone, 'in_channels', None)

    def check_inputs(self, inputs: torch.Tensor, data_samples: Optional[List[ActionDataSample]] = None) -> None:
        """Fail early, naming the samples, when inputs do not fit the backbone (rank, joints, channels)."""
        where = samples_where(data_samples)
        if inputs.dim() != 6:
            raise ValueError(f'RecognizerGCN takes inputs [N, num_clips, M, T, V, C], got shape '
                             f'{tuple(inputs.shape)}{where}; each keypoint array must be [M, T, V, C]')
        num_node, in_channels = self.expected_joints_and_channels()
        V, C = inputs.shape[-2:]
        if (num_node is not None and V != num_node) or (in_channels is not None and C != in_channels):
            layout = getattr(getattr(self.backbone, 'graph', None), 'layout', None)
            raise ValueError(
                f'Inputs have V={V} joints and C={C} channels{where}, but {type(self.backbone).__name__} expects '
                f'V={num_node} (graph layout {getattr(layout, "name", layout)!r}) and C={in_channels} (in_channels). '
                'Check the keypoint arrays, graph_cfg.layout and the features GenSkeFeat concatenates.')

    def clip_scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """Class scores of every clip: ``[N, num_clips, K]``."""
        bs, nc = inputs.shape[:2]
        scores = self.cls_head(self.extract_feat(inputs.reshape((bs * nc, ) + inputs.shape[2:])))
        return scores.reshape(bs, nc, -1)
