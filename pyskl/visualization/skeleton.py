"""Skeleton annotations drawn as videos a person can watch.

2D skeletons (``keypoint [M, T, V, 2]`` in pixels of ``img_shape``) are drawn with OpenCV over the source video's
frames, or over a white canvas of ``img_shape``. 3D skeletons (``[M, T, V, 3]``, e.g. NTU's Kinect joints in metres)
are drawn with matplotlib as a 3D plot whose view turns a little every frame. The layout's edges come from
:mod:`pyskl.graph`; each person has a colour; a 2D joint's fill colour shows its score (red 0, yellow 0.5, green 1)
and limbs touching a joint scoring under 0.3 are drawn thin; the label, the frame number and each person's mean score
are written in a corner; ``joint_ids`` numbers the joints.

    for frame in render_annotation(anno, video='clip.mp4'):   # BGR uint8 frames, one per annotated frame
        ...
    write_annotation_video(anno, 'out.mp4', video='clip.mp4', fps=30, label_name='wave', joint_ids=True)
"""
from typing import Iterable, Iterator, Optional, Tuple

import cv2
import numpy as np

from pyskl.graph import get_layout
from pyskl.utils.video import VideoWriter, iter_frames

#: The layout of a skeleton with this many joints, when none is given.
LAYOUT_BY_JOINTS = {17: 'coco', 18: 'openpose', 21: 'handmp', 25: 'nturgb+d'}
#: One colour per person (BGR), then repeating.
PERSON_COLOURS = ((255, 128, 0), (0, 0, 255), (255, 0, 255), (0, 160, 255), (128, 0, 128), (0, 128, 0))
LOW_SCORE = 0.3


def guess_layout(num_joints: int) -> str:
    if num_joints not in LAYOUT_BY_JOINTS:
        raise ValueError(f'no built-in layout has {num_joints} joints ({LAYOUT_BY_JOINTS}): give the layout')
    return LAYOUT_BY_JOINTS[num_joints]


def check_annotation(anno: dict) -> Tuple[np.ndarray, np.ndarray]:
    """``keypoint [M, T, V, C]`` as float32 and per-joint scores ``[M, T, V]`` (``keypoint_score``, or 1 where a joint
    has a non-zero coordinate); errors name the sample."""
    name = anno.get('frame_dir', '<unnamed sample>')
    if 'keypoint' not in anno:
        raise ValueError(f'sample {name!r} has no keypoint (a compressed annotation? decompress it first)')
    keypoint = np.asarray(anno['keypoint'], np.float32)
    if keypoint.ndim != 4 or keypoint.shape[-1] not in (2, 3):
        raise ValueError(f'sample {name!r}: keypoint must be [M, T, V, 2 or 3], got shape {keypoint.shape}')
    total = anno.get('total_frames', keypoint.shape[1])
    if total != keypoint.shape[1]:
        raise ValueError(f'sample {name!r}: total_frames is {total} but keypoint has {keypoint.shape[1]} frames')
    if 'keypoint_score' in anno:
        score = np.asarray(anno['keypoint_score'], np.float32)
        if score.shape != keypoint.shape[:3]:
            raise ValueError(f'sample {name!r}: keypoint_score {score.shape} does not match keypoint {keypoint.shape}')
    else:
        score = np.any(keypoint != 0, axis=-1).astype(np.float32)
    return keypoint, score


def label_text(anno: dict, label_name: Optional[str] = None) -> str:
    label = anno.get('label')
    text = '' if label is None else f'label {label}' + (f': {label_name}' if label_name else '')
    return f'{anno.get("frame_dir", "")}  {text}'.strip()


def score_colour(score: float) -> Tuple[int, int, int]:
    """BGR from red (0) through yellow (0.5) to green (1)."""
    s = float(np.clip(score, 0, 1))
    return 0, int(round(255 * min(1, 2 * s))), int(round(255 * min(1, 2 - 2 * s)))


def _put_text(image, text, origin, scale, colour=(255, 255, 255), background=(40, 40, 40)):
    thickness = max(1, int(round(scale * 2)))
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x, y = int(origin[0]), int(origin[1])
    if background is not None:
        cv2.rectangle(image, (x - 2, y - h - 3), (x + w + 2, y + base), background, cv2.FILLED)
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def draw_skeletons_2d(image: np.ndarray, keypoint: np.ndarray, score: np.ndarray, layout, joint_ids: bool = False,
                      score_thr: float = 0.) -> np.ndarray:
    """Draw one frame's people (``keypoint [M, V, 2]`` in ``image``'s pixels, ``score [M, V]``) on ``image``.

    Joints scoring ``<= score_thr`` (by default the absent ones, score 0) are left out, with their limbs.
    """
    layout = get_layout(layout)
    unit = max(image.shape[:2]) / 1000
    radius, thickness = max(2, int(round(5 * unit))), max(2, int(round(3 * unit)))
    for m, (joints, scores) in enumerate(zip(keypoint, score)):
        shown = scores > score_thr
        if not shown.any():
            continue
        colour = PERSON_COLOURS[m % len(PERSON_COLOURS)]
        points = np.round(joints).astype(np.int32)
        for i, j in layout.inward:
            if shown[i] and shown[j]:
                width = thickness if min(scores[i], scores[j]) >= LOW_SCORE else max(1, thickness // 3)
                cv2.line(image, tuple(points[i]), tuple(points[j]), colour, width, cv2.LINE_AA)
        for v in np.flatnonzero(shown):
            cv2.circle(image, tuple(points[v]), radius, score_colour(scores[v]), cv2.FILLED, cv2.LINE_AA)
            cv2.circle(image, tuple(points[v]), radius, colour, 1, cv2.LINE_AA)
            if joint_ids:
                _put_text(image, str(v), points[v] + radius, 0.35 * unit + 0.1, (0, 0, 0), None)
    return image


def _person_scores(image: np.ndarray, score: np.ndarray, score_thr: float, top: float) -> None:
    """Each person's mean score, in the person's colour, in a column under the label."""
    unit = max(image.shape[:2]) / 1000
    for m, scores in enumerate(score):
        shown = scores > score_thr
        if shown.any():
            top += 30 * unit
            _put_text(image, f'person {m}: score {scores[shown].mean():.2f}', (10, top), 0.6 * unit + 0.15,
                      PERSON_COLOURS[m % len(PERSON_COLOURS)], (255, 255, 255))


def render_2d(anno: dict, layout=None, video_frames: Optional[Iterable[np.ndarray]] = None, scale: float = None,
              label_name: Optional[str] = None, joint_ids: bool = False, score_thr: float = 0.) -> Iterator[np.ndarray]:
    """One BGR frame per annotated frame: the skeletons over ``video_frames`` (the source video; its frames are
    matched one to one and the coordinates rescaled from ``img_shape`` to their size) or over a white canvas.

    ``scale`` resizes the output (default 1; a canvas for coordinates normalised to [0, 1] is made 640 pixels).
    """
    yield from _render_2d(anno, *check_annotation(anno), layout, video_frames, scale, label_name, joint_ids,
                          score_thr)


def _render_2d(anno, keypoint, score, layout, video_frames, scale, label_name, joint_ids, score_thr):
    """:func:`render_2d` of the checked ``keypoint`` and ``score``."""
    keypoint = keypoint[..., :2]
    layout = get_layout(layout or guess_layout(keypoint.shape[2]))
    name = anno.get('frame_dir', '<unnamed sample>')
    img_h, img_w = anno.get('img_shape') or _extent(keypoint)
    text = label_text(anno, label_name)
    frames = iter(video_frames) if video_frames is not None else None
    total = keypoint.shape[1]
    for t in range(total):
        if frames is None:
            size = scale or (1. if max(img_h, img_w) >= 100 else 640 / max(img_h, img_w))
            image = np.full((int(round(img_h * size)), int(round(img_w * size)), 3), 255, np.uint8)
        else:
            frame = next(frames, None)
            if frame is None:
                raise ValueError(f'sample {name!r}: the video has {t} frames, fewer than the {total} annotated')
            image = frame if not scale or scale == 1 else cv2.resize(frame, None, fx=scale, fy=scale,
                                                                        interpolation=cv2.INTER_AREA)
        to_image = np.float32([image.shape[1] / img_w, image.shape[0] / img_h])
        draw_skeletons_2d(image, keypoint[:, t] * to_image, score[:, t], layout, joint_ids, score_thr)
        unit = max(image.shape[:2]) / 1000
        if text:
            _put_text(image, text, (10, 10 + 30 * unit), 0.8 * unit + 0.2)
        _person_scores(image, score[:, t], score_thr, 10 + 30 * unit)
        _put_text(image, f'frame {t + 1}/{total}', (10, image.shape[0] - 10), 0.6 * unit + 0.2)
        yield image


def _extent(keypoint: np.ndarray) -> Tuple[int, int]:
    """A canvas (h, w) holding every joint, when the annotation has no ``img_shape``."""
    return (int(np.ceil(keypoint[..., 1].max())) + 1, int(np.ceil(keypoint[..., 0].max())) + 1)


def render_3d(anno: dict, layout=None, label_name: Optional[str] = None, joint_ids: bool = False,
              size: Tuple[int, int] = (640, 640), degrees_per_frame: float = 1.) -> Iterator[np.ndarray]:
    """One BGR frame ``[size[1], size[0], 3]`` per annotated frame: a matplotlib 3D plot of the skeletons, its view
    turning ``degrees_per_frame`` about the vertical. Axes as NTU's Kinect: x right, y up, z away from the camera."""
    yield from _render_3d(anno, *check_annotation(anno), layout, label_name, joint_ids, size, degrees_per_frame)


def _render_3d(anno, keypoint, score, layout, label_name, joint_ids, size=(640, 640), degrees_per_frame=1.):
    """:func:`render_3d` of the checked ``keypoint`` and ``score``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    if keypoint.shape[-1] != 3:
        raise ValueError(f'sample {anno.get("frame_dir")!r}: a 3D plot needs [M, T, V, 3] keypoints')
    layout = get_layout(layout or guess_layout(keypoint.shape[2]))
    # plot (x, z, y): matplotlib's third axis is the vertical one
    points = np.where((score > 0)[..., None], keypoint[..., [0, 2, 1]], np.nan)
    valid = points[np.isfinite(points[..., 0])]
    centre = (valid.max(0) + valid.min(0)) / 2 if len(valid) else np.zeros(3)
    half = max((valid.max(0) - valid.min(0)).max() / 2, 1e-3) * 1.1 if len(valid) else 1.

    fig = Figure(figsize=(size[0] / 100, size[1] / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection='3d')
    for axis, (lo, hi), name in zip('xyz', zip(centre - half, centre + half), ('x', 'z', 'y (up)')):
        getattr(ax, f'set_{axis}lim')(lo, hi)
        getattr(ax, f'set_{axis}label')(name)
    ax.set_box_aspect((1, 1, 1))
    fig.suptitle(label_text(anno, label_name), fontsize=10)
    counter = fig.text(0.02, 0.02, '', fontsize=9)
    colours = [tuple(c / 255 for c in PERSON_COLOURS[m % len(PERSON_COLOURS)][::-1]) for m in range(len(points))]
    limbs = [[ax.plot([], [], [], color=colours[m], lw=2)[0] for _ in layout.inward] for m in range(len(points))]
    joints = [ax.plot([], [], [], 'o', color=colours[m], ms=3)[0] for m in range(len(points))]
    ids = [[ax.text(0, 0, 0, str(v), fontsize=6) for v in range(layout.num_node)] if joint_ids else []
           for _ in range(len(points))]
    total = keypoint.shape[1]
    for t in range(total):
        for m, person in enumerate(points[:, t]):
            for line, (i, j) in zip(limbs[m], layout.inward):
                line.set_data_3d(*person[[i, j]].T)
            joints[m].set_data_3d(*person.T)
            for v, label in enumerate(ids[m]):
                label.set_visible(bool(np.isfinite(person[v, 0])))
                label.set_position_3d(np.nan_to_num(person[v]))
        counter.set_text(f'frame {t + 1}/{total}')
        ax.view_init(elev=15, azim=-60 + degrees_per_frame * t)
        canvas.draw()
        yield np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., 2::-1])


def render_annotation(anno: dict, video: Optional[str] = None, layout=None, label_name: Optional[str] = None,
                      joint_ids: bool = False, scale: Optional[float] = None, score_thr: float = 0.,
                      degrees_per_frame: float = 1.) -> Iterator[np.ndarray]:
    """:func:`render_3d` for 3D keypoints (``scale``, ``score_thr`` unused), else :func:`render_2d` over ``video``'s
    frames when given (``degrees_per_frame`` unused)."""
    keypoint, score = check_annotation(anno)
    if keypoint.shape[-1] == 3:
        if video is not None:
            raise ValueError('3D skeletons are drawn as a 3D plot, not over a video: leave the video out')
        return _render_3d(anno, keypoint, score, layout, label_name, joint_ids, degrees_per_frame=degrees_per_frame)
    frames = iter_frames(video) if video is not None else None
    return _render_2d(anno, keypoint, score, layout, frames, scale, label_name, joint_ids, score_thr)


def write_annotation_video(anno: dict, out: str, video: Optional[str] = None, fps: float = 30., **kwargs) -> int:
    """Render ``anno`` (:func:`render_annotation` with ``video`` and ``kwargs``) into ``out`` (.mp4 or .gif); returns
    the number of frames written. Nothing is left at ``out`` when rendering fails."""
    with VideoWriter(out, fps) as writer:
        for frame in render_annotation(anno, video, **kwargs):
            writer.write(frame)
    return writer.num_frames
