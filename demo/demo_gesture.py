"""PYSKL's real-time hand-gesture demo: MediaPipe Hands -> ST-GCN++ (hagrid.pth) on each hand's last frames (CPU).

    python demo/demo_gesture.py [--camera 0]                          # a webcam, in a window (ESC quits)
    python demo/demo_gesture.py --video hands.mp4 --out annotated.mp4 # headless: the annotated video + a CSV

It needs mediapipe (``pip install -e ".[extract]"``) and PYSKL's gesture checkpoint ``hagrid.pth``: download it from
the demo/ folder of PYSKL's repository (https://github.com/kennymckormick/pyskl/tree/main/demo) into demo/, or pass
``--checkpoint``. The model (demo/stgcnpp_gesture.py) knows 15 HaGRID hand gestures and "No Gesture" (16 of its 40
outputs are trained; tools/data/label_map/gesture.txt names them all).

PYSKL's demo, step by step: MediaPipe Hands finds the hands afresh in every frame (static image mode, one hand by
default); every ``--every`` 2nd frame each hand found is followed back through the earlier frames (in each, the hand
whose box overlaps its box most, if by IoU >= 0.5; the walk stops at the first frame without one) into a clip of up
to 10 frames (the test pipeline's ``clip_len``) of its 21 landmarks in MediaPipe's [0, 1] image coordinates; the clip
goes through the config's test pipeline in test mode and the recognizer; the best class and its probability are
listed, the latest 7 results on the frame. There is no voting and no threshold. The box is the landmarks' extent
with a 20 % margin.

The headless mode writes the annotated video (``--out``) and one CSV row per frame (per hand on the frames with a
prediction; ``--csv``, default beside ``--out``): ``frame``, ``hands`` found, ``status`` ("predicted", "no hand",
"between predictions"), ``hand``, ``clip_frames``, ``label``, ``name``, ``score`` and ``top5`` (``name:score``
joined by ``|``). At the end it prints its frames/s.
"""
import argparse
import csv
import io
import os.path as osp
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, List, Tuple

import cv2
import numpy as np
import torch
from mmengine.dataset import Compose

from pyskl.apis import find_step, get_test_pipeline, inference_recognizer, init_recognizer
from pyskl.extraction import build_backend
from pyskl.graph import get_layout
from pyskl.utils.cli import DefaultsHelpFormatter
from pyskl.utils.fileio import atomic_write
from pyskl.utils.video import VideoError, VideoWriter, iter_frames, video_fps
from pyskl.visualization.skeleton import draw_skeletons_2d

DEMO_DIR = osp.dirname(osp.abspath(__file__))
HAGRID_URL = 'https://github.com/kennymckormick/pyskl/tree/main/demo'
MARGIN = 0.2  # the hand box: the landmarks' extent, 20 % wider and taller
MIN_IOU = 0.5  # a hand in an earlier frame continues the clip when its box overlaps this much
SHOWN_RESULTS = 7
NO_HAND = 'No hands detected'
HAND_LAYOUT = get_layout('handmp')  # resolved once, not every frame
CSV_FIELDS = ('frame', 'hands', 'status', 'hand', 'clip_frames', 'label', 'name', 'score', 'top5')
# the listed results, newest first, from light to dark blue (BGR)
RESULT_COLOURS = [(250, 230, 170), (240, 210, 130), (230, 190, 90), (215, 165, 50), (200, 140, 20), (170, 110, 10),
                  (140, 80, 0)]


# ---------------------------------------------------------------------------------------------------------------------
# Following a hand back in time

def hand_box(keypoint: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """``(x1, y1, x2, y2)`` around ``keypoint [21, 2]`` ([0, 1] coordinates), ``margin`` larger, inside the frame."""
    low, high = keypoint.min(0), keypoint.max(0)
    centre, half = (low + high) / 2, (high - low) * (1 + margin) / 2
    return np.concatenate([np.maximum(centre - half, 0), np.minimum(centre + half, 1)])


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one ``(x1, y1, x2, y2)`` box with each of ``boxes [K, 4]``."""
    low, high = np.maximum(box[:2], boxes[:, :2]), np.minimum(box[2:], boxes[:, 2:])
    overlap = np.prod(np.clip(high - low, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return overlap / np.maximum(area + areas - overlap, 1e-12)


class HandHistory:
    """The hands of the last ``clip_len - 1`` frames, and the clip of a hand found now.

    PYSKL's demo gave mmdet's IoU (which reads ``x1, y1, x2, y2``) boxes as ``x, y, w, h``, so the IoU was almost
    always 0 and its clips almost always one frame long; here the boxes are corners and the clips grow to
    ``clip_len`` frames as intended.
    """

    def __init__(self, clip_len: int):
        self.clip_len = clip_len
        self.frames: Deque[List[Tuple[np.ndarray, np.ndarray]]] = deque(maxlen=clip_len - 1)

    def clip(self, keypoint: np.ndarray, box: np.ndarray) -> np.ndarray:
        """``[T, 21, 2]``, oldest first, T <= clip_len: the hand and, going back, the hand its box overlaps most."""
        found = [keypoint]
        for hands in reversed(self.frames):
            if not hands:
                break
            ious = box_iou(box, np.stack([b for _, b in hands]))
            best = int(np.argmax(ious))
            if ious[best] < MIN_IOU:
                break
            keypoint, box = hands[best]
            found.append(keypoint)
        return np.stack(found[::-1]).astype(np.float32)

    def add(self, hands: List[Tuple[np.ndarray, np.ndarray]]) -> None:
        """This frame's hands (``(keypoint, box)`` each), after its clips were made."""
        self.frames.append(hands)


# ---------------------------------------------------------------------------------------------------------------------
# The demo, frame by frame

@dataclass
class HandResult:
    clip_frames: int
    pred: object  # pyskl.apis.Prediction

    def text(self) -> str:
        return f'{self.pred.name}: {self.pred.score:.3f}'


@dataclass
class FrameResult:
    index: int
    hands: List[np.ndarray]  # [21, 2] each, [0, 1] coordinates
    boxes: List[np.ndarray]
    predicted: bool  # whether this frame was a prediction frame
    results: List[HandResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.hands:
            return 'no hand'
        return 'predicted' if self.predicted else 'between predictions'


def clip_len_of(pipeline) -> int:
    sampler = find_step(pipeline, 'UniformSample', 'UniformSampleFrames')
    if sampler is None:
        raise ValueError('the test pipeline has no UniformSample step to say how long a clip is')
    return int(sampler['clip_len'])


class GestureDemo:
    """Feed frames in order with :meth:`step`; it detects the hands and, every ``every``-th frame, classifies them."""

    def __init__(self, model, hands, every: int = 2, topk: int = 5):
        self.model, self.hands, self.every, self.topk = model, hands, every, topk
        pipeline = get_test_pipeline(model.cfg)
        self.history = HandHistory(clip_len_of(pipeline))
        self.pipeline = Compose(pipeline)  # built once: the model runs on every hand of every other frame
        self.shown: Deque[str] = deque(maxlen=SHOWN_RESULTS)  # the latest results, oldest first
        self.frames = 0
        self.detect_seconds = self.model_seconds = 0.
        self.clips = 0

    def step(self, frame: np.ndarray) -> FrameResult:
        start = time.perf_counter()
        found = self.hands.detect(frame)
        self.detect_seconds += time.perf_counter() - start
        h, w = frame.shape[:2]
        hands = [keypoint / np.float32([w, h]) for keypoint in found.keypoint]  # MediaPipe's [0, 1] coordinates
        boxes = [hand_box(keypoint) for keypoint in hands]
        result = FrameResult(self.frames, hands, boxes, predicted=(self.frames + 1) % self.every == 0)
        if result.predicted:
            if not hands:
                self.shown.append(NO_HAND)
            start = time.perf_counter()
            for keypoint, box in zip(hands, boxes):
                clip = self.history.clip(keypoint, box)
                pred = inference_recognizer(self.model, dict(keypoint=clip[None]), topk=self.topk,
                                            pipeline=self.pipeline)
                result.results.append(HandResult(len(clip), pred))
                self.shown.append(result.results[-1].text())
            self.model_seconds += time.perf_counter() - start
            self.clips += len(hands)
        self.history.add(list(zip(hands, boxes)))
        self.frames += 1
        return result

    def draw(self, frame: np.ndarray, result: FrameResult, mirror: bool = False) -> np.ndarray:
        """The hands, their boxes and the latest results (newest first) on ``frame``; ``mirror`` flips the picture
        (a selfie view) under the text."""
        h, w = frame.shape[:2]
        thickness = max(1, w // 320)
        if result.hands:
            to_pixels = np.float32([w, h])
            keypoint = np.stack(result.hands) * to_pixels
            draw_skeletons_2d(frame, keypoint, np.ones(keypoint.shape[:2], np.float32), HAND_LAYOUT)
            for box in result.boxes:
                x1, y1, x2, y2 = np.round(box * np.tile(to_pixels, 2)).astype(int)
                cv2.rectangle(frame, (x1, y1), (x2, y2), (0, 0, 255), thickness)
        if mirror:
            frame = cv2.flip(frame, 1)
        scale = max(1., h / 720)
        for i, (text, colour) in enumerate(zip(reversed(self.shown), RESULT_COLOURS)):
            origin = (10, int((24 + 24 * i) * scale))
            cv2.putText(frame, text, origin, cv2.FONT_HERSHEY_DUPLEX, 0.6 * scale, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(frame, text, origin, cv2.FONT_HERSHEY_DUPLEX, 0.6 * scale, colour, 1, cv2.LINE_AA)
        return frame

    def speed(self, seconds: float) -> str:
        per_frame = 1000 * self.detect_seconds / max(self.frames, 1)
        per_clip = 1000 * self.model_seconds / max(self.clips, 1)
        return (f'{self.frames} frames in {seconds:.1f} s: {self.frames / max(seconds, 1e-9):.1f} frames/s (MediaPipe '
                f'Hands {per_frame:.1f} ms/frame, recognizer {per_clip:.1f} ms/clip over {self.clips} clips)')


def csv_rows(result: FrameResult) -> List[dict]:
    base = dict(frame=result.index, hands=len(result.hands), status=result.status)
    if not result.results:
        return [base]
    return [dict(base, hand=i, clip_frames=r.clip_frames, label=r.pred.label, name=r.pred.name,
                 score=f'{r.pred.score:.6f}', top5='|'.join(f'{name}:{score:.6f}' for _, name, score in r.pred.topk))
            for i, r in enumerate(result.results)]


# ---------------------------------------------------------------------------------------------------------------------
# The command

def build_parser():
    parser = argparse.ArgumentParser(description="PYSKL's hand-gesture demo: a webcam, or a video file headless",
                                     formatter_class=DefaultsHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--camera', type=int, default=0, help='webcam index (when no --video is given)')
    source.add_argument('--video', help='read this video instead of a webcam (headless unless --show)')
    parser.add_argument('--out', help='write the annotated video here (.mp4 or .gif); needed with --video')
    parser.add_argument('--csv', help='per-frame predictions (default: --out with .csv)')
    parser.add_argument('--config', default=osp.join(DEMO_DIR, 'stgcnpp_gesture.py'), help='the gesture model config')
    parser.add_argument('--checkpoint', default=osp.join(DEMO_DIR, 'hagrid.pth'),
                        help=f"PYSKL's hagrid.pth (from {HAGRID_URL})")
    parser.add_argument('--every', type=int, default=2, help='classify the hands every N-th frame (PYSKL: 2)')
    parser.add_argument('--max-hands', type=int, default=1, help='hands MediaPipe looks for (PYSKL: 1)')
    parser.add_argument('--track-hands', action='store_true',
                        help="MediaPipe's video mode (tracks the hands from frame to frame; faster) instead of "
                        "PYSKL's detection in every frame")
    parser.add_argument('--topk', type=int, default=5, help='classes in the CSV')
    parser.add_argument('--show', action=argparse.BooleanOptionalAction, default=None,
                        help='show a window (default: with a webcam, not with --video)')
    parser.add_argument('--mirror', action=argparse.BooleanOptionalAction, default=None,
                        help='flip the picture (a selfie view; default: with a webcam)')
    parser.add_argument('--max-frames', type=int, help='stop after this many frames')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads for the recognizer (a small model: more threads cost more than they give)')
    return parser


def open_camera(index: int) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise VideoError(f'camera {index}: OpenCV cannot open it (no webcam? try --camera 1, or --video FILE)')
    return capture


def camera_frames(capture: cv2.VideoCapture):
    misses = 0
    try:
        while misses < 30:  # a webcam drops a frame now and then; 30 in a row: it is gone
            ok, frame = capture.read()
            if not ok:
                misses += 1
                continue
            misses = 0
            yield frame
    finally:
        capture.release()


def check_args(parser, args) -> None:
    if args.video and not args.out:
        parser.error('--video needs --out (the annotated video to write)')
    if args.csv and not args.out:
        parser.error('--csv goes with --out')
    if min(args.every, args.max_hands, args.topk, args.threads) < 1:
        parser.error('--every, --max-hands, --topk and --threads must be >= 1')
    if args.video and not osp.isfile(args.video):
        parser.exit(2, f'error: {args.video}: no such file\n')
    if not osp.isfile(args.checkpoint):
        parser.exit(2, f'error: no checkpoint at {args.checkpoint}: download hagrid.pth from {HAGRID_URL} into '
                    'demo/, or pass --checkpoint\n')


def write_csv(path: str, rows: List[dict]) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, CSV_FIELDS, lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    with atomic_write(path, 'w') as f:
        f.write(text.getvalue())


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    show = args.show if args.show is not None else args.video is None
    mirror = args.mirror if args.mirror is not None else args.video is None
    torch.set_num_threads(args.threads)
    try:
        model = init_recognizer(args.config, args.checkpoint)
        frames = iter_frames(args.video) if args.video else camera_frames(open_camera(args.camera))
        fps = video_fps(args.video) if args.video else 30.
        hands = build_backend('mediapipe-hands', max_persons=args.max_hands,
                              static_image_mode=not args.track_hands)
    except (OSError, ValueError, ImportError, VideoError) as e:
        parser.exit(2, f'error: {e}\n')
    demo = GestureDemo(model, hands, every=args.every, topk=args.topk)
    writer = VideoWriter(args.out, fps) if args.out else None
    rows, start = [], time.perf_counter()
    try:
        for frame in frames:
            result = demo.step(frame)
            rows += csv_rows(result)
            picture = demo.draw(frame, result, mirror)
            if writer is not None:
                writer.write(picture)
            if show:
                cv2.imshow('pyskl gesture demo (ESC quits)', picture)
                if cv2.waitKey(1) & 0xFF == 27:
                    break
            if args.max_frames and demo.frames >= args.max_frames:
                break
    except (VideoError, KeyboardInterrupt) as e:
        if isinstance(e, VideoError):
            print(f'error: {e}', file=sys.stderr)
    finally:
        seconds = time.perf_counter() - start
        hands.close()
        if show:
            cv2.destroyAllWindows()
    if writer is not None and demo.frames:
        writer.close()
        csv_path = args.csv or osp.splitext(args.out)[0] + '.csv'
        write_csv(csv_path, rows)
        print(f'wrote {args.out} ({writer.num_frames} frames, {writer.size[0]}x{writer.size[1]}) and {csv_path}')
    print(demo.speed(seconds))
    return 0 if demo.frames else 1


if __name__ == '__main__':
    sys.exit(main())
