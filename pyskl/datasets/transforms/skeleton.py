"""Transforms on skeleton coordinates ``keypoint [M, T, V, C]``: normalisation, modality features (bones, motion),
padding and augmentation. PYSKL's semantics, vectorised with numpy (PYSKL loops over frames and bone pairs)."""
import math
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from pyskl.graph import get_layout
from pyskl.registry import TRANSFORMS

from .loading import sample_error

# Built-in 2D layouts whose third channel, when present, is a confidence score rather than a coordinate.
SCORE_LAYOUTS = ('openpose', 'coco', 'handmp')
FEATURES = ('j', 'b', 'jm', 'bm')
# Set by PreNormalize2D when its output's third channel is the joints' score, so that later steps keep it a score
# whatever the layout is called (PYSKL decided by the layout's name: a custom 2D layout lost its scores).
SCORE_FLAG = 'keypoint_has_score'


def _resolve_layout(transform: str, dataset, layout, default='nturgb+d'):
    """The layout given as ``layout=`` or as PYSKL's ``dataset=`` (not both)."""
    if dataset is not None and layout is not None:
        raise ValueError(f'{transform}: give the skeleton layout once, as layout= (dataset= is PYSKL\'s name for it)')
    chosen = layout if layout is not None else dataset
    return get_layout(default if chosen is None else chosen)


def flip_order(num_joints: int, left: Sequence[int], right: Sequence[int]) -> np.ndarray:
    """Joint (or heatmap channel) ``j`` of a mirrored skeleton is ``order[j]`` of the original: left and right
    swapped."""
    order = np.arange(num_joints)
    order[list(left)], order[list(right)] = right, left
    return order


def _check_skeleton(transform, results, key='keypoint', channels=None, num_node=None) -> np.ndarray:
    data = results.get(key)
    if data is None:
        raise sample_error(transform, results, f'needs results[{key!r}]')
    if data.ndim != 4:
        raise sample_error(transform, results, f'{key} must be [M, T, V, C], got shape {data.shape}')
    if channels is not None and data.shape[-1] not in channels:
        raise sample_error(transform, results, f'{key} must have {" or ".join(map(str, channels))} channels, got '
                           f'shape {data.shape}')
    if num_node is not None and data.shape[2] != num_node:
        raise sample_error(transform, results, f'{key} has {data.shape[2]} joints but the skeleton layout has '
                           f'{num_node} (shape {data.shape})')
    return data


def _all_zero(data: np.ndarray) -> bool:
    """PYSKL's ``np.all(np.isclose(data, 0))``: every value within 1e-8 of zero (NaN counts as non-zero)."""
    return bool(np.all(np.abs(data) <= 1e-8))


def _float(data: np.ndarray) -> np.ndarray:
    """float32 unless already float64 (float16 storage would make later arithmetic lossy and slow)."""
    if data.dtype == np.float16 and data.flags.writeable:  # torch converts half to float much faster than numpy
        return torch.from_numpy(np.ascontiguousarray(data)).float().numpy()
    return data if data.dtype == np.float64 else np.asarray(data, dtype=np.float32)


def _round_to_half(data: np.ndarray) -> np.ndarray:
    """Round float32 values to the nearest float16 (ties to even, as numpy), staying float32."""
    return torch.from_numpy(np.ascontiguousarray(data)).half().float().numpy()


# --------------------------------------------------------------------------------------------------- normalisation
# The rotations act on single 3-vectors: plain floats are far cheaper there than numpy calls.


def _cross(u, v):
    return (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])


def _angle_between(u, v) -> float:
    if sum(map(abs, u)) < 1e-6 or sum(map(abs, v)) < 1e-6:
        return 0.
    cos = sum(a * b for a, b in zip(u, v)) / (math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v)))
    return math.acos(min(max(cos, -1.0), 1.0))


def _axis_rotation(axis, theta: float) -> np.ndarray:
    """Rotation by ``theta`` about ``axis`` (Euler-Rodrigues), identity for a degenerate axis or angle; applied as
    ``x @ R.T`` it turns the vector the axis was built from (``v x target``) onto the target."""
    if sum(map(abs, axis)) < 1e-6 or abs(theta) < 1e-6:
        return np.eye(3)
    length = math.sqrt(sum(a * a for a in axis))
    a = math.cos(theta / 2.0)
    b, c, d = (-x / length * math.sin(theta / 2.0) for x in axis)
    return np.array([[a * a + b * b - c * c - d * d, 2 * (b * c + a * d), 2 * (b * d - a * c)],
                     [2 * (b * c - a * d), a * a + c * c - b * b - d * d, 2 * (c * d + a * b)],
                     [2 * (b * d + a * c), 2 * (c * d - a * b), a * a + d * d - b * b - c * c]])


def _align_to(vector, target) -> np.ndarray:
    return _axis_rotation(_cross(vector, target), _angle_between(vector, target))


@TRANSFORMS.register_module()
class PreNormalize3D(BaseTransform):
    """NTU RGB+D 3D normalisation (from 2s-AGCN), for M = 1 or 2 persons.

    Drops the frames where the main person is absent (the person with more present frames is the main one and is
    put first), subtracts the main person's first-frame centre joint from every non-zero joint, then rotates all
    frames so that, in the first frame, ``zaxis[0] -> zaxis[1]`` points along +z and ``xaxis[1] -> xaxis[0]`` (left
    to right shoulder) along +x. Updates ``total_frames`` and sets ``body_center``. Output is float32 (float64 input
    stays float64).

    Args:
        zaxis, xaxis: the spine ``(lower, upper)`` and shoulder ``(right, left)`` joints; default: the layout's
            ``spine`` and ``shoulders``, or without a layout NTU's ``(0, 1)`` and ``(8, 4)`` (PYSKL's).
        align_spine, align_center: rotate, centre.
        layout: a layout name or custom dict: the centre is its ``body_center`` and the skeleton must have its
            joint count. Without one, PYSKL's rule: joint 1 when V = 25, else the last joint (for a 20-joint Kinect
            v1 skeleton, the right foot: give the layout).
    """

    def __init__(self, zaxis=None, xaxis=None, align_spine: bool = True, align_center: bool = True, layout=None):
        self.layout = None if layout is None else get_layout(layout)
        self.zaxis = self._axis(zaxis, 'spine', (0, 1), 'zaxis')
        self.xaxis = self._axis(xaxis, 'shoulders', (8, 4), 'xaxis')
        if align_spine and (self.zaxis is None or self.xaxis is None):
            raise ValueError(f'PreNormalize3D: layout {self.layout.name!r} names no spine and shoulders pairs to '
                             'align; add spine=(lower, upper) and shoulders=(right, left) to it, give zaxis/xaxis, or '
                             'pass align_spine=False')
        self.align_spine = align_spine
        self.align_center = align_center

    def _axis(self, given, key, pyskl_default, arg):
        if given is None:
            return pyskl_default if self.layout is None else getattr(self.layout, key)
        axis = tuple(int(j) for j in given)
        if len(axis) != 2 or (self.layout is not None and not all(0 <= j < self.layout.num_node for j in axis)):
            raise ValueError(f'PreNormalize3D: {arg} must be two joints of the skeleton, got {given!r}')
        return axis

    def _center_joint(self, num_joints: int) -> int:
        if self.layout is None:
            return 1 if num_joints == 25 else num_joints - 1  # PYSKL's rule
        body_center = self.layout.body_center
        return self.layout.center if body_center is None else body_center

    def _spine_rotation(self, first_frame: np.ndarray) -> np.ndarray:
        """One matrix for PYSKL's two rotations (spine onto z, then shoulders onto x), from person 0's frame 0."""
        joints = first_frame.astype(np.float64)
        to_z = _align_to((joints[self.zaxis[1]] - joints[self.zaxis[0]]).tolist(), (0., 0., 1.))
        shoulders = (joints[self.xaxis[0]] - joints[self.xaxis[1]]) @ to_z.T
        to_x = _align_to(shoulders.tolist(), (1., 0., 0.))
        return to_x @ to_z

    def transform(self, results: dict) -> dict:
        skeleton = _check_skeleton(self, results, channels=(3, ),
                                   num_node=None if self.layout is None else self.layout.num_node)
        M, T, V, C = skeleton.shape
        if results.get('total_frames', T) != T:
            raise sample_error(self, results, f"total_frames is {results['total_frames']} but keypoint has {T} "
                               f'frames (shape {skeleton.shape})')
        if M not in (1, 2):
            raise sample_error(self, results, f'NTU 3D normalisation handles 1 or 2 persons, got {M}')
        x = _float(skeleton)
        # |x| summed per joint (a matrix-vector product beats numpy's slow length-3 reductions): a joint is missing
        # when this is 0, a frame when it is <= 1e-8 for every joint (PYSKL: np.isclose(frame, 0) everywhere)
        joint_size = (np.abs(x).reshape(-1, C) @ np.ones(C, dtype=x.dtype)).reshape(M, T, V)
        present = (joint_size > 1e-8).any(-1)  # [M, T]
        # PYSKL returns early when skeleton.sum() == 0, which a sum that cancels out also passes; test for zeros.
        if not present.any():
            return results

        main = 1 if M == 2 and present[0].sum() < present[1].sum() else 0
        frames = np.flatnonzero(present[main])
        if main == 1:  # the person present in more frames goes first
            x, joint_size = x[::-1], joint_size[::-1]
        x = x.take(frames, axis=1)
        if self.align_center:
            center_joint = self._center_joint(V)
            results['body_center'] = skeleton[main, frames[0], center_joint].copy()
            joint_on = joint_size.take(frames, axis=1) > 0
            x = self._centred(x, joint_on, x[0, 0, center_joint].copy(), rounding=skeleton.dtype == np.float16)
        # (PYSKL raises NameError with align_center=False, as body_center is then undefined; here it stays unset.)
        if self.align_spine:
            rotation = np.ascontiguousarray(self._spine_rotation(x[0, 0]).T, dtype=x.dtype)
            x = (x.reshape(-1, C) @ rotation).reshape(x.shape)

        results['keypoint'] = x
        results['total_frames'] = x.shape[1]
        return results

    @staticmethod
    def _centred(x: np.ndarray, joint_on: np.ndarray, center: np.ndarray, rounding: bool) -> np.ndarray:
        """``x - center`` for the joints that are on (missing joints stay 0)."""
        M, T, V, C = x.shape
        # [M*T, V*C] - tile(center): one long inner loop instead of numpy's slow length-3 broadcast
        out = x.reshape(M * T, V * C) - np.tile(center, V)
        if rounding:
            # PYSKL subtracts in the stored float16 (numpy: a float32 difference rounded to float16); round alike
            out = _round_to_half(out)
        out = out.reshape(-1, C)
        out[~joint_on.reshape(-1)] = 0
        return out.reshape(x.shape)

    def __repr__(self):
        layout = '' if self.layout is None else f', layout={self.layout.name!r}'
        return (f'{type(self).__name__}(zaxis={self.zaxis}, xaxis={self.xaxis}, align_spine={self.align_spine}, '
                f'align_center={self.align_center}{layout})')


@TRANSFORMS.register_module()
class PreNormalize2D(BaseTransform):
    """2D normalisation to about [-1, 1]; ``keypoint_score`` (if any) is appended as channel 3 and popped.

    ``mode='fix'``: ``x -> (x - w/2) / (w/2)``, ``y -> (y - h/2) / (h/2)`` with ``(h, w) = results['img_shape']``
    (``img_shape`` argument if absent). ``mode='auto'``: centre and scale by the box around the confident joints, but
    only when the box is wider and taller than 10 (coordinates already in [0, 1] are left as they are).
    Joints with score <= ``threshold`` are set to x = y = 0. Output is float32; a third channel is a score, and
    ``results['keypoint_has_score']`` says so to the later steps whatever the layout.

    ``layout`` (a name or custom dict, optional): the skeleton must have its joint count. Both modes are the same for
    every layout (the 'auto' box spans all confident joints).
    """

    def __init__(self, img_shape=(1080, 1920), threshold: float = 0.01, mode: str = 'fix', layout=None):
        if mode not in ('fix', 'auto'):
            raise ValueError(f"PreNormalize2D: mode must be 'fix' or 'auto', got {mode!r}")
        self.img_shape = tuple(img_shape)
        self.threshold = threshold
        self.mode = mode
        self.layout = None if layout is None else get_layout(layout)

    @staticmethod
    def _normalise_by_box(keypoint, confident):
        xy = keypoint[confident][:, :2] if confident is not None else keypoint[..., :2].reshape(-1, 2)
        if len(xy) == 0:
            return
        (x_min, y_min), (x_max, y_max) = xy.min(0), xy.max(0)
        if x_max - x_min > 10 and y_max - y_min > 10:
            keypoint[..., 0] = (keypoint[..., 0] - (x_max + x_min) / 2) / (x_max - x_min) * 2
            keypoint[..., 1] = (keypoint[..., 1] - (y_max + y_min) / 2) / (y_max - y_min) * 2

    def transform(self, results: dict) -> dict:
        num_node = None if self.layout is None else self.layout.num_node
        keypoint = _check_skeleton(self, results, channels=(2, 3), num_node=num_node).astype(np.float32)  # a copy
        if 'keypoint_score' in results:
            if keypoint.shape[-1] != 2:
                raise sample_error(self, results, f'has keypoint_score, so keypoint must be [M, T, V, 2], got '
                                   f'{keypoint.shape}')
            score = results.pop('keypoint_score').astype(np.float32)
            keypoint = np.concatenate([keypoint, score[..., None]], axis=-1)
        confident = keypoint[..., 2] > self.threshold if keypoint.shape[-1] == 3 else None

        if self.mode == 'auto':
            self._normalise_by_box(keypoint, confident)
        else:
            h, w = results.get('img_shape', self.img_shape)
            keypoint[..., 0] = (keypoint[..., 0] - (w / 2)) / (w / 2)
            keypoint[..., 1] = (keypoint[..., 1] - (h / 2)) / (h / 2)
        if confident is not None:
            keypoint[..., :2][~confident] = 0
            results[SCORE_FLAG] = True
        results['keypoint'] = keypoint
        return results

    def __repr__(self):
        layout = '' if self.layout is None else f', layout={self.layout.name!r}'
        return (f'{type(self).__name__}(img_shape={self.img_shape}, threshold={self.threshold}, mode={self.mode!r}'
                f'{layout})')


# ------------------------------------------------------------------------------------------------ modality features


def _has_score(layout_name: str, channels: int, score_channel: Optional[bool], results: dict) -> bool:
    """Whether channel 3 of a C = 3 skeleton is a score: the transform's ``score_channel`` if given, else
    ``PreNormalize2D``'s word (any layout), else PYSKL's rule by the layout's name (the built-in 2D layouts)."""
    if channels != 3:
        return False
    if score_channel is not None:
        return bool(score_channel)
    return bool(results.get(SCORE_FLAG)) or layout_name in SCORE_LAYOUTS


class _BoneTable:
    """Each joint's bone parent from a layout's ``bones`` ``(child, parent)`` pairs."""

    def __init__(self, layout):
        self.num_node = layout.num_node
        pairs = np.array(layout.bones, dtype=np.int64).reshape(-1, 2)
        self.parent = np.arange(layout.num_node)
        self.parent[pairs[:, 0]] = pairs[:, 1]
        covered = np.zeros(layout.num_node, dtype=bool)
        covered[pairs[:, 0]] = True
        # joints no pair starts from get a zero bone, as PYSKL's zero-initialised output
        self.uncovered = None if covered.all() else np.flatnonzero(~covered)

    def bones(self, keypoint: np.ndarray, has_score: bool) -> np.ndarray:
        parent_kp = keypoint[..., self.parent, :]
        bone = np.subtract(keypoint, parent_kp, dtype=np.float32)
        if has_score:  # a bone's confidence is the mean of its two joints'
            bone[..., 2] = (keypoint[..., 2] + parent_kp[..., 2]) / 2
        if self.uncovered is not None:
            bone[..., self.uncovered, :] = 0
        return bone


def _motion(data: np.ndarray, has_score: bool) -> np.ndarray:
    """``x[t+1] - x[t]`` along time, 0 for the last frame; a score channel gets the two frames' mean instead."""
    motion = np.zeros_like(data)
    np.subtract(data[:, 1:], data[:, :-1], out=motion[:, :-1])
    if has_score:
        motion[:, :-1, :, 2] = (data[:, :-1, :, 2] + data[:, 1:, :, 2]) / 2
    return motion


@TRANSFORMS.register_module()
class JointToBone(BaseTransform):
    """Bones ``kp[child] - kp[parent]`` for the layout's bone pairs (float32), into ``results[target]``.

    Args:
        dataset: a built-in layout name (``nturgb+d``, ``coco``, ``openpose``, ``handmp``) or a custom layout dict
            (see :func:`pyskl.graph.get_layout`; its ``bones`` default to the inward edges); default ``nturgb+d``.
        target: where to put the bones.
        score_channel: whether channel 3 of a 3-channel skeleton is a score (averaged over the bone's two joints, not
            subtracted). None: a score when ``PreNormalize2D`` made it one, or by PYSKL's rule for the 2D layouts
            coco / openpose / handmp.
        layout: the same as ``dataset`` (give one of them).
    """

    def __init__(self, dataset=None, target: str = 'keypoint', score_channel: Optional[bool] = None, layout=None):
        self.layout = _resolve_layout(type(self).__name__, dataset, layout)
        self.target = target
        self.score_channel = score_channel
        self._table = _BoneTable(self.layout)

    def transform(self, results: dict) -> dict:
        keypoint = _check_skeleton(self, results, num_node=self.layout.num_node)
        has_score = _has_score(self.layout.name, keypoint.shape[-1], self.score_channel, results)
        results[self.target] = self._table.bones(keypoint, has_score)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(dataset={self.layout.name!r}, target={self.target!r})'


@TRANSFORMS.register_module()
class ToMotion(BaseTransform):
    """Temporal difference of ``results[source]`` into ``results[target]`` (last frame zero).

    For 3-channel 2D skeletons the score channel becomes the mean score of the two frames. PYSKL did this for coco
    and openpose but forgot handmp (while its JointToBone averages handmp scores); here all 2D layouts average,
    custom ones included (``score_channel`` and ``dataset`` / ``layout`` as for :class:`JointToBone`).
    """

    def __init__(self, dataset=None, source: str = 'keypoint', target: str = 'motion',
                 score_channel: Optional[bool] = None, layout=None):
        self.layout = _resolve_layout(type(self).__name__, dataset, layout)
        self.source, self.target = source, target
        self.score_channel = score_channel

    def transform(self, results: dict) -> dict:
        data = _check_skeleton(self, results, key=self.source)
        has_score = _has_score(self.layout.name, data.shape[-1], self.score_channel, results)
        results[self.target] = _motion(data, has_score)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(dataset={self.layout.name!r}, source={self.source!r}, target={self.target!r})'


@TRANSFORMS.register_module()
class MergeSkeFeat(BaseTransform):
    """Pop the arrays ``feat_list`` and concatenate them along ``axis`` into ``results[target]``."""

    def __init__(self, feat_list: Sequence[str] = ('keypoint', ), target: str = 'keypoint', axis: int = -1):
        self.feat_list, self.target, self.axis = list(feat_list), target, axis

    def transform(self, results: dict) -> dict:
        missing = [name for name in self.feat_list if name not in results]
        if missing:
            raise sample_error(self, results, f'features {missing} are missing')
        feats = [results.pop(name) for name in self.feat_list]
        results[self.target] = feats[0] if len(feats) == 1 else np.concatenate(feats, axis=self.axis)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(feat_list={self.feat_list}, target={self.target!r}, axis={self.axis})'


@TRANSFORMS.register_module()
class GenSkeFeat(BaseTransform):
    """The modality of a GCN stream: any of joints ``j``, bones ``b``, joint motion ``jm``, bone motion ``bm``,
    concatenated along ``axis`` in the order of ``feats`` into ``keypoint``.

    A ``keypoint_score`` (2D skeletons) is first appended to ``keypoint`` as channel 3 (and treated as a score).
    Motion is taken over the whole sequence, before temporal sampling (as PYSKL). Unlike PYSKL, the intermediate
    features (``j``, ``b``) are not left behind in ``results``. The layout is ``dataset`` (PYSKL's name) or
    ``layout`` (the same thing), default ``nturgb+d``; ``score_channel`` as for :class:`JointToBone`.
    """

    def __init__(self, dataset=None, feats: Sequence[str] = ('j', ), axis: int = -1,
                 score_channel: Optional[bool] = None, layout=None):
        unknown = [f for f in feats if f not in FEATURES]
        if unknown or not feats:
            raise ValueError(f'GenSkeFeat: feats must be a non-empty list of {FEATURES}, got {list(feats)}')
        self.layout = _resolve_layout(type(self).__name__, dataset, layout)
        self.feats, self.axis = list(feats), axis
        self.score_channel = score_channel
        self._table = _BoneTable(self.layout)

    def _merge_score(self, results) -> np.ndarray:
        keypoint = results.pop('keypoint')
        score = results.pop('keypoint_score')
        if self.layout.name == 'nturgb+d':
            raise sample_error(self, results, 'has keypoint_score, but the nturgb+d layout is for 3D skeletons')
        if keypoint.shape[-1] != 2:
            raise sample_error(self, results, f'only 2D keypoints come with keypoint_score, got {keypoint.shape}')
        return np.concatenate([keypoint, score[..., None]], axis=-1)

    def transform(self, results: dict) -> dict:
        _check_skeleton(self, results, num_node=self.layout.num_node)
        score_channel = self.score_channel
        if 'keypoint_score' in results:
            results['keypoint'], score_channel = self._merge_score(results), True
        joints = results.pop('keypoint')
        has_score = _has_score(self.layout.name, joints.shape[-1], score_channel, results)

        feats = dict(j=joints)
        if 'b' in self.feats or 'bm' in self.feats:
            feats['b'] = self._table.bones(joints, has_score)
        for name in ('jm', 'bm'):
            if name in self.feats:
                feats[name] = _motion(feats[name[0]], has_score)
        chosen = [feats[name] for name in self.feats]
        results['keypoint'] = chosen[0] if len(chosen) == 1 else np.concatenate(chosen, axis=self.axis)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(dataset={self.layout.name!r}, feats={self.feats}, axis={self.axis})'


# ----------------------------------------------------------------------------------------------------- length


@TRANSFORMS.register_module()
class PadTo(BaseTransform):
    """Lengthen the sequence to ``length`` frames by looping it (``mode='loop'``) or with zero frames (``'zero'``);
    sets ``total_frames = length``. ``keypoint_score`` is padded too (PYSKL left it at the old length)."""

    def __init__(self, length: int, mode: str = 'loop'):
        if mode not in ('loop', 'zero'):
            raise ValueError(f"PadTo: mode must be 'loop' or 'zero', got {mode!r}")
        self.length, self.mode = length, mode

    def transform(self, results: dict) -> dict:
        total = int(results['total_frames'])
        if not 0 < total <= self.length:
            raise sample_error(self, results, f'cannot pad {total} frames to {self.length}')
        inds = np.arange(self.length) % total
        for key in ('keypoint', 'keypoint_score'):
            if key in results:
                padded = results[key][:, inds]
                if self.mode == 'zero':
                    padded[:, total:] = 0
                results[key] = padded
        results['total_frames'] = self.length
        return results

    def __repr__(self):
        return f'{type(self).__name__}(length={self.length}, mode={self.mode!r})'


# ----------------------------------------------------------------------------------------------------- augmentation


def _rotation_3d(theta: np.ndarray) -> np.ndarray:
    """``Rz @ Ry @ Rx`` for the angles ``theta = (x, y, z)`` (PYSKL's sign convention)."""
    cos, sin = np.cos(theta), np.sin(theta)
    rx = np.array([[1, 0, 0], [0, cos[0], sin[0]], [0, -sin[0], cos[0]]])
    ry = np.array([[cos[1], 0, -sin[1]], [0, 1, 0], [sin[1], 0, cos[1]]])
    rz = np.array([[cos[2], sin[2], 0], [-sin[2], cos[2], 0], [0, 0, 1]])
    return rz @ ry @ rx


def _rotation_2d(theta: float) -> np.ndarray:
    cos, sin = np.cos(theta), np.sin(theta)
    return np.array([[cos, -sin], [sin, cos]])


@TRANSFORMS.register_module()
class RandomRot(BaseTransform):
    """Random rotation by angles drawn from U(-theta, theta): three axes for 3D (``Rz Ry Rx``), one for 2D.
    All-zero skeletons are left alone. PYSKL drew the 2D angle with ``np.random.uniform(-theta)``, i.e. from
    U(-theta, 1.0); here it is U(-theta, theta) as intended."""

    def __init__(self, theta: float = 0.3):
        self.theta = theta

    def transform(self, results: dict) -> dict:
        skeleton = _check_skeleton(self, results, channels=(2, 3))
        if _all_zero(skeleton):
            return results
        if skeleton.shape[-1] == 3:
            rotation = _rotation_3d(np.random.uniform(-self.theta, self.theta, size=3))
        else:
            rotation = _rotation_2d(np.random.uniform(-self.theta, self.theta))
        skeleton = _float(skeleton)
        C = skeleton.shape[-1]
        results['keypoint'] = (skeleton.reshape(-1, C) @ rotation.T.astype(skeleton.dtype)).reshape(skeleton.shape)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(theta={self.theta})'


@TRANSFORMS.register_module()
class RandomScale(BaseTransform):
    """Scale each channel by ``1 + U(-1, 1) * scale`` (``scale``: a number, or one per channel)."""

    def __init__(self, scale=0.2):
        if not isinstance(scale, (int, float, tuple, list)):
            raise TypeError(f'RandomScale: scale must be a number or a tuple of numbers, got {scale!r}')
        self.scale = scale

    def transform(self, results: dict) -> dict:
        skeleton = _float(_check_skeleton(self, results))
        channels = skeleton.shape[-1]
        scale = (self.scale, ) * channels if isinstance(self.scale, (int, float)) else tuple(self.scale)
        if len(scale) != channels:
            raise sample_error(self, results, f'{len(scale)} scales given for {channels} channels')
        factor = (1 + np.random.uniform(-1, 1, size=channels) * np.array(scale)).astype(skeleton.dtype)
        # [M*T, V*C] * tile(factor): one long inner loop instead of numpy's slow length-C broadcast
        M, T, V, C = skeleton.shape
        results['keypoint'] = (skeleton.reshape(M * T, V * C) * np.tile(factor, V)).reshape(skeleton.shape)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(scale={self.scale})'


@TRANSFORMS.register_module()
class RandomGaussianNoise(BaseTransform):
    """Add noise of random direction and N(0, sigma) magnitude scaled by the skeleton's extent (per frame, or over
    the whole video with ``base='video'``); ``shared=True`` (video base only) uses one noise pattern for all frames.
    Frames whose smallest corner lies at the origin (absent persons) get none."""

    def __init__(self, sigma: float = 0.01, base: str = 'frame', shared: bool = False):
        if base not in ('frame', 'video'):
            raise ValueError(f"RandomGaussianNoise: base must be 'frame' or 'video', got {base!r}")
        if shared and base == 'frame':
            raise ValueError('RandomGaussianNoise: shared noise needs base="video"')
        self.sigma, self.base, self.shared = float(sigma), base, shared

    def _extent(self, results, frames: np.ndarray) -> np.ndarray:
        low, high = frames.min(axis=1), frames.max(axis=1)  # [MT, C]
        present = (low ** 2).sum(axis=1) > 1e-4
        if self.base == 'frame':
            return np.linalg.norm(high - low, axis=1) * present
        if not present.any():
            raise sample_error(self, results, 'has no frame with a skeleton to measure')
        return np.linalg.norm(high[present].max(axis=0) - low[present].min(axis=0)) * present

    def transform(self, results: dict) -> dict:
        skeleton = _check_skeleton(self, results)
        M, T, V, C = skeleton.shape
        extent = self._extent(results, skeleton.reshape(-1, V, C))
        if self.shared:
            size = np.random.randn(V) * self.sigma * extent[:, None]  # [MT, V]
            direction = np.tile(np.random.uniform(-1, 1, size=(C, V)), (1, M * T))
        else:
            size = np.random.randn(M * T, V) * self.sigma * extent[:, None]
            direction = np.random.uniform(-1, 1, size=(C, M * T * V))
        direction = direction / np.linalg.norm(direction, axis=0)
        noise = (direction * size.reshape(-1)).T.reshape(M, T, V, C)
        results['keypoint'] = skeleton + noise
        return results

    def __repr__(self):
        return f'{type(self).__name__}(sigma={self.sigma}, base={self.base!r}, shared={self.shared})'


@TRANSFORMS.register_module()
class Flip(BaseTransform):
    """Horizontal flip with probability ``flip_ratio``: of 2D keypoints, ``x -> img_width - x`` for non-zero x
    (zero marks a missing joint; the width is ``img_shape[1]``, as in PYSKL) and left/right joints swapped, in
    ``keypoint`` and ``keypoint_score``; of ``imgs`` (a list of ``[H, W(, C)]`` frames or an ``[N, H, W(, C)]``
    array), each frame mirrored left to right.

    Args:
        flip_ratio: probability of flipping.
        direction: only ``'horizontal'`` (PYSKL allowed nothing else for keypoints).
        flip_label_map: ``{label: label when flipped}``.
        left_kp, right_kp: joints swapped by the flip; when not given, the ``left`` / ``right`` of ``layout``.
        layout: a built-in layout name or custom layout dict (the keypoints must then have its joint count); None
            and no ``left_kp`` / ``right_kp``: no swap.
    """

    def __init__(self, flip_ratio: float = 0.5, direction: str = 'horizontal', flip_label_map: Optional[dict] = None,
                 left_kp: Optional[Sequence[int]] = None, right_kp: Optional[Sequence[int]] = None, layout=None):
        if direction != 'horizontal':
            raise ValueError(f"Flip: keypoints can only be flipped horizontally, got direction={direction!r}")
        if (left_kp is None) != (right_kp is None):
            raise ValueError('Flip: give both left_kp and right_kp, or neither')
        self.layout = None if layout is None else get_layout(layout)
        if left_kp is None and self.layout is not None:
            left_kp, right_kp = self.layout.left, self.layout.right
        left_kp, right_kp = tuple(left_kp or ()), tuple(right_kp or ())
        if len(left_kp) != len(right_kp):
            raise ValueError(f'Flip: left_kp and right_kp differ in length ({len(left_kp)} vs {len(right_kp)})')
        self.flip_ratio, self.direction, self.flip_label_map = flip_ratio, direction, flip_label_map
        self.left_kp, self.right_kp = left_kp, right_kp

    def _flip_keypoints(self, results):
        keypoint = _check_skeleton(self, results, num_node=None if self.layout is None else self.layout.num_node)
        if 'img_shape' not in results:
            raise sample_error(self, results, 'needs img_shape (h, w) to flip x coordinates')
        if self.left_kp and max(self.left_kp + self.right_kp) >= keypoint.shape[2]:
            raise sample_error(self, results, f'left/right joints go up to {max(self.left_kp + self.right_kp)} but '
                               f'keypoint has {keypoint.shape[2]} joints')
        order = flip_order(keypoint.shape[2], self.left_kp, self.right_kp)
        keypoint = keypoint[:, :, order]  # a copy, so the caller's array is untouched
        x = keypoint[..., 0]
        x[...] = np.where(x != 0, results['img_shape'][1] - x, x)
        results['keypoint'] = keypoint
        if 'keypoint_score' in results:
            results['keypoint_score'] = results['keypoint_score'][:, :, order]

    def _flip_images(self, results):
        if results.get('modality') == 'Flow':  # PYSKL also negated flow-x; there is no optical flow here
            raise sample_error(self, results, 'cannot flip optical flow')
        imgs = results['imgs']
        # new arrays (PYSKL flipped in place), contiguous for OpenCV's later steps
        if isinstance(imgs, np.ndarray):
            results['imgs'] = np.ascontiguousarray(imgs[:, :, ::-1])
        else:
            results['imgs'] = [np.ascontiguousarray(img[:, ::-1]) for img in imgs]

    def transform(self, results: dict) -> dict:
        flip = np.random.rand() < self.flip_ratio
        results['flip'] = flip
        results['flip_direction'] = self.direction
        if flip:
            if self.flip_label_map is not None and 'label' in results:
                results['label'] = self.flip_label_map.get(results['label'], results['label'])
            if 'imgs' in results:
                self._flip_images(results)
            if 'keypoint' in results:
                self._flip_keypoints(results)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(flip_ratio={self.flip_ratio}, left_kp={self.left_kp}, '
                f'right_kp={self.right_kp}, flip_label_map={self.flip_label_map})')
