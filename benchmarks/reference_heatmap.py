"""PYSKL's pseudo-heatmap definition as a plain loop: one Gaussian per keypoint (or limb), person and frame.

This is the reference that ``pyskl.datasets.transforms.GeneratePoseTarget`` (vectorised numpy) and the data
preprocessor's torch renderer are tested against (``tests/datasets/transforms/test_heatmap.py``), and the baseline
``bench_heatmap_pipeline.py`` times them beside. It follows PYSKL's ``GeneratePoseTarget`` step by step, in float32:

* a keypoint with value ``v`` (its score, or 1 without ``use_score``) below 1e-3 draws nothing; otherwise
  ``v * exp(-((x - mu_x)^2 + (y - mu_y)^2) / (2 sigma^2))`` is max-ed into the window
  ``[max(int(mu - 3 sigma), 0), min(int(mu + 3 sigma) + 1, size))`` on each axis (``int`` truncates toward 0);
* a limb ``(a, b)`` draws ``min(v_a, v_b) * exp(-d^2 / (2 sigma^2))``, ``d`` the distance to the segment, in the box
  around both ends widened by 3 sigma the same way; a segment shorter than 1 pixel draws a's keypoint map instead;
* ``scaling`` multiplies the coordinates and rounds the image size (``int(size * scaling + 0.5)``);
* ``double`` appends the mirrored volume (``W`` reversed, left/right channels swapped) along the frame axis.

Deliberately slow and obvious: it is the definition, not an implementation to use.
"""
import numpy as np

EPS = 1e-3
COCO_LIMBS = ((0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9), (0, 6), (6, 8), (8, 10), (5, 11), (11, 13),
              (13, 15), (6, 12), (12, 14), (14, 16), (11, 12))


def _axis_window(low: float, high: float, sigma: float, size: int) -> np.ndarray:
    start = max(int(np.float32(low) - np.float32(3 * sigma)), 0)
    end = min(int(np.float32(high) + np.float32(3 * sigma)) + 1, size)
    return np.arange(start, end, dtype=np.float32)


def draw_keypoint(canvas: np.ndarray, center, value, sigma: float) -> None:
    if value < EPS:
        return
    height, width = canvas.shape
    xs = _axis_window(center[0], center[0], sigma, width)
    ys = _axis_window(center[1], center[1], sigma, height)[:, None]
    if not (xs.size and ys.size):
        return
    patch = np.exp(-((xs - center[0])**2 + (ys - center[1])**2) / 2 / sigma**2) * value
    window = canvas[int(ys[0, 0]):int(ys[-1, 0]) + 1, int(xs[0]):int(xs[-1]) + 1]
    np.maximum(window, patch, out=window)


def draw_limb(canvas: np.ndarray, start, end, start_value, end_value, sigma: float) -> None:
    value = min(start_value, end_value)
    if value < EPS:
        return
    height, width = canvas.shape
    xs = _axis_window(min(start[0], end[0]), max(start[0], end[0]), sigma, width)
    ys = _axis_window(min(start[1], end[1]), max(start[1], end[1]), sigma, height)[:, None]
    if not (xs.size and ys.size):
        return
    length2 = (start[0] - end[0])**2 + (start[1] - end[1])**2
    if length2 < 1:
        draw_keypoint(canvas, start, start_value, sigma)
        return
    to_start = (xs - start[0])**2 + (ys - start[1])**2
    to_end = (xs - end[0])**2 + (ys - end[1])**2
    along = (to_start - to_end + length2) / 2 / length2  # projection on the segment, 0 at start, 1 at end
    to_line = (xs - (start[0] + along * (end[0] - start[0])))**2 + (ys - (start[1] + along * (end[1] - start[1])))**2
    dist2 = np.where(along <= 0, to_start, np.where(along >= 1, to_end, to_line))
    patch = np.exp(-dist2 / 2 / sigma**2) * value
    window = canvas[int(ys[0, 0]):int(ys[-1, 0]) + 1, int(xs[0]):int(xs[-1]) + 1]
    np.maximum(window, patch, out=window)


def reference_heatmaps(keypoint, keypoint_score, img_shape, sigma=0.6, use_score=True, with_kp=True,
                       with_limb=False, skeletons=COCO_LIMBS, double=False, left_kp=(1, 3, 5, 7, 9, 11, 13, 15),
                       right_kp=(2, 4, 6, 8, 10, 12, 14, 16), left_limb=(0, 2, 4, 5, 6, 10, 11, 12),
                       right_limb=(1, 3, 7, 8, 9, 13, 14, 15), scaling=1.):
    """``[T, C, H, W]`` (``[2T, ...]`` with ``double``) from ``keypoint`` ``[M, T, V, 2]`` and scores ``[M, T, V]``
    (None: all ones)."""
    keypoint = np.array(keypoint, dtype=np.float32)[..., :2] * np.float32(scaling)
    scores = np.ones(keypoint.shape[:-1], np.float32) if keypoint_score is None else \
        np.asarray(keypoint_score, dtype=np.float32)
    if not use_score:
        scores = np.ones_like(scores)
    height, width = int(img_shape[0] * scaling + 0.5), int(img_shape[1] * scaling + 0.5)
    num_persons, num_frames, num_joints = keypoint.shape[:3]
    channels = num_joints if with_kp else len(skeletons)
    heatmap = np.zeros((num_frames, channels, height, width), np.float32)
    for t in range(num_frames):
        for m in range(num_persons):
            kps, values = keypoint[m, t], scores[m, t]
            if with_kp:
                for k in range(num_joints):
                    draw_keypoint(heatmap[t, k], kps[k], values[k], sigma)
            else:
                for c, (a, b) in enumerate(skeletons):
                    draw_limb(heatmap[t, c], kps[a], kps[b], values[a], values[b], sigma)
    if double:
        order = np.arange(channels)
        left, right = (left_kp, right_kp) if with_kp else (left_limb, right_limb)
        order[list(left)], order[list(right)] = right, left
        heatmap = np.concatenate([heatmap, heatmap[:, order, :, ::-1]])
    return heatmap
