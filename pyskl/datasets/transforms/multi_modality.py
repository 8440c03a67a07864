"""RGBPoseConv3D's steps: RGB frames and skeletons of one sample, sampled, decoded and cropped together.

``MMUniformSampleFrames`` draws each modality's frames (``RGB_inds``, ``Pose_inds``), ``MMDecode`` decodes the
video's frames and gathers the skeletons' (keypoints rescaled to the video's size), ``MMCompact`` crops both to the
box around the skeletons (zero-padding the frames where the box leaves them) and ``MMPad`` pads both to a size. The
later steps (``Resize``, ``RandomResizedCrop``, ``Flip``, ``GeneratePoseTarget`` into ``heatmap_imgs``,
``Normalize``, ``FormatShape('NCTHW')``) treat ``imgs`` and ``keypoint`` alike.
"""
from typing import Dict, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.utils import to_2tuple

from pyskl.registry import TRANSFORMS
from pyskl.utils.video import BACKENDS, DECODE_MODES

from .crop_resize import PoseCompact, _image_size
from .loading import gather_pose_frames, sample_error
from .sampling import UniformSampleFrames
from .video import _check_io_backend, decode_frames, open_sample_video

MODALITIES = ('RGB', 'Pose')


@TRANSFORMS.register_module()
class MMUniformSampleFrames(BaseTransform):
    """:class:`UniformSampleFrames` once per modality, each with its own clip length: ``clip_len=dict(RGB=8,
    Pose=32)`` sets ``RGB_inds`` (8 x ``num_clips``) and ``Pose_inds`` (32 x ``num_clips``) in ``[0,
    total_frames)``. ``clip_len`` is kept as the dict (``FormatShape`` reads each modality's entry) and ``modality``
    becomes the list of modalities (unless it is a list already).

    Training draws the modalities in the dict's order from numpy's global RNG; test mode gives each modality the
    indices ``UniformSampleFrames(clip_len, seed=seed)`` would (PYSKL re-seeded for each), so both are PYSKL's. Short
    crops loop (PYSKL's rule; video frames have no fractional indices for the other ``short_clip`` modes).
    """

    def __init__(self, clip_len: Dict[str, int], num_clips: int = 1, p_interval=1, seed: int = 255):
        if not isinstance(clip_len, dict) or not clip_len:
            raise TypeError(f'MMUniformSampleFrames: clip_len must be a dict {{modality: frames}}, got {clip_len!r}')
        unknown = sorted(set(clip_len) - set(MODALITIES))
        if unknown:
            raise ValueError(f'MMUniformSampleFrames: unknown modalities {unknown}; known: {MODALITIES}')
        self.clip_len, self.num_clips = dict(clip_len), num_clips
        self.samplers = {modality: UniformSampleFrames(length, num_clips, p_interval, seed)
                         for modality, length in self.clip_len.items()}

    def transform(self, results: dict) -> dict:
        total_frames = int(results['total_frames'])
        if total_frames < 1:
            raise sample_error(self, results, f'total_frames must be positive, got {total_frames}')
        keypoint = results.get('keypoint')
        if keypoint is not None and keypoint.ndim == 4 and keypoint.shape[1] != total_frames:
            raise sample_error(self, results, f'total_frames is {total_frames} but keypoint has {keypoint.shape[1]} '
                               f'frames (shape {keypoint.shape})')
        test_mode = bool(results.get('test_mode', False))
        for modality, sampler in self.samplers.items():
            results[f'{modality}_inds'] = np.array(sampler.frame_indices(total_frames, test_mode))
        results['clip_len'] = dict(self.clip_len)
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        if not isinstance(results.get('modality'), list):
            results['modality'] = list(self.clip_len)
        return results

    def __repr__(self):
        sampler = next(iter(self.samplers.values()))
        return (f'{type(self).__name__}(clip_len={self.clip_len}, num_clips={self.num_clips}, '
                f'p_interval={sampler.p_interval}, seed={sampler.seed})')


@TRANSFORMS.register_module()
class MMDecode(BaseTransform):
    """Decode each modality of ``modality`` at its ``<modality>_inds``: ``'RGB'``: the video ``filename`` (else
    ``frame_dir + '.mp4'``; ``frame_dir`` already holds the dataset's ``data_prefix``) into ``imgs`` ``[N, H, W,
    3]``; ``'Pose'``: ``keypoint`` / ``keypoint_score`` as :class:`PoseDecode` (scores of 1 when absent).

    When the video's size differs from ``img_shape`` (the size the skeletons were found in, e.g. before the video was
    compressed), x and y are rescaled to the video's and ``img_shape`` / ``original_shape`` become its size.

    Args:
        io_backend: ``'disk'`` only.
        backend: the video back-end, as :class:`DecordInit`'s.
        num_threads: decoding threads.
        mode: the decode mode, as :class:`DecordDecode`'s.
    """

    def __init__(self, io_backend: str = 'disk', backend: str = 'auto', num_threads: int = 1,
                 mode: str = 'accurate'):
        _check_io_backend('MMDecode', io_backend)
        if backend not in BACKENDS or mode not in DECODE_MODES:
            raise ValueError(f'MMDecode: backend must be one of {BACKENDS} and mode one of {DECODE_MODES}, got '
                             f'{backend!r} and {mode!r}')
        self.io_backend, self.backend, self.num_threads, self.mode = io_backend, backend, num_threads, mode

    def _indices(self, results: dict, modality: str) -> np.ndarray:
        key = f'{modality}_inds'
        if key not in results:
            raise sample_error(self, results, f'needs {key!r} (put MMUniformSampleFrames before it)')
        inds = results[key] = np.asarray(results[key]).reshape(-1)
        return inds

    def _decode_pose(self, results: dict, inds: np.ndarray) -> None:
        if 'keypoint' not in results:
            raise sample_error(self, results, "the 'Pose' modality needs 'keypoint'")
        if 'keypoint_score' not in results:
            results['keypoint_score'] = np.ones(results['keypoint'].shape[:-1], dtype=np.float32)
        gather_pose_frames(self, results, inds)

    def _rescale_to_video(self, results: dict) -> None:
        video_shape = tuple(results['imgs'].shape[1:3])
        skeleton_shape = tuple(results.get('img_shape', video_shape))
        if 'keypoint' in results and skeleton_shape != video_shape:
            factor = np.array([video_shape[1] / skeleton_shape[1], video_shape[0] / skeleton_shape[0]])
            keypoint = results['keypoint'].astype(np.float32)  # a copy; float16 annotations become float32
            keypoint[..., :2] *= factor.astype(np.float32)
            results['keypoint'] = keypoint
        results['img_shape'] = results['original_shape'] = video_shape

    def transform(self, results: dict) -> dict:
        modalities = results.get('modality')
        if not isinstance(modalities, list):
            raise sample_error(self, results, f"needs 'modality' as a list of modalities (set by "
                               f'MMUniformSampleFrames), got {modalities!r}')
        for modality in modalities:
            if modality not in MODALITIES:
                raise sample_error(self, results, f'cannot decode modality {modality!r}; known: {MODALITIES}')
            inds = self._indices(results, modality)
            if modality == 'RGB':
                reader = open_sample_video(self, results, self.backend, self.num_threads)
                results['imgs'] = decode_frames(self, reader, inds, self.mode)
            else:
                self._decode_pose(results, inds)
        if 'imgs' in results:
            self._rescale_to_video(results)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(io_backend={self.io_backend!r}, backend={self.backend!r}, '
                f'num_threads={self.num_threads}, mode={self.mode!r})')


def _as_frames(transform, results: dict) -> np.ndarray:
    """``imgs`` as one ``[N, H, W, C]`` array whose frames are ``img_shape`` large."""
    imgs = results['imgs']
    imgs = imgs if isinstance(imgs, np.ndarray) else np.stack(imgs)
    if imgs.ndim != 4 or tuple(imgs.shape[1:3]) != tuple(results['img_shape']):
        raise sample_error(transform, results, f"needs imgs [N, H, W, C] of img_shape {results['img_shape']}, got "
                           f'shape {imgs.shape}')
    return imgs


def crop_padded(imgs: np.ndarray, box: tuple, fill=0) -> np.ndarray:
    """``imgs[:, min_y:max_y, min_x:max_x]`` for a box ``(min_x, min_y, max_x, max_y)`` that may reach outside the
    frames; the part outside is ``fill``."""
    min_x, min_y, max_x, max_y = box
    height, width = imgs.shape[1:3]
    out = np.full((imgs.shape[0], max_y - min_y, max_x - min_x) + imgs.shape[3:], fill, dtype=imgs.dtype)
    src_x, src_y = slice(max(min_x, 0), min(max_x, width)), slice(max(min_y, 0), min(max_y, height))
    if src_x.start < src_x.stop and src_y.start < src_y.stop:
        out[:, src_y.start - min_y:src_y.stop - min_y, src_x.start - min_x:src_x.stop - min_x] = imgs[:, src_y, src_x]
    return out


@TRANSFORMS.register_module()
class MMCompact(PoseCompact):
    """:class:`PoseCompact` (same box, same keypoints) that also crops ``imgs`` to the box, with zeros where the box
    leaves the frames (``allow_imgpad``). Its ``hw_ratio`` defaults to 1 (square crops), as PYSKL's."""

    def __init__(self, padding: float = 0.25, threshold: float = 10, hw_ratio=1, allow_imgpad: bool = True):
        super().__init__(padding, threshold, hw_ratio, allow_imgpad)

    def transform(self, results: dict) -> dict:
        box = self.compact_box(results)
        if box is None:
            return results
        if 'imgs' in results:
            results['imgs'] = crop_padded(_as_frames(self, results), box)
        self.move_into(results, box)
        return results


@TRANSFORMS.register_module()
class MMPad(BaseTransform):
    """Pad the frame to ``(1 + padding)`` times its size, grown further to the height / width ratio ``hw_ratio``
    (a number or ``(low, high)``, as :class:`PoseCompact`'s), centred: ``imgs`` padded with 127 and every keypoint
    (missing ones too, as PYSKL's) moved by the top-left margin; ``img_shape`` becomes the new size.

    Args:
        hw_ratio: None, a number or a ``(low, high)`` pair.
        padding: growth of each side, as a fraction of the size.
    """

    fill = 127

    def __init__(self, hw_ratio: Union[None, float, tuple] = None, padding: float = 0.):
        if padding < 0:
            raise ValueError(f'MMPad: padding must be >= 0, got {padding}')
        self.hw_ratio = None if hw_ratio is None else tuple(to_2tuple(hw_ratio))
        self.padding = padding

    def transform(self, results: dict) -> dict:
        old_h, old_w = _image_size(self, results)
        height, width = old_h * (1 + self.padding), old_w * (1 + self.padding)
        if self.hw_ratio is not None:
            height = max(self.hw_ratio[0] * width, height)
            width = max(1 / self.hw_ratio[1] * height, width)
        height, width = int(height + 0.5), int(width + 0.5)
        top, left = (height - old_h) // 2, (width - old_w) // 2
        if 'keypoint' in results:
            keypoint = results['keypoint'].astype(np.float32)
            keypoint[..., :2] += np.array([left, top], dtype=np.float32)
            results['keypoint'] = keypoint
        if 'imgs' in results:
            results['imgs'] = crop_padded(_as_frames(self, results), (-left, -top, width - left, height - top),
                                          self.fill)
        results['img_shape'] = (height, width)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(hw_ratio={self.hw_ratio}, padding={self.padding})'
