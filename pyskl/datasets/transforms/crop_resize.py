"""Spatial transforms of PoseC3D's pipelines, on 2D ``keypoint`` ``[M, T, V, C]`` (x, y first) and, when present,
on ``imgs`` (a list of ``[H, W(, C)]`` frames or one ``[N, H, W(, C)]`` array).

Every step keeps ``img_shape`` ``(h, w)`` true for the keypoints and PYSKL's bookkeeping: ``crop_quadruple``
``(x, y, w, h)``, the crop so far as fractions of the original frame (a tuple after ``PoseCompact``, a float32
array after the crops, as in PYSKL), ``crop_bbox`` (the last crop, in pixels) and ``scale_factor`` (the product of
all resizes, float32 ``(sx, sy)``). The random crops draw PYSKL's numbers in PYSKL's order, so the same seeds give the
same crops.
"""
import math
import random
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.image import imresize, rescale_size
from mmcv.transforms import BaseTransform
from mmengine.utils import to_2tuple

from pyskl.registry import TRANSFORMS

from .loading import sample_error


def _image_size(transform, results: dict) -> tuple:
    if 'img_shape' not in results:
        raise sample_error(transform, results, 'needs img_shape (h, w)')
    img_h, img_w = results['img_shape']
    return img_h, img_w


def _keypoint(transform, results: dict) -> np.ndarray:
    keypoint = results.get('keypoint')
    if keypoint is None:
        raise sample_error(transform, results, 'needs keypoint')
    if keypoint.ndim != 4 or keypoint.shape[-1] < 2:
        raise sample_error(transform, results, f'keypoint must be [M, T, V, C] with x, y first, got shape '
                           f'{keypoint.shape}')
    return keypoint


def _xy_vector(values, channels: int, dtype, fill=0) -> np.ndarray:
    """``(vx, vy, fill, ...)``: applies an x/y offset or factor to all of ``keypoint``'s channels in one step."""
    vector = np.full(channels, fill, dtype=dtype)
    vector[:2] = values
    return vector


def _crop(results: dict, left: int, top: int, width: int, height: int):
    """Crop ``[left, left + width) x [top, top + height)`` out of the current frame: keypoints, images and the
    bookkeeping keys, as PYSKL's ``RandomCrop`` family does."""
    img_h, img_w = results['img_shape']
    old = results.get('crop_quadruple', (0., 0., 1., 1.))
    # PYSKL mixes float32 and float64 scalars here; float64 arithmetic stored as float32 differs by at most an ulp
    results['crop_quadruple'] = np.array([old[0] + left / img_w * old[2], old[1] + top / img_h * old[3],
                                          width / img_w * old[2], height / img_h * old[3]], dtype=np.float32)
    results['crop_bbox'] = np.array([left, top, left + width, top + height])
    results['img_shape'] = (height, width)
    if 'keypoint' in results:
        # Every joint moves, the missing ones (0, 0) too, as in PYSKL: they leave the origin, but their score is 0.
        # (PYSKL subtracts an int64 box, so its keypoints become float64; they keep their dtype here.)
        keypoint = results['keypoint']
        results['keypoint'] = keypoint - _xy_vector((left, top), keypoint.shape[-1], keypoint.dtype)
    if 'imgs' in results:
        imgs = results['imgs']
        window = np.s_[top:top + height, left:left + width]
        results['imgs'] = [img[window] for img in imgs] if isinstance(imgs, list) else imgs[(slice(None), ) + window]


@TRANSFORMS.register_module()
class PoseCompact(BaseTransform):
    """Crop the frame to the box around all skeletons, so that they fill the heatmaps.

    The box spans every non-zero x and every non-zero y of all persons and frames (0 marks a missing joint; NaN
    becomes 0 first), grows by ``padding`` about its centre and, with ``hw_ratio``, grows to at least
    ``hw_ratio[0]`` times as high as wide and ``1 / hw_ratio[1]`` times as wide as high. Its corners are truncated
    to ints (towards zero, as PYSKL) after clipping to the frame unless ``allow_imgpad``. Non-zero coordinates move
    into the box; ``img_shape`` becomes its size and ``crop_quadruple`` composes it. A box narrower or lower than
    ``threshold`` pixels leaves everything as it is.

    Args:
        padding: growth of each side of the tight box, as a fraction of its size.
        threshold: smallest tight-box width and height (pixels) that is cropped to.
        hw_ratio: None, a number or a ``(low, high)`` pair of height / width ratios.
        allow_imgpad: let the box reach outside the frame (else it is clipped to the frame).
    """

    def __init__(self, padding: float = 0.25, threshold: float = 10, hw_ratio=None, allow_imgpad: bool = True):
        if padding < 0:
            raise ValueError(f'PoseCompact: padding must be >= 0, got {padding}')
        self.padding, self.threshold, self.allow_imgpad = padding, threshold, allow_imgpad
        self.hw_ratio = None if hw_ratio is None else tuple(to_2tuple(hw_ratio))

    def _box(self, low: np.ndarray, high: np.ndarray, img_h, img_w) -> tuple:
        """The corners ``(min_x, min_y, max_x, max_y)`` of the expanded tight box ``low .. high`` ((x, y) pairs)."""
        # PYSKL's arithmetic, step for step and in the keypoints' own float type: int() can hinge on the last bit
        center = (high + low) / 2
        half_w, half_h = (high - low) / 2 * (1 + self.padding)
        if self.hw_ratio is not None:
            half_h = max(self.hw_ratio[0] * half_w, half_h)
            half_w = max(1 / self.hw_ratio[1] * half_h, half_w)
        min_x, max_x = center[0] - half_w, center[0] + half_w
        min_y, max_y = center[1] - half_h, center[1] + half_h
        if not self.allow_imgpad:
            min_x, min_y, max_x, max_y = max(0, min_x), max(0, min_y), min(img_w, max_x), min(img_h, max_y)
        return int(min_x), int(min_y), int(max_x), int(max_y)

    def compact_box(self, results: dict) -> Optional[tuple]:
        """The crop ``(min_x, min_y, max_x, max_y)`` (ints; may reach outside the frame with ``allow_imgpad``), or
        None when the skeletons' box is under ``threshold``. NaN keypoints become 0 in ``results`` either way."""
        img_h, img_w = _image_size(self, results)
        keypoint = _keypoint(self, results)
        nan = np.isnan(keypoint)
        if nan.any():  # PYSKL zeroes NaNs even when it then leaves the box alone
            keypoint = results['keypoint'] = np.where(nan, 0, keypoint)

        # rows x and y: numpy reduces contiguous rows several times faster than the columns of [N, 2]
        coords = keypoint[..., :2].reshape(-1, 2).T.copy()
        missing = coords == 0
        coords[missing] = np.inf
        low = coords.min(axis=1)
        coords[missing] = -np.inf
        high = coords.max(axis=1)
        if (high - low < self.threshold).any():  # also true when no joint is present (-inf - inf)
            return None
        return self._box(low, high, img_h, img_w)

    def move_into(self, results: dict, box: tuple) -> None:
        """Move the keypoints into ``box`` and update ``img_shape`` and ``crop_quadruple``."""
        img_h, img_w = results['img_shape']
        min_x, min_y, max_x, max_y = box
        keypoint = results['keypoint']
        # only non-zero coordinates move (zero means missing); each of x and y on its own, as in PYSKL
        offset = _xy_vector((min_x, min_y), keypoint.shape[-1], keypoint.dtype)
        results['keypoint'] = np.where(keypoint != 0, keypoint - offset, keypoint)
        results['img_shape'] = (max_y - min_y, max_x - min_x)
        old = results.get('crop_quadruple', (0., 0., 1., 1.))
        fractions = (min_x / img_w, min_y / img_h, (max_x - min_x) / img_w, (max_y - min_y) / img_h)
        results['crop_quadruple'] = (old[0] + old[2] * fractions[0], old[1] + old[3] * fractions[1],
                                     old[2] * fractions[2], old[3] * fractions[3])

    def transform(self, results: dict) -> dict:
        box = self.compact_box(results)
        if box is not None:
            self.move_into(results, box)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(padding={self.padding}, threshold={self.threshold}, '
                f'hw_ratio={self.hw_ratio}, allow_imgpad={self.allow_imgpad})')


@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Resize the frame: keypoints are multiplied by ``(new_w / w, new_h / h)``, ``imgs`` resized with mmcv.

    Args:
        scale: with ``keep_ratio``, a float factor, or a ``(w, h)`` pair: the largest size whose long side is at
            most ``max(scale)`` and short side at most ``min(scale)``; a pair holding -1, ``(-1, s)`` or ``(s, -1)``,
            sets the *short* side to ``s`` (PYSKL's and MMAction2's reading of both). Without ``keep_ratio``, the
            output ``(w, h)``. New sizes round as mmcv's ``rescale_size``: ``int(side * factor + 0.5)``.
        keep_ratio: keep the aspect ratio.
        interpolation: mmcv's ``imresize`` interpolation for ``imgs``.
    """

    def __init__(self, scale: Union[float, Sequence[int]], keep_ratio: bool = True, interpolation: str = 'bilinear'):
        if isinstance(scale, float):
            if scale <= 0 or not keep_ratio:
                raise ValueError(f'Resize: a float scale is a positive factor for keep_ratio=True, got {scale} '
                                 f'with keep_ratio={keep_ratio}')
        elif isinstance(scale, (tuple, list)) and len(scale) == 2:
            scale = tuple(scale)
            if min(scale) == -1:
                if not keep_ratio:
                    raise ValueError(f'Resize: scale {scale} (a short side) needs keep_ratio=True')
                scale = (math.inf, max(scale))
        else:
            raise TypeError(f'Resize: scale must be a float factor or a (w, h) pair, got {scale!r}')
        self.scale, self.keep_ratio, self.interpolation = scale, keep_ratio, interpolation

    def transform(self, results: dict) -> dict:
        img_h, img_w = _image_size(self, results)
        new_w, new_h = rescale_size((img_w, img_h), self.scale) if self.keep_ratio else self.scale
        factor = np.array([new_w / img_w, new_h / img_h], dtype=np.float32)

        results['img_shape'] = (new_h, new_w)
        results['keep_ratio'] = self.keep_ratio
        results['scale_factor'] = results.get('scale_factor', np.ones(2, dtype=np.float32)) * factor
        if 'imgs' in results:
            resized = [imresize(img, (new_w, new_h), interpolation=self.interpolation) for img in results['imgs']]
            results['imgs'] = resized if isinstance(results['imgs'], list) else np.stack(resized)
        if 'keypoint' in results:
            keypoint = _keypoint(self, results)
            results['keypoint'] = keypoint * _xy_vector(factor, keypoint.shape[-1], np.float32, fill=1)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(scale={self.scale}, keep_ratio={self.keep_ratio}, '
                f'interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """Inception-style random crop (the resize is a later ``Resize``).

    Ten candidate boxes of ``area_range`` times the frame's area and an aspect ratio (w / h) log-uniform in
    ``aspect_ratio_range`` are drawn at once from numpy's global RNG (the ratios, then the areas); the first that
    fits the frame is placed at a random offset drawn with Python's ``random.randint`` (x, then y), as in PYSKL.
    When none fits, the centred square of the short side is taken.
    """

    max_attempts = 10

    def __init__(self, area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3)):
        area_range, aspect_ratio_range = tuple(area_range), tuple(aspect_ratio_range)
        if len(area_range) != 2 or not 0 < area_range[0] <= area_range[1] <= 1:
            raise ValueError(f'RandomResizedCrop: area_range must be (low, high) with 0 < low <= high <= 1, got '
                             f'{area_range}')
        if len(aspect_ratio_range) != 2 or not 0 < aspect_ratio_range[0] <= aspect_ratio_range[1]:
            raise ValueError(f'RandomResizedCrop: aspect_ratio_range must be (low, high) with 0 < low <= high, got '
                             f'{aspect_ratio_range}')
        self.area_range, self.aspect_ratio_range = area_range, aspect_ratio_range
        self._log_ratio_range = tuple(np.log(aspect_ratio_range))

    def crop_box(self, img_h: int, img_w: int) -> tuple:
        """``(left, top, width, height)`` of a random crop of an ``img_h x img_w`` frame."""
        aspect_ratios = np.exp(np.random.uniform(*self._log_ratio_range, size=self.max_attempts))
        areas = np.random.uniform(*self.area_range, size=self.max_attempts) * (img_h * img_w)
        widths = np.round(np.sqrt(areas * aspect_ratios)).astype(np.int32)
        heights = np.round(np.sqrt(areas / aspect_ratios)).astype(np.int32)
        fits = np.flatnonzero((widths <= img_w) & (heights <= img_h))
        if fits.size:
            width, height = int(widths[fits[0]]), int(heights[fits[0]])
            left = random.randint(0, img_w - width)
            top = random.randint(0, img_h - height)
            return left, top, width, height
        side = min(img_h, img_w)
        return (img_w - side) // 2, (img_h - side) // 2, side, side

    def transform(self, results: dict) -> dict:
        img_h, img_w = _image_size(self, results)
        _crop(results, *self.crop_box(img_h, img_w))
        return results

    def __repr__(self):
        return f'{type(self).__name__}(area_range={self.area_range}, aspect_ratio_range={self.aspect_ratio_range})'


@TRANSFORMS.register_module()
class CenterCrop(BaseTransform):
    """Crop ``crop_size`` (an int or ``(w, h)``) out of the middle of the frame (offsets rounded down)."""

    def __init__(self, crop_size: Union[int, Sequence[int]]):
        self.crop_size = tuple(to_2tuple(crop_size))
        if not all(isinstance(side, int) and side > 0 for side in self.crop_size):
            raise TypeError(f'CenterCrop: crop_size must be a positive int or (w, h) ints, got {crop_size!r}')

    def transform(self, results: dict) -> dict:
        img_h, img_w = _image_size(self, results)
        crop_w, crop_h = self.crop_size
        if 'imgs' in results and (crop_w > img_w or crop_h > img_h):
            raise sample_error(self, results, f'crop {crop_w}x{crop_h} (w x h) exceeds the {img_w}x{img_h} frames')
        _crop(results, (img_w - crop_w) // 2, (img_h - crop_h) // 2, crop_w, crop_h)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(crop_size={self.crop_size})'


@TRANSFORMS.register_module()
class RandomCrop(BaseTransform):
    """A random ``size x size`` crop. Offsets come from numpy's global RNG, y then x, in ``[0, side - size)``
    (PYSKL's exclusive bound: the last position is never drawn)."""

    def __init__(self, size: int):
        if not isinstance(size, int) or size <= 0:
            raise TypeError(f'RandomCrop: size must be a positive int, got {size!r}')
        self.size = size

    def transform(self, results: dict) -> dict:
        img_h, img_w = _image_size(self, results)
        if self.size > img_h or self.size > img_w:
            raise sample_error(self, results, f'crop size {self.size} exceeds the {img_w}x{img_h} (w x h) frame')
        top = int(np.random.randint(0, img_h - self.size)) if img_h > self.size else 0
        left = int(np.random.randint(0, img_w - self.size)) if img_w > self.size else 0
        _crop(results, left, top, self.size, self.size)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(size={self.size})'
