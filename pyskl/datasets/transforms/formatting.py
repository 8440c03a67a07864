"""The last steps of a pipeline: the GCN input layout (``FormatGCNInput``) and the model's input dict
(``PackActionInputs``, which replaces PYSKL's mmcv-1 ``Collect`` + ``ToTensor``)."""
from typing import Sequence

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


def _to_tensor(data) -> torch.Tensor:
    if isinstance(data, torch.Tensor):
        return data
    data = np.asarray(data)
    if np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float32, copy=False)
    return torch.from_numpy(np.ascontiguousarray(data))


@TRANSFORMS.register_module()
class PackActionInputs(BaseTransform):
    """``dict(inputs, data_samples)`` for the model.

    ``inputs``: the array ``keys[0]`` as a tensor (float arrays become float32), or a dict of tensors for several
    keys. ``data_samples``: an :class:`ActionDataSample` with ``gt_label`` from ``results['label']`` (if present) and
    the ``meta_keys`` that are present as metainfo.
    """

    def __init__(self, keys: Sequence[str] = ('keypoint', ),
                 meta_keys: Sequence[str] = ('frame_dir', 'sample_idx', 'total_frames')):
        if isinstance(keys, str):
            keys = (keys, )
        if not keys:
            raise ValueError('PackActionInputs: keys must name at least one input array')
        self.keys, self.meta_keys = tuple(keys), tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        missing = [key for key in self.keys if key not in results]
        if missing:
            raise sample_error(self, results, f'the inputs {missing} are missing (present: {sorted(results)})')
        inputs = {key: _to_tensor(results[key]) for key in self.keys}
        data_sample = ActionDataSample()
        if 'label' in results:
            data_sample.set_gt_label(results['label'])
        data_sample.set_metainfo({key: results[key] for key in self.meta_keys if key in results})
        return dict(inputs=inputs[self.keys[0]] if len(self.keys) == 1 else inputs, data_samples=data_sample)

    def __repr__(self):
        return f'{type(self).__name__}(keys={self.keys}, meta_keys={self.meta_keys})'
