"""Pictures of PoseC3D's input: a sample's keypoint or limb heatmap volume as coloured frames.

Each channel (joint or limb) gets its own hue; a pixel shows the strongest channel there, as bright as its value.
:func:`heatmap_frames` makes the frames, :func:`save_heatmaps` writes them as one PNG (frames side by side) or as a
video (``.mp4``), and ``tools/visualize_heatmap.py`` does both for one sample of an annotation file.
"""
import colorsys
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.dataset import Compose

from pyskl.utils.fileio import atomic_write
from pyskl.utils.video import VideoWriter


def channel_colours(num_channels: int) -> np.ndarray:
    """``[C, 3]`` uint8 BGR colours, evenly spaced hues."""
    rgb = [colorsys.hsv_to_rgb(i / num_channels, 0.85, 1.0) for i in range(num_channels)]
    return (np.array(rgb)[:, ::-1] * 255).astype(np.uint8)


def heatmap_frames(volume: np.ndarray, scale: int = 4) -> np.ndarray:
    """``[T, C, H, W]`` heatmaps -> ``[T, H * scale, W * scale, 3]`` uint8 BGR images on black."""
    volume = np.asarray(volume, dtype=np.float32)
    strongest = volume.argmax(axis=1)  # [T, H, W]
    brightness = np.clip(volume.max(axis=1), 0, 1)[..., None]
    frames = (channel_colours(volume.shape[1])[strongest] * brightness).astype(np.uint8)
    if scale != 1:
        frames = np.stack([cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST) for f in frames])
    return frames


def _label_frames(frames: np.ndarray, titles: Sequence[str]) -> np.ndarray:
    frames = frames.copy()
    for frame, title in zip(frames, titles):
        cv2.putText(frame, title, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1, cv2.LINE_AA)
    return frames


def save_heatmaps(volume: np.ndarray, out_file: str, scale: int = 4, fps: int = 8, columns: int = 8,
                  title: Optional[str] = None) -> np.ndarray:
    """Write ``[T, C, H, W]`` heatmaps to ``out_file``: ``.png`` (a grid, ``columns`` frames a row) or ``.mp4``
    (one frame per step at ``fps``). Returns the frames drawn (``[T, H', W', 3]`` BGR)."""
    frames = _label_frames(heatmap_frames(volume, scale), [f'{title + " " if title else ""}t={t}'
                                                          for t in range(len(volume))])
    ext = osp.splitext(out_file)[1].lower()
    if ext == '.png':
        rows = -(-len(frames) // columns)
        pad = np.zeros((rows * columns - len(frames), ) + frames.shape[1:], np.uint8)
        height, width = frames.shape[1:3]
        grid = np.concatenate([frames, pad]).reshape(rows, columns, height, width, 3)
        image = grid.transpose(0, 2, 1, 3, 4).reshape(rows * height, columns * width, 3)
        ok, data = cv2.imencode('.png', image)
        if not ok:
            raise RuntimeError(f'OpenCV could not encode {out_file}')
        with atomic_write(out_file, 'wb') as f:
            f.write(data.tobytes())
    elif ext == '.mp4':
        with VideoWriter(out_file, fps) as writer:
            for frame in frames:
                writer.write(frame)
    else:
        raise ValueError(f'{out_file}: write a .png (frames side by side) or a .mp4 (a video)')
    return frames


def sample_volume(annotation: dict, frames: int = 16, size: int = 64, limb: bool = False, sigma: float = 0.6,
                  skeletons=None) -> np.ndarray:
    """One sample's heatmaps as PoseC3D's test pipeline makes them (``frames`` frames spread over the sample, the
    persons' box cropped and resized to ``size`` x ``size``): ``[frames, C, size, size]``."""
    target = dict(type='GeneratePoseTarget', sigma=sigma, with_kp=not limb, with_limb=limb)
    if skeletons is not None:
        target['skeletons'] = skeletons
    pipeline = Compose([
        dict(type='UniformSampleFrames', clip_len=frames, num_clips=1),
        dict(type='PoseDecode'),
        dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
        dict(type='Resize', scale=(size, size), keep_ratio=False),
        target,
    ])
    sample = dict(annotation, start_index=0, modality='Pose', test_mode=True)
    sample.setdefault('total_frames', sample['keypoint'].shape[1])
    if 'img_shape' not in sample:
        raise ValueError(f"sample {sample.get('frame_dir')!r} has no img_shape: heatmaps need 2D pixel coordinates "
                         '(a 2D skeleton annotation such as ntu60_hrnet.pkl)')
    return pipeline(sample)['imgs']
