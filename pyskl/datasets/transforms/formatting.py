"""The last steps of a pipeline: the GCN input layout (``FormatGCNInput``), the 3D-CNN clip layout (``FormatShape``)
and the model's input dict (``PackActionInputs``, which replaces PYSKL's mmcv-1 ``Collect`` + ``ToTensor``)."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from pyskl.registry import TRANSFORMS
from pyskl.structures import ActionDataSample

from .loading import sample_error


@TRANSFORMS.register_module()
class FormatGCNInput(BaseTransform):
    """Shape ``keypoint [M, num_clips * T, V, C]`` into ``[num_clips, num_person, T, V, C]`` (contiguous).

    ``keypoint_score`` (if still separate) is appended as a channel. Extra persons are dropped; missing ones are
    zeros, or with ``mode='loop'`` copies of a single person. (PYSKL tested for the single person *after* padding,
    so its loop mode never copied anything; here it does what it says.)
    """

    def __init__(self, num_person: int = 2, mode: str = 'zero'):
        if mode not in ('zero', 'loop'):
            raise ValueError(f"FormatGCNInput: mode must be 'zero' or 'loop', got {mode!r}")
        self.num_person, self.mode = num_person, mode

    def transform(self, results: dict) -> dict:
        keypoint = results['keypoint']
        if 'keypoint_score' in results:
            keypoint = np.concatenate((keypoint, results.pop('keypoint_score')[..., None]), axis=-1)
        if keypoint.ndim != 4:
            raise sample_error(self, results, f'keypoint must be [M, T, V, C], got shape {keypoint.shape}')
        M, T, V, C = keypoint.shape
        num_clips = results.get('num_clips', 1)
        if T % num_clips:
            raise sample_error(self, results, f'{T} frames do not split into {num_clips} clips')

        kept = min(M, self.num_person)
        clips = keypoint[:kept].reshape(kept, num_clips, T // num_clips, V, C).transpose(1, 0, 2, 3, 4)
        out = np.zeros((num_clips, self.num_person, T // num_clips, V, C), dtype=keypoint.dtype)
        out[:, :kept] = clips
        if self.mode == 'loop' and M == 1:
            out[:, 1:] = out[:, :1]
        results['keypoint'] = out
        return results

    def __repr__(self):
        return f'{type(self).__name__}(num_person={self.num_person}, mode={self.mode!r})'


def _as_array(imgs) -> np.ndarray:
    return imgs if isinstance(imgs, np.ndarray) else np.stack(imgs)


@TRANSFORMS.register_module()
class FormatShape(BaseTransform):
    """Lay frames out as clips for a 3D CNN: ``[num_views, C, clip_len, H, W]``, ``num_views`` clips of
    ``results['clip_len']`` frames.

    - ``'NCTHW_Heatmap'``: heatmaps ``imgs`` ``[num_views * clip_len, K, H, W]`` (K joints or limbs become the
      channels). ``num_views`` is ``num_clips``, or twice that after ``GeneratePoseTarget(double=True)``, which
      appends the flipped frames after all clips.
    - ``'NCTHW'``: frames ``imgs`` ``[N_crops * num_clips * clip_len, H, W, C]`` (a list or an array; a dict
      ``clip_len`` gives its ``'RGB'`` entry); RGBPose's ``heatmap_imgs`` (if present) as ``'NCTHW_Heatmap'``
      with ``clip_len['Pose']``, its shape in ``heatmap_input_shape``.
    - ``'NCHW'``: frames ``imgs`` ``[N, H, W, C]`` -> ``[N, C, H, W]``.

    Sets ``input_shape``.
    """

    input_formats = ('NCTHW', 'NCHW', 'NCTHW_Heatmap')

    def __init__(self, input_format: str):
        if input_format not in self.input_formats:
            raise ValueError(f'FormatShape: input_format must be one of {self.input_formats}, got {input_format!r}')
        self.input_format = input_format

    def _clip_len(self, results: dict, modality: str) -> int:
        for key in ('clip_len', 'num_clips'):
            if key not in results:
                raise sample_error(self, results, f'needs {key!r} (set by the frame sampler)')
        clip_len = results['clip_len']
        if isinstance(clip_len, dict):
            if modality not in clip_len:
                raise sample_error(self, results, f'clip_len {clip_len} has no {modality!r} entry')
            clip_len = clip_len[modality]
        return clip_len

    def _clips(self, results: dict, key: str, clip_len: int) -> np.ndarray:
        """``results[key]`` as an array whose frames split into ``num_clips`` clips of ``clip_len`` per view."""
        if key not in results:
            raise sample_error(self, results, f'needs {key!r} for {self.input_format}')
        frames = _as_array(results[key])
        per_view = results['num_clips'] * clip_len
        if frames.shape[0] % per_view:
            raise sample_error(self, results, f'the {frames.shape[0]} frames of {key} do not split into '
                               f"{results['num_clips']} clips of {clip_len}")
        return frames

    def _heatmap_layout(self, results: dict, key: str, clip_len: int) -> np.ndarray:
        """``[views * clips * clip_len, K, H, W]`` -> ``[views * clips, K, clip_len, H, W]``, deferred points
        ``[M, clips * clip_len, V, 3]`` -> ``[clips, M, clip_len, V, 3]``.

        The volume comes back as a transposed view, not a copy: a 10-clip flip-test volume is 270 MB, and the batch
        is copied once anyway when the data preprocessor stacks it.
        """
        if 'heatmap_cfg' in results:  # GeneratePoseTarget(deferred=True): points, rendered by the data preprocessor
            points = results[key]
            if points.ndim != 4 or points.shape[1] % (results['num_clips'] * clip_len):
                raise sample_error(self, results, f'deferred points {points.shape} do not split into '
                                   f"{results['num_clips']} clips of {clip_len} frames")
            clips = points.reshape(points.shape[0], -1, clip_len, *points.shape[2:])
            return np.ascontiguousarray(clips.transpose(1, 0, 2, 3, 4))
        heatmaps = self._clips(results, key, clip_len)
        clips = heatmaps.reshape((-1, clip_len) + heatmaps.shape[1:])
        return clips.transpose(0, 2, 1, 3, 4)

    def _format_heatmaps(self, results: dict):
        imgs = results['imgs'] = self._heatmap_layout(results, 'imgs', self._clip_len(results, 'Pose'))
        results['input_shape'] = imgs.shape

    def _format_frames(self, results: dict):
        if 'imgs' in results:
            clip_len = self._clip_len(results, 'RGB')
            frames = self._clips(results, 'imgs', clip_len)
            clips = frames.reshape((-1, clip_len) + frames.shape[1:])  # [views, L, H, W, C]
            imgs = results['imgs'] = np.ascontiguousarray(clips.transpose(0, 4, 1, 2, 3))
            results['input_shape'] = imgs.shape
        if 'heatmap_imgs' in results:
            heatmaps = self._heatmap_layout(results, 'heatmap_imgs', self._clip_len(results, 'Pose'))
            results['heatmap_imgs'] = heatmaps
            results['heatmap_input_shape'] = heatmaps.shape

    def transform(self, results: dict) -> dict:
        if self.input_format == 'NCTHW_Heatmap':
            self._format_heatmaps(results)
        elif self.input_format == 'NCTHW':
            self._format_frames(results)
        elif 'imgs' in results:  # NCHW
            imgs = results['imgs'] = _as_array(results['imgs']).transpose(0, 3, 1, 2)
            results['input_shape'] = imgs.shape
        return results

    def __repr__(self):
        return f'{type(self).__name__}(input_format={self.input_format!r})'


def _to_tensor(data) -> torch.Tensor:
    """A tensor sharing the array's memory where torch can (any non-negative strides): big heatmap volumes are not
    copied here; the data preprocessor's stacking makes the batch contiguous."""
    if isinstance(data, torch.Tensor):
        return data
    data = np.asarray(data)
    if np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float32, copy=False)
    if any(stride < 0 for stride in data.strides) or not data.flags.aligned:
        data = np.ascontiguousarray(data)
    return torch.from_numpy(data)


@TRANSFORMS.register_module()
class PackActionInputs(BaseTransform):
    """``dict(inputs, data_samples)`` for the model.

    ``inputs``: the array ``keys[0]`` as a tensor (float arrays become float32), or a dict of tensors for several
    keys. Without ``keys``: ``imgs`` (a dict of ``imgs`` and ``heatmap_imgs`` when both are present, RGBPose) if
    the pipeline made images, else ``keypoint``. ``data_samples``: an :class:`ActionDataSample` with ``gt_label``
    from ``results['label']`` (if present) and the ``meta_keys`` that are present as metainfo (``heatmap_cfg``:
    the render settings of deferred heatmaps, for the data preprocessor).
    """

    image_keys = ('imgs', 'heatmap_imgs')

    def __init__(self, keys: Optional[Sequence[str]] = None,
                 meta_keys: Sequence[str] = ('frame_dir', 'sample_idx', 'total_frames', 'heatmap_cfg')):
        if isinstance(keys, str):
            keys = (keys, )
        if keys is not None and not keys:
            raise ValueError('PackActionInputs: keys must name at least one input array')
        self.keys = None if keys is None else tuple(keys)
        self.meta_keys = tuple(meta_keys)

    def _input_keys(self, results: dict) -> tuple:
        if self.keys is not None:
            return self.keys
        return tuple(key for key in self.image_keys if key in results) or ('keypoint', )

    def transform(self, results: dict) -> dict:
        keys = self._input_keys(results)
        missing = [key for key in keys if key not in results]
        if missing:
            raise sample_error(self, results, f'the inputs {missing} are missing (present: {sorted(results)})')
        inputs = {key: _to_tensor(results[key]) for key in keys}
        data_sample = ActionDataSample()
        if 'label' in results:
            data_sample.set_gt_label(results['label'])
        data_sample.set_metainfo({key: results[key] for key in self.meta_keys if key in results})
        return dict(inputs=inputs[keys[0]] if len(keys) == 1 else inputs, data_samples=data_sample)

    def __repr__(self):
        return f'{type(self).__name__}(keys={self.keys}, meta_keys={self.meta_keys})'
