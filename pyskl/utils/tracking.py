"""Linking per-frame pose detections into person tracks (PYSKL's ``pose_tracking`` of ``demo/demo_skeleton.py``).

A pose estimator gives, for every frame, K persons' joints ``[K, V, 2]`` and scores ``[K, V]``, in no particular
order. A skeleton annotation needs ``keypoint [M, T, V, 2]``: person ``m`` must be the same person in every frame.

PYSKL's rule, frame by frame: a track is *alive* while its last pose is less than ``max_gap`` frames old; the cost of
giving pose ``p`` to track ``t`` is ``sum over joints of max(2 * |xy_t - xy_p|, |score_t - score_p|)`` against the
track's last pose; the assignment of least total cost is made (Hungarian, no cost limit); poses left over start new
tracks. At the end the ``max_tracks`` tracks with the most poses are kept (ties: the older track first).
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment


def pose_distance(track_poses: np.ndarray, poses: np.ndarray) -> np.ndarray:
    """PYSKL's ``dist_ske`` for every pair: ``[n, V, 3]`` x ``[m, V, 3]`` (x, y, score) -> costs ``[n, m]``."""
    diff = track_poses[:, None] - poses[None]
    joint_cost = np.maximum(2 * np.linalg.norm(diff[..., :2], axis=-1), np.abs(diff[..., 2]))
    return joint_cost.sum(-1)


class PoseTracker:
    """Feed frames with :meth:`update` in order, then read the tracks with :meth:`result`.

    Args:
        max_tracks (int): M, the number of tracks :meth:`result` returns (the longest ones).
        max_gap (int): a track takes poses only while its last pose is less than this many frames old (PYSKL's
            ``thre=30``); a person who is away longer comes back as a new track.
    """

    def __init__(self, max_tracks: int = 2, max_gap: int = 30):
        if max_tracks < 1 or max_gap < 1:
            raise ValueError(f'max_tracks and max_gap must be >= 1, got {max_tracks}, {max_gap}')
        self.max_tracks, self.max_gap = max_tracks, max_gap
        self.tracks: List[List[Tuple[int, np.ndarray]]] = []  # each: [(frame index, [V, 3] pose), ...]
        self.num_frames = 0
        self.num_joints: Optional[int] = None

    def update(self, keypoint: np.ndarray, keypoint_score: np.ndarray) -> None:
        """Add the next frame's detections: ``keypoint [K, V, 2]``, ``keypoint_score [K, V]`` (K may be 0)."""
        frame = self.num_frames
        self.num_frames += 1
        poses = self._stack(keypoint, keypoint_score, frame)
        if len(poses) == 0:
            return
        alive = [track for track in self.tracks if track[-1][0] > frame - self.max_gap]
        taken = np.zeros(len(poses), bool)
        if alive:
            last = np.stack([track[-1][1] for track in alive])
            rows, cols = linear_sum_assignment(pose_distance(last, poses))
            for r, c in zip(rows, cols):
                alive[r].append((frame, poses[c]))
            taken[cols] = True
        self.tracks.extend([(frame, pose)] for pose in poses[~taken])

    def _stack(self, keypoint, keypoint_score, frame: int) -> np.ndarray:
        keypoint, keypoint_score = np.asarray(keypoint, np.float32), np.asarray(keypoint_score, np.float32)
        if keypoint.size == 0 and keypoint_score.size == 0:
            return np.zeros((0, self.num_joints or 0, 3), np.float32)
        if keypoint.ndim != 3 or keypoint.shape[-1] != 2 or keypoint_score.shape != keypoint.shape[:2]:
            raise ValueError(f'frame {frame}: expected keypoint [K, V, 2] and keypoint_score [K, V], got '
                             f'{keypoint.shape} and {keypoint_score.shape}')
        if self.num_joints is None:
            self.num_joints = keypoint.shape[1]
        elif keypoint.shape[1] != self.num_joints:
            raise ValueError(f'frame {frame}: poses have {keypoint.shape[1]} joints, earlier ones {self.num_joints}')
        return np.concatenate([keypoint, keypoint_score[..., None]], axis=-1)

    def result(self, pad: bool = False, num_joints: Optional[int] = None,
               dtype=np.float32) -> Tuple[np.ndarray, np.ndarray]:
        """``keypoint [M, T, V, 2]`` and ``keypoint_score [M, T, V]``, zeros where a track has no pose.

        M is the number of tracks kept (at most ``max_tracks``, at least 1: all zeros when nobody was seen); with
        ``pad=True`` it is always ``max_tracks``, as in PYSKL's demo. ``num_joints`` gives V when no frame had a pose.
        ``dtype=np.float16`` rounds like PYSKL's demo.
        """
        num_joints = self.num_joints if self.num_joints is not None else num_joints
        if num_joints is None:
            raise ValueError('no pose was seen in any frame: pass num_joints to know V')
        kept = sorted(self.tracks, key=len, reverse=True)[:self.max_tracks]  # stable: older tracks win ties
        num_tracks = self.max_tracks if pad else max(len(kept), 1)
        out = np.zeros((num_tracks, self.num_frames, num_joints, 3), dtype)
        for m, track in enumerate(kept):
            frames = [frame for frame, _ in track]
            out[m, frames] = np.stack([pose for _, pose in track])
        return out[..., :2], out[..., 2]


def track_poses(keypoints: Sequence[np.ndarray], keypoint_scores: Sequence[np.ndarray], max_tracks: int = 2,
                max_gap: int = 30, pad: bool = False, num_joints: Optional[int] = None,
                dtype=np.float32) -> Tuple[np.ndarray, np.ndarray]:
    """Track a whole video: per-frame ``[K_t, V, 2]`` joints and ``[K_t, V]`` scores -> ``[M, T, V, 2]``, ``[M, T, V]``.

    A frame with nobody is an empty array (or ``[]``). See :class:`PoseTracker` for the arguments.
    """
    if len(keypoints) != len(keypoint_scores):
        raise ValueError(f'{len(keypoints)} frames of keypoints but {len(keypoint_scores)} of scores')
    tracker = PoseTracker(max_tracks, max_gap)
    for keypoint, score in zip(keypoints, keypoint_scores):
        tracker.update(keypoint, score)
    return tracker.result(pad=pad, num_joints=num_joints, dtype=dtype)
