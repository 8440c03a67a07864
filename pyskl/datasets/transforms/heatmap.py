"""PoseC3D's pseudo-heatmaps: Gaussian maps of keypoints or limbs, one volume per clip (``GeneratePoseTarget``),
and PoTion's colour-coded aggregation over time (``Heatmap2Potion``).

PYSKL draws one Gaussian per keypoint, person and frame in a Python loop (``benchmarks/reference_heatmap.py`` keeps
that definition; the tests hold this file to it within 1e-4). Here every Gaussian of a sample is drawn at once:
each keypoint (or limb) gets a small window exactly where PYSKL's ``±3 sigma`` box puts it, the windows are
evaluated as one batched tensor expression and scattered into the zero volume with ``max`` (``scatter_reduce``).
A 17x48x56x56 volume holds 2 x 48 x 17 windows of about 4x4 pixels, so the cost is the zero volume plus tens of
thousands of values, not a loop of 1,600 NumPy calls. ``double`` (the flip test) writes each value a second time,
mirrored and with left/right channels swapped, instead of flipping and concatenating whole volumes.

The drawing is torch (:func:`render_pose_heatmaps`), so the same code renders on the model's device: with
``GeneratePoseTarget(deferred=True)`` the pipeline only packs the scaled keypoints and their values, and
``ActionDataPreprocessor`` renders the batch's volumes where the model runs (kilobytes per sample through the
dataloader instead of megabytes).
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from pyskl.graph import get_layout
from pyskl.registry import TRANSFORMS

from .loading import sample_error
from .skeleton import flip_order

EPS = 1e-3  # keypoints (and limbs) whose value is below this draw nothing
COCO_LIMBS = ((0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9), (0, 6), (6, 8), (8, 10), (5, 11), (11, 13),
              (13, 15), (6, 12), (12, 14), (14, 16), (11, 12))
COCO_LEFT_KP, COCO_RIGHT_KP = get_layout('coco').left, get_layout('coco').right  # the joints Flip swaps
COCO_LEFT_LIMB, COCO_RIGHT_LIMB = (0, 2, 4, 5, 6, 10, 11, 12), (1, 3, 7, 8, 9, 13, 14, 15)
TILE = 4  # limb boxes differ in size: they are cut into tiles of TILE x TILE pixels
FAR = 1e4  # where padding pixels of a window are put: no Gaussian reaches them
# exp() of float32 arguments below about -87.3 (results under the smallest normal float) takes a slow path that is
# 50x slower; arguments are clamped there and exp(-87) is subtracted, so those pixels come out exactly 0.
EXP_LOW = -87.


def _gaussian_(exponent: torch.Tensor) -> torch.Tensor:
    """``exp(exponent)`` in place, exactly 0 where ``exponent <= -87`` (PYSKL's values there are below 1e-37)."""
    floor = torch.exp(torch.tensor(EXP_LOW, dtype=exponent.dtype, device=exponent.device))
    return exponent.clamp_(min=EXP_LOW).exp_().sub_(floor).clamp_(min=0)


# ---------------------------------------------------------------------------------------------------------------
# Drawing: windows of Gaussians scattered into a flat volume
# ---------------------------------------------------------------------------------------------------------------
def _axis_window(low: torch.Tensor, high: torch.Tensor, sigma: float, size: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """PYSKL's window ``[max(int(low - 3 sigma), 0), min(int(high + 3 sigma) + 1, size))`` (``int`` truncates toward
    zero, computed in float32 as PYSKL does) as ``(start, length)``; the length is <= 0 when empty."""
    reach = torch.tensor(3 * sigma, dtype=torch.float32)
    start = (low - reach).to(torch.int64).clamp_(min=0)
    end = ((high + reach).to(torch.int64) + 1).clamp_(max=size)
    return start, end - start


def _grid(start: torch.Tensor, length: torch.Tensor, size: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Pixel coordinates ``[P, S]`` of each window padded to the longest, and the mask of the real ones. Padding
    indexes pixel ``size - 1``, so that it stays inside the volume; its value is 0 (it is evaluated at ``FAR``)."""
    steps = torch.arange(int(length.max()), device=start.device)
    pixels = start[:, None] + steps
    inside = steps < length[:, None]
    return pixels.clamp_(max=size - 1), inside


class _Canvas:
    """A flat zero volume and where each (frame, channel) map starts in it: ``frame_base[f] + c * channel_stride``
    (and ``flip_base`` for the mirrored copy of ``double``, channel ``flip_order[c]``, column ``W - 1 - x``)."""

    def __init__(self, out: torch.Tensor, frame_base: torch.Tensor, channel_stride: int, width: int,
                 flip_base: Optional[torch.Tensor] = None, flip_order: Optional[torch.Tensor] = None):
        self.flat, self.frame_base, self.channel_stride, self.width = out.view(-1), frame_base, channel_stride, width
        self.flip_base, self.flip_order = flip_base, flip_order

    def draw(self, frame, channel, ys, xs, values) -> None:
        """Max ``values`` ``[P, Sy, Sx]`` into the maps of ``(frame[P], channel[P])`` at rows ``ys`` ``[P, Sy]`` and
        columns ``xs`` ``[P, Sx]``."""
        rows = ys[:, :, None] * self.width
        base = self.frame_base[frame] + channel * self.channel_stride
        self.flat.scatter_reduce_(0, (base[:, None, None] + rows + xs[:, None, :]).view(-1), values.view(-1), 'amax')
        if self.flip_base is not None:
            base = self.flip_base[frame] + self.flip_order[channel] * self.channel_stride
            mirrored = self.width - 1 - xs
            self.flat.scatter_reduce_(0, (base[:, None, None] + rows + mirrored[:, None, :]).view(-1),
                                      values.view(-1), 'amax')


def _draw_points(canvas: _Canvas, frame, channel, x, y, value, sigma: float, height: int, width: int) -> None:
    """One Gaussian per point, ``value * exp(-((px - x)^2 + (py - y)^2) / (2 sigma^2))`` in PYSKL's window."""
    sx, lx = _axis_window(x, x, sigma, width)
    sy, ly = _axis_window(y, y, sigma, height)
    keep = (lx > 0) & (ly > 0)
    if not keep.any():
        return
    frame, channel, x, y, value = frame[keep], channel[keep], x[keep], y[keep], value[keep]
    xs, x_in = _grid(sx[keep], lx[keep], width)
    ys, y_in = _grid(sy[keep], ly[keep], height)
    # exp(-(dx^2 + dy^2) / 2s^2) = exp(-dx^2 / 2s^2) * exp(-dy^2 / 2s^2): two short vectors instead of a square
    gx = _gaussian_(-(torch.where(x_in, xs.to(x.dtype), FAR) - x[:, None])**2 / 2 / sigma**2)
    gy = _gaussian_(-(torch.where(y_in, ys.to(y.dtype), FAR) - y[:, None])**2 / 2 / sigma**2) * value[:, None]
    canvas.draw(frame, channel, ys, xs, gy[:, :, None] * gx[:, None, :])


def _tiles(start: torch.Tensor, length: torch.Tensor, size: int, tile_of, offset) -> Tuple[torch.Tensor, ...]:
    """Pixel coordinates ``[Q, TILE]`` of tiles ``offset`` (in tiles) of windows ``tile_of`` and the mask of those
    inside their window (the others index pixel ``size - 1`` and are evaluated at ``FAR``)."""
    pixels = (start[tile_of] + offset * TILE)[:, None] + torch.arange(TILE, device=start.device)
    inside = pixels < (start + length)[tile_of][:, None]
    return pixels.clamp_(max=size - 1), inside


def _draw_segments(canvas: _Canvas, frame, channel, start, end, value, sigma: float, height: int, width: int) -> None:
    """One Gaussian of the distance to each segment ``start -> end`` (``[P, 2]``), in the box around both ends.

    Boxes differ in size, so each is cut into TILE x TILE tiles and all tiles are evaluated together. The distance
    to the segment is ``|u - clamp(t, 0, 1) e|`` with ``u = p - start``, ``e = end - start`` and
    ``t = u.e / |e|^2``: PYSKL's three cases (beyond either end, or beside the segment) in one expression, and ``t``
    is a sum of a column term and a row term, so the per-pixel work is a handful of passes.
    """
    sx, lx = _axis_window(torch.minimum(start[:, 0], end[:, 0]), torch.maximum(start[:, 0], end[:, 0]), sigma, width)
    sy, ly = _axis_window(torch.minimum(start[:, 1], end[:, 1]), torch.maximum(start[:, 1], end[:, 1]), sigma,
                          height)
    keep = (lx > 0) & (ly > 0)
    columns = torch.where(keep, (lx + TILE - 1) // TILE, 0)
    count = torch.where(keep, (ly + TILE - 1) // TILE, 0) * columns
    tile_of = torch.repeat_interleave(torch.arange(len(count), device=count.device), count)  # [Q]
    index = torch.arange(len(tile_of), device=count.device) - (torch.cumsum(count, 0) - count)[tile_of]
    xs, x_in = _tiles(sx, lx, width, tile_of, index % columns[tile_of])
    ys, y_in = _tiles(sy, ly, height, tile_of, index // columns[tile_of])
    a, e = start[tile_of], end[tile_of] - start[tile_of]
    # padding pixels sit far away, where the Gaussian is exactly 0
    ux = torch.where(x_in, xs.to(a.dtype), FAR) - a[:, :1]  # [Q, TILE]
    uy = torch.where(y_in, ys.to(a.dtype), FAR) - a[:, 1:]
    length2 = (e * e).sum(1, keepdim=True)
    t = ((ux * e[:, :1]) / length2)[:, None, :] + ((uy * e[:, 1:]) / length2)[:, :, None]  # [Q, TILE, TILE]
    t.clamp_(0, 1)
    dx = torch.addcmul(ux[:, None, :], t, e[:, None, :1], value=-1)
    dy = torch.addcmul(uy[:, :, None], t, e[:, None, 1:], value=-1)
    dist2 = torch.addcmul(dy.square_(), dx, dx)
    heat = _gaussian_(dist2.mul_(-0.5 / sigma**2)).mul_(value[tile_of, None, None])
    canvas.draw(frame[tile_of], channel[tile_of], ys, xs, heat)


def render_pose_heatmaps(canvas: _Canvas, points: torch.Tensor, values: torch.Tensor, sigma: float, height: int,
                         width: int, limbs: Optional[torch.Tensor] = None) -> None:
    """Draw the maps of ``points`` ``[F, M, V, 2]`` (x, y in pixels) with ``values`` ``[F, M, V]`` (the Gaussians'
    peaks) into ``canvas``: channel ``v`` for keypoint ``v``, or channel ``l`` for limb ``limbs[l] = (a, b)``.

    Values below 1e-3 and non-finite coordinates draw nothing. A limb takes the smaller value of its two ends; one
    shorter than a pixel draws its start keypoint with the start's value (PYSKL's rule).
    """
    points, values = points.float(), values.float() * torch.isfinite(points).all(-1)
    points = torch.nan_to_num(points, nan=-1e6, posinf=-1e6, neginf=-1e6)  # far outside: an empty window
    num_frames, num_persons = points.shape[:2]
    frame = torch.arange(num_frames, device=points.device)[:, None, None]
    if limbs is None:
        keep = values >= EPS
        channel = torch.arange(points.shape[2], device=points.device).expand_as(keep)
        frame = frame.expand_as(keep)
        _draw_points(canvas, frame[keep], channel[keep], points[keep][:, 0], points[keep][:, 1], values[keep],
                     sigma, height, width)
        return
    start, end = points[:, :, limbs[:, 0]], points[:, :, limbs[:, 1]]  # [F, M, L, 2]
    start_value = values[:, :, limbs[:, 0]]
    value = torch.minimum(start_value, values[:, :, limbs[:, 1]])
    keep = value >= EPS
    short = keep & (((start - end)**2).sum(-1) < 1)
    channel = torch.arange(len(limbs), device=points.device).expand_as(keep)
    frame = frame.expand_as(keep)
    if short.any():
        _draw_points(canvas, frame[short], channel[short], start[short][:, 0], start[short][:, 1], start_value[short],
                     sigma, height, width)
    long = keep & ~short
    if long.any():
        _draw_segments(canvas, frame[long], channel[long], start[long], end[long], value[long], sigma, height, width)


# ---------------------------------------------------------------------------------------------------------------
# The transforms
# ---------------------------------------------------------------------------------------------------------------
@TRANSFORMS.register_module()
class GeneratePoseTarget(BaseTransform):
    """PoseC3D's pseudo-heatmap volume ``[T, C, H, W]`` (float32; ``[2T, ...]`` with ``double``) from ``keypoint``
    ``[M, T, V, 2+]``, ``keypoint_score`` ``[M, T, V]`` (all ones when absent) and ``img_shape``.

    Written to ``imgs``, or to ``heatmap_imgs`` when ``imgs`` already holds RGB frames (RGBPoseConv3D).

    Args:
        sigma: the Gaussians' standard deviation in pixels.
        use_score: peak of each Gaussian = the keypoint's score (else 1, missing joints included, as PYSKL).
        with_kp, with_limb: keypoint maps (C = V) or limb maps (C = len(skeletons)); exactly one.
        skeletons: limbs as ``(a, b)`` joint pairs (default: COCO-17's 17 limbs).
        double: also the horizontally mirrored volume (left/right channels swapped), appended along the frame axis:
            PoseC3D's flip test.
        left_kp, right_kp / left_limb, right_limb: the channels swapped by ``double``.
        scaling: render at ``scaling`` x ``img_shape`` (coordinates scaled alike).
        deferred: do not render here; pack ``[M, T, V, 3]`` (scaled x, y and each point's value) for
            ``ActionDataPreprocessor`` to render on the model's device (same volumes; see the module docstring).
    """

    def __init__(self, sigma: float = 0.6, use_score: bool = True, with_kp: bool = True, with_limb: bool = False,
                 skeletons: Sequence[Sequence[int]] = COCO_LIMBS, double: bool = False,
                 left_kp: Sequence[int] = COCO_LEFT_KP, right_kp: Sequence[int] = COCO_RIGHT_KP,
                 left_limb: Sequence[int] = COCO_LEFT_LIMB, right_limb: Sequence[int] = COCO_RIGHT_LIMB,
                 scaling: float = 1., deferred: bool = False):
        if bool(with_kp) == bool(with_limb):
            raise ValueError('GeneratePoseTarget: set exactly one of with_kp and with_limb')
        if sigma <= 0 or scaling <= 0:
            raise ValueError(f'GeneratePoseTarget: sigma and scaling must be positive, got {sigma} and {scaling}')
        self.sigma, self.use_score = float(sigma), use_score
        self.with_kp, self.with_limb = bool(with_kp), bool(with_limb)
        self.skeletons = tuple(tuple(int(j) for j in limb) for limb in skeletons)
        if any(len(limb) != 2 for limb in self.skeletons):
            raise ValueError(f'GeneratePoseTarget: every limb must be a joint pair, got {skeletons}')
        self.double, self.scaling, self.deferred = double, float(scaling), deferred
        self.left_kp, self.right_kp = tuple(left_kp), tuple(right_kp)
        self.left_limb, self.right_limb = tuple(left_limb), tuple(right_limb)
        left, right = (self.left_kp, self.right_kp) if with_kp else (self.left_limb, self.right_limb)
        if len(left) != len(right):
            raise ValueError(f'GeneratePoseTarget: {len(left)} left and {len(right)} right channels to swap')
        self._flip_pairs = (left, right)

    def _inputs(self, results: dict) -> Tuple[np.ndarray, np.ndarray, Tuple[int, int]]:
        """Scaled ``[M, T, V, 2]`` coordinates, the Gaussians' peaks ``[M, T, V]`` and the map size ``(H, W)``."""
        keypoint = results.get('keypoint')
        if keypoint is None or keypoint.ndim != 4 or keypoint.shape[-1] < 2:
            shape = getattr(keypoint, 'shape', None)
            raise sample_error(self, results, f'needs keypoint [M, T, V, 2+], got {shape}')
        if 'img_shape' not in results:
            raise sample_error(self, results, 'needs img_shape (h, w): the size of the maps')
        num_joints = keypoint.shape[2]
        used = [j for limb in self.skeletons for j in limb] if self.with_limb else []
        if used and max(used) >= num_joints:
            raise sample_error(self, results, f'the limbs use joint {max(used)}, but keypoint has {num_joints} joints')
        channels = len(self.skeletons) if self.with_limb else num_joints
        swapped = self._flip_pairs[0] + self._flip_pairs[1] if self.double else ()
        if swapped and max(swapped) >= channels:
            raise sample_error(self, results, f'the left/right lists swap channel {max(swapped)}, but the maps have '
                               f'{channels} channels')
        score = results.get('keypoint_score')
        if score is not None and score.shape != keypoint.shape[:3]:
            raise sample_error(self, results, f'keypoint_score {score.shape} does not match keypoint {keypoint.shape}')
        if score is None or not self.use_score:
            values = np.ones(keypoint.shape[:3], np.float32)  # PYSKL: every point, missing joints too
        else:
            values = np.asarray(score, dtype=np.float32)
        # PYSKL scales the keypoint array in place; here results['keypoint'] stays as it was.
        points = np.asarray(keypoint[..., :2], dtype=np.float32) * np.float32(self.scaling)
        height, width = (int(size * self.scaling + 0.5) for size in results['img_shape'])
        return points, values, (height, width)

    def render_cfg(self, height: int, width: int) -> dict:
        """What the renderer needs besides the points (also written beside deferred points)."""
        return dict(sigma=self.sigma, height=height, width=width, limbs=self.skeletons if self.with_limb else None,
                    double=self.double, flip_pairs=self._flip_pairs if self.double else None)

    def transform(self, results: dict) -> dict:
        points, values, (height, width) = self._inputs(results)
        target = 'heatmap_imgs' if 'imgs' in results else 'imgs'
        if self.deferred:
            results[target] = np.concatenate([points, values[..., None]], axis=-1)
            results['heatmap_cfg'] = self.render_cfg(height, width)
            return results
        results[target] = render_volume(points, values, self.render_cfg(height, width)).numpy()
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(sigma={self.sigma}, use_score={self.use_score}, with_kp={self.with_kp}, '
                f'with_limb={self.with_limb}, skeletons={self.skeletons}, double={self.double}, '
                f'left_kp={self.left_kp}, right_kp={self.right_kp}, scaling={self.scaling}, deferred={self.deferred})')


def _channels(cfg: dict, num_joints: int) -> int:
    return len(cfg['limbs']) if cfg['limbs'] is not None else num_joints


def _limbs(cfg: dict, device) -> Optional[torch.Tensor]:
    return None if cfg['limbs'] is None else torch.as_tensor(cfg['limbs'], dtype=torch.int64, device=device)


def render_volume(points: np.ndarray, values: np.ndarray, cfg: dict) -> torch.Tensor:
    """One sample's volume in PYSKL's layout ``[T, C, H, W]`` (``[2T, ...]`` with ``double``) from ``[M, T, V, 2]``
    points and ``[M, T, V]`` values."""
    points = torch.from_numpy(np.ascontiguousarray(points.transpose(1, 0, 2, 3)))  # frames first
    values = torch.from_numpy(np.ascontiguousarray(values.transpose(1, 0, 2)))
    num_frames, num_joints = points.shape[0], points.shape[2]
    channels, height, width = _channels(cfg, num_joints), cfg['height'], cfg['width']
    out = torch.zeros((num_frames * (2 if cfg['double'] else 1), channels, height, width))
    frame_size = channels * height * width
    frame_base = torch.arange(num_frames) * frame_size
    flip = _flip(cfg, channels, frame_base + num_frames * frame_size)
    canvas = _Canvas(out, frame_base, height * width, width, *flip)
    render_pose_heatmaps(canvas, points, values, cfg['sigma'], height, width, _limbs(cfg, points.device))
    return out


def _flip(cfg: dict, channels: int, flip_base: torch.Tensor) -> tuple:
    if not cfg['double']:
        return None, None
    return flip_base, torch.as_tensor(flip_order(channels, *cfg['flip_pairs']), device=flip_base.device)


def render_batch(packed: torch.Tensor, cfg: dict) -> torch.Tensor:
    """Volumes ``[N, views, C, L, H, W]`` (views = clips, twice that with ``double``: the mirrored views after the
    originals, as PYSKL's ``FormatShape`` orders them) from deferred points ``[N, clips, M, L, V, 3]`` on any
    device."""
    num, clips, persons, length, num_joints = packed.shape[:5]
    channels, height, width = _channels(cfg, num_joints), cfg['height'], cfg['width']
    views = clips * (2 if cfg['double'] else 1)
    out = torch.zeros((num, views, channels, length, height, width), device=packed.device)
    frames = packed.permute(0, 1, 3, 2, 4, 5).reshape(num * clips * length, persons, num_joints, 3)
    # frame (n, clip, t) starts at ((n * views + clip) * C * L + t) * H * W; channels are L maps apart
    area, device = height * width, packed.device
    n, clip, t = torch.meshgrid(torch.arange(num, device=device), torch.arange(clips, device=device),
                                torch.arange(length, device=device), indexing='ij')
    frame_base = (((n * views + clip) * channels * length + t) * area).reshape(-1)
    flip_base = frame_base + clips * channels * length * area
    canvas = _Canvas(out, frame_base, length * area, width, *_flip(cfg, channels, flip_base))
    render_pose_heatmaps(canvas, frames[..., :2], frames[..., 2], cfg['sigma'], height, width, _limbs(cfg, device))
    return out


@TRANSFORMS.register_module()
class Heatmap2Potion(BaseTransform):
    """PoTion (Choutas et al., CVPR 2018): colour each clip's heatmaps by time and sum them into one image.

    ``imgs`` ``[N * clip_len, K, H, W]`` -> ``[N, H, W, K * C']``: frame ``t`` is coloured by a ``C``-channel
    colour that moves linearly from channel 0 (first frame) to channel ``C - 1`` (last frame); the sum over time is
    normalised per channel by its spatial maximum (``U``), summed over colours (``I``) and ``U / (I + 1)`` (``N``).
    ``option`` picks ``'U'``, ``'I'``, ``'N'`` or ``'full'`` (all three concatenated, ``C' = 2C + 1``).
    """

    def __init__(self, C: int, option: str = 'full'):
        if not isinstance(C, int) or C < 2:
            raise ValueError(f'Heatmap2Potion: C must be an integer >= 2, got {C!r}')
        if option not in ('U', 'N', 'I', 'full'):
            raise ValueError(f"Heatmap2Potion: option must be 'U', 'N', 'I' or 'full', got {option!r}")
        self.C, self.option, self.eps = C, option, 1e-4

    def colours(self, clip_len: int) -> np.ndarray:
        """``[clip_len, C]``: frame t's colour, a linear blend of two neighbouring one-hot colours."""
        position = np.arange(clip_len) / max(clip_len - 1, 1) * (self.C - 1)
        position[-1] = self.C - 1  # the last frame is exactly the last colour (also for a single frame)
        low = np.minimum(position.astype(np.int64), self.C - 2)
        colours = np.zeros((clip_len, self.C), np.float32)
        colours[np.arange(clip_len), low] = 1 - (position - low)
        colours[np.arange(clip_len), low + 1] += position - low
        return colours

    def transform(self, results: dict) -> dict:
        heatmaps = results['imgs']
        clip_len = results.get('clip_len', heatmaps.shape[0])
        if heatmaps.ndim != 4 or heatmaps.shape[0] % clip_len:
            raise sample_error(self, results, f'needs imgs [N * clip_len, K, H, W] with clip_len={clip_len}, got '
                               f'{heatmaps.shape}')
        clips = heatmaps.reshape((-1, clip_len) + heatmaps.shape[1:])
        summed = np.einsum('ntkhw,tc->nhwkc', clips, self.colours(clip_len))  # [N, H, W, K, C]
        unit = summed / (summed.max(axis=(1, 2), keepdims=True) + self.eps)
        intensity = unit.sum(axis=-1, keepdims=True)
        parts = dict(U=[unit], I=[intensity], N=[unit / (intensity + 1)],
                     full=[unit, intensity, unit / (intensity + 1)])[self.option]
        potion = np.concatenate(parts, axis=-1)
        results['imgs'] = potion.reshape(potion.shape[:3] + (-1, )).astype(np.float32, copy=False)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(C={self.C}, option={self.option!r})'


__all__ = ['GeneratePoseTarget', 'Heatmap2Potion', 'render_pose_heatmaps', 'render_volume', 'render_batch']
