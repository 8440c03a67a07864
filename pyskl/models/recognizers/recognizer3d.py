"""3D-CNN recognizer (PoseC3D): inputs ``[N, num_views, C, T, H, W]``; a view is one clip (or its flipped copy)."""
from typing import List, Optional

import torch

from pyskl.registry import MODELS
from pyskl.structures import ActionDataSample

from .base import BaseRecognizer, samples_where


@MODELS.register_module()
class Recognizer3D(BaseRecognizer):
    """Training takes one view per sample; testing runs every view and averages their scores (``test_cfg``).

    ``test_cfg.max_testing_views`` (PYSKL's option) bounds how many views go through the network at once; it saves
    memory and leaves the scores unchanged. Multi-clip and double-flip test views (``[2 * num_clips, C, T, H, W]``
    per sample) are all just views, weighted equally.
    """

    chunks_test_views = True
    one_view_error = ('{name} trains on one view per sample, got {views} views{where}; set num_clips=1 (and no '
                      'double flip) in the train pipeline')

    def check_inputs(self, inputs: torch.Tensor, data_samples: Optional[List[ActionDataSample]] = None) -> None:
        """Fail early, naming the samples, when inputs are not ``[N, views, C, T, H, W]`` with the backbone's C."""
        where = samples_where(data_samples)
        if inputs.dim() != 6:
            raise ValueError(f'Recognizer3D takes inputs [N, num_views, C, T, H, W], got shape '
                             f'{tuple(inputs.shape)}{where}; each sample\'s imgs must be [num_views, C, T, H, W]')
        in_channels = getattr(self.backbone, 'in_channels', None)
        if in_channels is not None and inputs.shape[2] != in_channels:
            raise ValueError(f'Inputs have C={inputs.shape[2]} channels{where}, but {type(self.backbone).__name__} '
                             f'expects in_channels={in_channels}. Check the heatmap channels (keypoints or limbs) '
                             'the pipeline generates against the backbone config.')

    def view_batches(self, inputs: torch.Tensor):
        """All views as one batch ``[N * num_views, C, T, H, W]``, split in ``max_testing_views`` pieces if set."""
        views = inputs.reshape((-1, ) + inputs.shape[2:])
        max_views = self.test_cfg.get('max_testing_views')
        return views.split(max_views) if max_views else (views, )

    def clip_scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """Class scores of every view: ``[N, num_views, K]``."""
        scores = torch.cat([self.cls_head(self.extract_feat(views)) for views in self.view_batches(inputs)])
        return scores.reshape(inputs.shape[0], inputs.shape[1], -1)

    def extract_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """PYSKL's ``feat_ext``: backbone features pooled over T, H, W (pathways concatenated) and averaged over
        the views: ``[N, C']``."""
        feats = []
        for views in self.view_batches(inputs):
            feat = self.extract_feat(views)
            feat = feat if isinstance(feat, (tuple, list)) else (feat, )
            feats.append(torch.cat([f.mean(dim=(2, 3, 4)) for f in feat], dim=1))
        return torch.cat(feats).reshape(inputs.shape[0], inputs.shape[1], -1).mean(dim=1)
