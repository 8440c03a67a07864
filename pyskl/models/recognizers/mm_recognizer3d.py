"""RGBPoseConv3D's recognizer: inputs ``dict(imgs=[N, views, 3, T, H, W], heatmap_imgs=[N, views, K, T', h, w])``.

The RGB and pose scores stay apart (``pred_scores``) for the metric, which reports each stream and PYSKL's 1:1, 2:1
and 1:2 mixes. :func:`merge_stream_checkpoints` builds the model's starting weights from a trained rgb_only and
pose_only model (PYSKL's ``merge_pretrain.ipynb``; ``tools/merge_rgbpose_pretrain.py``).
"""
from collections import OrderedDict
from typing import Dict, List, NamedTuple, Optional

import torch

from pyskl.registry import MODELS
from pyskl.structures import ActionDataSample
from pyskl.utils.checkpoint import CheckpointError, get_state_dict, read_checkpoint, save_checkpoint_atomic

from .base import BaseRecognizer, samples_where

INPUT_KEYS = ('imgs', 'heatmap_imgs')


@MODELS.register_module()
class MMRecognizer3D(BaseRecognizer):
    """Training takes one view per sample; testing runs every view and averages each stream's scores over the views
    (``test_cfg.average_clips``), in chunks of ``test_cfg.max_testing_views`` views if set (same scores).

    ``predict`` sets ``pred_scores`` (``dict(rgb=[K], pose=[K])``: PYSKL's per-sample result) and ``pred_score``,
    their mean (the 1:1 fusion, which ranks classes as PYSKL's ``rgb + pose`` does) for single-score consumers.
    ``tensor`` mode returns each stream's per-view scores ``dict(rgb=[N, views, K], pose=[N, views, K])``.
    """

    chunks_test_views = True

    def check_inputs(self, inputs: Dict[str, torch.Tensor],
                     data_samples: Optional[List[ActionDataSample]] = None) -> None:
        """Fail early, naming the samples, unless inputs are ``imgs`` and ``heatmap_imgs``, each ``[N, views, C, T,
        H, W]`` with the same N and views and the pathways' input channels."""
        where = samples_where(data_samples)
        if not isinstance(inputs, dict) or set(inputs) != set(INPUT_KEYS):
            got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(f'MMRecognizer3D takes inputs dict(imgs=..., heatmap_imgs=...), got {got}{where}; the '
                             'pipeline must make RGB clips and heatmaps (FormatShape(\'NCTHW\') packs both)')
        for key, pathway in zip(INPUT_KEYS, (self.backbone.rgb_path, self.backbone.pose_path)):
            x = inputs[key]
            if x.dim() != 6:
                raise ValueError(f'MMRecognizer3D: {key} must be [N, num_views, C, T, H, W], got shape '
                                 f'{tuple(x.shape)}{where}')
            if x.shape[2] != pathway.in_channels:
                raise ValueError(f'MMRecognizer3D: {key} has C={x.shape[2]} channels{where}, but the backbone\'s '
                                 f'pathway expects in_channels={pathway.in_channels}')
        imgs, heatmaps = inputs['imgs'], inputs['heatmap_imgs']
        if imgs.shape[:2] != heatmaps.shape[:2]:
            raise ValueError(f'MMRecognizer3D: imgs {tuple(imgs.shape)} and heatmap_imgs {tuple(heatmaps.shape)} '
                             f'differ in samples or views{where}; both streams need the same clips')

    def extract_feat(self, inputs: Dict[str, torch.Tensor]):
        """Backbone features of ``dict(imgs=[B, 3, T, H, W], heatmap_imgs=[B, K, T', h, w])``."""
        return self.backbone(inputs['imgs'], inputs['heatmap_imgs'])

    def view_batches(self, inputs: Dict[str, torch.Tensor]) -> List[Dict[str, torch.Tensor]]:
        """All views as one batch ``dict(imgs=[N * views, ...], heatmap_imgs=[N * views, ...])``, split in
        ``max_testing_views`` pieces if set."""
        views = {k: v.reshape((-1, ) + v.shape[2:]) for k, v in inputs.items()}
        max_views = self.test_cfg.get('max_testing_views')
        if not max_views:
            return [views]
        chunks = {k: v.split(max_views) for k, v in views.items()}
        return [dict(zip(chunks, piece)) for piece in zip(*chunks.values())]

    def clip_scores(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Each stream's class scores for every view: ``[N, num_views, K]``."""
        pieces = [self.cls_head(self.extract_feat(views)) for views in self.view_batches(inputs)]
        num, num_views = inputs['imgs'].shape[:2]
        return {k: torch.cat([p[k] for p in pieces]).reshape(num, num_views, -1) for k in pieces[0]}

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[ActionDataSample]] = None) -> List[ActionDataSample]:
        self.check_inputs(inputs, data_samples)
        scores = {k: self.average_clip(v) for k, v in self.clip_scores(inputs).items()}
        fused = sum(scores.values()) / len(scores)
        if data_samples is None:
            data_samples = [ActionDataSample() for _ in range(len(fused))]
        for i, sample in enumerate(data_samples):
            sample.pred_scores = {k: v[i] for k, v in scores.items()}
            sample.set_pred_score(fused[i])
        return data_samples

    def _forward(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        return self.clip_scores(inputs)


class MergedStreams(NamedTuple):
    state_dict: 'OrderedDict[str, torch.Tensor]'
    padded: List[str]  # weights whose lateral input channels were added as zeros
    initialised: List[str]  # lateral keys taken from the model's own initialisation


# where each single-stream checkpoint's keys go in the RGBPose model
STREAM_PREFIXES = {
    'rgb': (('backbone.', 'backbone.rgb_path.'), ('cls_head.fc_cls.', 'cls_head.fc_rgb.')),
    'pose': (('backbone.', 'backbone.pose_path.'), ('cls_head.fc_cls.', 'cls_head.fc_pose.')),
}


def _renamed(state_dict: Dict[str, torch.Tensor], stream: str) -> Dict[str, torch.Tensor]:
    out, foreign = {}, []
    for key, value in state_dict.items():
        new = next((new + key[len(old):] for old, new in STREAM_PREFIXES[stream] if key.startswith(old)), None)
        if new is None:
            foreign.append(key)
        else:
            out[new] = value
    if foreign:
        raise CheckpointError(f'the {stream} checkpoint has keys outside backbone.* and cls_head.fc_cls.* (is it a '
                              f'Recognizer3D with an I3DHead?): {foreign[:10]}')
    return out


def _pads_input_channels(source: torch.Tensor, target: torch.Tensor) -> bool:
    """Same shape but fewer input channels (dim 1): a conv whose extra inputs are lateral features."""
    return (source.dim() == target.dim() >= 2 and source.shape[1] < target.shape[1]
            and source.shape[:1] + source.shape[2:] == target.shape[:1] + target.shape[2:])


def merge_stream_state_dicts(rgb_state: Dict[str, torch.Tensor], pose_state: Dict[str, torch.Tensor],
                             model: torch.nn.Module) -> MergedStreams:
    """RGBPoseConv3D's initial weights (``model``'s keys, shapes and order) from an rgb_only and a pose_only model's
    state dicts, as PYSKL's ``merge_pretrain.ipynb``: ``backbone.*`` -> ``backbone.{rgb,pose}_path.*``,
    ``cls_head.fc_cls`` -> ``cls_head.fc_{rgb,pose}``, and the convs that read lateral features (the first block of
    each stage after a lateral) get zero weights for those extra input channels, so the merged model starts out
    computing what the two single-stream models computed.

    The laterals themselves are in neither checkpoint: they keep ``model``'s initialisation (PYSKL left them missing
    and loaded non-strictly, which comes to the same), so the result loads strictly.
    """
    sources = {**_renamed(pose_state, 'pose'), **_renamed(rgb_state, 'rgb')}
    merged, padded, initialised, missing, mismatched = OrderedDict(), [], [], [], []
    for key, target in model.state_dict().items():
        source = sources.pop(key, None)
        if source is None:
            if '_lateral.' in key:
                merged[key] = target.clone()
                initialised.append(key)
            else:
                missing.append(key)
        elif source.shape == target.shape:
            merged[key] = source
        elif _pads_input_channels(source, target):
            merged[key] = torch.cat([source, source.new_zeros((source.shape[0], target.shape[1] - source.shape[1]) +
                                                              source.shape[2:])], dim=1)
            padded.append(key)
        else:
            mismatched.append(f'{key}: checkpoint {tuple(source.shape)}, model {tuple(target.shape)}')
    problems = [f'{what}: {keys[:10]}' for what, keys in (('missing from the checkpoints', missing),
                                                            ('not in the model', sorted(sources)),
                                                            ('shapes that do not fit', mismatched)) if keys]
    if problems:
        raise CheckpointError('the rgb_only and pose_only checkpoints do not fit the RGBPose model; ' +
                              '; '.join(problems))
    return MergedStreams(merged, padded, initialised)


def merge_stream_checkpoints(rgb_file: str, pose_file: str, out_file: str, model: torch.nn.Module) -> MergedStreams:
    """:func:`merge_stream_state_dicts` of two checkpoint files (flat, mmcv-1.x or mmengine; named by the user, so
    trusted), written atomically as ``{'state_dict': ...}`` (PYSKL's layout)."""
    rgb, pose = (get_state_dict(read_checkpoint(f, trusted=True)) for f in (rgb_file, pose_file))
    merged = merge_stream_state_dicts(rgb, pose, model)
    save_checkpoint_atomic(dict(state_dict=merged.state_dict), out_file)
    return merged
