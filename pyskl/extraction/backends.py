"""Pose back-ends: people's 2D joints in video frames, behind one small interface.

A back-end takes one video's frames (BGR uint8 ``[H, W, 3]``, as OpenCV decodes them) and gives, for every frame,
the people it found: ``FramePoses(keypoint [K, V, 2] in pixels, keypoint_score [K, V] in [0, 1])``. K may be 0 and
the people come in no particular order, so a back-end with ``max_persons > 1`` needs a tracker to make persons out of
them. ``layout`` names the joint order (a :mod:`pyskl.graph` layout).

    backend = build_backend('mediapipe')
    poses = backend(iter_frames('clip.mp4'))     # one FramePoses per frame; call again for the next video
    backend.detect(frame)                         # or frame by frame (a webcam); backend.reset() between videos

Back-ends:

* ``mediapipe`` (default): MediaPipe Pose (BlazePose GHUM, "full" model), one person, COCO-17 joints mapped from
  its 33 landmarks (:data:`MEDIAPIPE_POSE_TO_COCO`); the score is the landmark's ``visibility``.
* ``mediapipe-hands``: MediaPipe Hands, up to ``max_persons`` hands, 21 joints in MediaPipe's order (layout
  ``handmp``).
* ``mmpose``: PYSKL's pipeline: an mmdet person detector, then an mmpose top-down model (HRNet) per box;
  multi-person, COCO-17 with heatmap scores.

MediaPipe's models ship inside the ``mediapipe==0.10.14`` wheel: nothing is downloaded at run time. (Only the
"full" pose model is in the wheel; MediaPipe would download the "lite" and "heavy" ones, so they are not offered.)
"""
import os.path as osp
import warnings
from typing import Iterable, List, NamedTuple, Type, Union

import cv2
import numpy as np


class FramePoses(NamedTuple):
    """The people found in one frame: ``keypoint [K, V, 2]`` (x, y pixels), ``keypoint_score [K, V]``."""
    keypoint: np.ndarray
    keypoint_score: np.ndarray


def no_poses(num_joints: int) -> FramePoses:
    return FramePoses(np.zeros((0, num_joints, 2), np.float32), np.zeros((0, num_joints), np.float32))


class PoseBackend:
    """The interface. Subclasses set the class attributes and implement :meth:`detect`."""
    name: str = ''
    layout: str = ''
    num_joints: int = 0
    max_persons: int = 1

    def detect(self, frame: np.ndarray) -> FramePoses:
        """The people in one BGR frame (the next frame of the current video, for back-ends that track)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget earlier frames: the next :meth:`detect` starts a new video."""

    def close(self) -> None:
        """Release the models (safe to call twice)."""

    def settings(self) -> dict:
        """What the output depends on (extraction caches are only reused under the same settings)."""
        return dict(name=self.name, layout=self.layout, max_persons=self.max_persons)

    def __call__(self, frames: Iterable[np.ndarray]) -> List[FramePoses]:
        self.reset()
        return [self.detect(frame) for frame in frames]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------------------------------------------------
# MediaPipe

#: COCO-17 joint ``i`` is MediaPipe Pose landmark ``MEDIAPIPE_POSE_TO_COCO[i]``. Both name left and right from the
#: person's point of view.
#:
#: ===  ==============  ===  ==================
#: COCO                 MediaPipe Pose
#: -------------------  -----------------------
#:   0  nose              0  nose
#:   1  left_eye          2  left_eye (centre)
#:   2  right_eye         5  right_eye (centre)
#:   3  left_ear          7  left_ear
#:   4  right_ear         8  right_ear
#:   5  left_shoulder    11  left_shoulder
#:   6  right_shoulder   12  right_shoulder
#:   7  left_elbow       13  left_elbow
#:   8  right_elbow      14  right_elbow
#:   9  left_wrist       15  left_wrist
#:  10  right_wrist      16  right_wrist
#:  11  left_hip         23  left_hip
#:  12  right_hip         24  right_hip
#:  13  left_knee        25  left_knee
#:  14  right_knee       26  right_knee
#:  15  left_ankle       27  left_ankle
#:  16  right_ankle      28  right_ankle
#: ===  ==============  ===  ==================
#:
#: Left out: the inner and outer eye corners (1, 3, 4, 6), the mouth corners (9, 10), and the hand and foot points
#: (17-22, 29-32), which COCO does not have.
MEDIAPIPE_POSE_TO_COCO = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)

MEDIAPIPE_INSTALL = 'pip install -e ".[extract]"  (mediapipe==0.10.14, whose pose and hand models ship in the wheel)'


def import_mediapipe():
    try:
        import mediapipe
    except ImportError as e:
        raise ImportError(f'The MediaPipe back-ends need mediapipe: {MEDIAPIPE_INSTALL}. Importing it failed: {e}')
    # mediapipe 0.10.14 calls an API that protobuf 4.x deprecates, once per process: not the user's concern
    warnings.filterwarnings('ignore', message='SymbolDatabase.GetPrototype', category=UserWarning)
    return mediapipe


def _landmark_array(landmarks, fields) -> np.ndarray:
    return np.array([[getattr(point, field) for field in fields] for point in landmarks.landmark], np.float32)


class MediaPipePose(PoseBackend):
    """MediaPipe Pose in video mode (it tracks one person from frame to frame), mapped to COCO-17.

    Coordinates: MediaPipe's normalised landmarks times the frame's width and height (a joint it places outside the
    picture keeps its estimate, outside ``[0, w) x [0, h)``). Score: the landmark's ``visibility``, MediaPipe's
    probability that the joint is in the picture and not occluded (this legacy API leaves ``presence`` unset). A frame
    where MediaPipe finds nobody gives K = 0.
    """
    name, layout, num_joints, max_persons = 'mediapipe', 'coco', 17, 1

    def __init__(self, min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 smooth_landmarks: bool = True):
        mediapipe = import_mediapipe()
        self._options = dict(min_detection_confidence=min_detection_confidence,
                             min_tracking_confidence=min_tracking_confidence, smooth_landmarks=smooth_landmarks)
        # model_complexity=1 is the "full" model, the one inside the wheel; 0 and 2 would be downloaded.
        self._pose = mediapipe.solutions.pose.Pose(static_image_mode=False, model_complexity=1,
                                                   enable_segmentation=False, **self._options)
        self._mapping = np.array(MEDIAPIPE_POSE_TO_COCO)

    def detect(self, frame: np.ndarray) -> FramePoses:
        h, w = frame.shape[:2]
        result = self._pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            return no_poses(self.num_joints)
        xyv = _landmark_array(result.pose_landmarks, ('x', 'y', 'visibility'))[self._mapping]
        return FramePoses(xyv[None, :, :2] * np.float32([w, h]), xyv[None, :, 2])

    def reset(self) -> None:
        self._pose.reset()

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def settings(self) -> dict:
        return dict(super().settings(), **self._options)


class MediaPipeHands(PoseBackend):
    """MediaPipe Hands: up to ``max_persons`` hands, 21 landmarks in MediaPipe's order (``handmp``).

    Coordinates in pixels as for :class:`MediaPipePose` (divide by ``img_shape`` for the [0, 1] coordinates the
    HaGRID gesture model was trained on). The score is 1 for every joint of a hand MediaPipe reports: its hand
    landmarks carry no per-joint confidence, and a reported hand has passed its presence threshold.

    By default in video mode (the hands found in one frame are tracked into the next, which is faster);
    ``static_image_mode=True`` detects them afresh in every frame, as PYSKL's gesture demo did.
    """
    name, layout, num_joints = 'mediapipe-hands', 'handmp', 21

    def __init__(self, max_persons: int = 2, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, static_image_mode: bool = False):
        if max_persons < 1:
            raise ValueError(f'max_persons must be >= 1, got {max_persons}')
        mediapipe = import_mediapipe()
        self.max_persons = max_persons
        self._options = dict(min_detection_confidence=min_detection_confidence,
                             min_tracking_confidence=min_tracking_confidence, static_image_mode=static_image_mode)
        self._hands = mediapipe.solutions.hands.Hands(max_num_hands=max_persons, model_complexity=1, **self._options)

    def detect(self, frame: np.ndarray) -> FramePoses:
        h, w = frame.shape[:2]
        result = self._hands.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        if not result.multi_hand_landmarks:
            return no_poses(self.num_joints)
        xy = np.stack([_landmark_array(hand, ('x', 'y')) for hand in result.multi_hand_landmarks])
        return FramePoses(xy * np.float32([w, h]), np.ones(xy.shape[:2], np.float32))

    def reset(self) -> None:
        self._hands.reset()

    def close(self) -> None:
        if self._hands is not None:
            self._hands.close()
            self._hands = None

    def settings(self) -> dict:
        return dict(super().settings(), **self._options)


# ---------------------------------------------------------------------------------------------------------------------
# mmdet + mmpose (PYSKL's tools/data/custom_2d_skeleton.py pipeline)

MMPOSE_INSTALL = ('the mmpose back-end needs mmdet >= 3 and mmpose >= 1 with the full (compiled) mmcv 2.x, e.g. '
                  '`pip install -U openmim && mim install "mmcv>=2.0.0,<2.2.0" "mmdet>=3.0.0" "mmpose>=1.0.0"`, and '
                  'the detector and pose model configs and checkpoints on disk')


class MMPoseTopDown(PoseBackend):
    """Detect people with an mmdet model, then estimate each one's joints with an mmpose top-down model.

    As PYSKL's ``custom_2d_skeleton.py``: boxes of class ``det_cat_id`` (person) with score >= ``det_score_thr`` and
    area >= ``det_area_thr`` px^2 are kept; every one gets a pose. PYSKL's defaults were Faster R-CNN R50-FPN
    (person) and HRNet-w32 256x192 (COCO); any mmdet / mmpose 1.x pair works.
    """
    name, layout, num_joints = 'mmpose', 'coco', 17

    def __init__(self, det_config: str, det_checkpoint: str, pose_config: str, pose_checkpoint: str,
                 device: str = 'cpu', det_score_thr: float = 0.7, det_area_thr: float = 1600., det_cat_id: int = 0,
                 max_persons: int = 2):
        apis = self.check(det_config, det_checkpoint, pose_config, pose_checkpoint)
        self.max_persons = max_persons
        self._options = dict(det_config=osp.abspath(det_config), det_checkpoint=osp.abspath(det_checkpoint),
                             pose_config=osp.abspath(pose_config), pose_checkpoint=osp.abspath(pose_checkpoint),
                             det_score_thr=det_score_thr, det_area_thr=det_area_thr, det_cat_id=det_cat_id)
        self._inference_detector, self._inference_topdown = apis['inference_detector'], apis['inference_topdown']
        self.detector = apis['init_detector'](det_config, det_checkpoint, device=device)
        self.detector.cfg = apis['adapt_mmdet_pipeline'](self.detector.cfg)
        self.pose_model = apis['init_model'](pose_config, pose_checkpoint, device=device)
        self.num_joints = int(self.pose_model.dataset_meta.get('num_keypoints', 17))
        if self.num_joints != 17:  # e.g. a whole-body model: no built-in layout
            self.layout = ''

    @staticmethod
    def check(det_config, det_checkpoint, pose_config, pose_checkpoint) -> dict:
        """Fail early, with what to do, when a file or a package is missing; returns the mmdet / mmpose functions."""
        files = dict(det_config=det_config, det_checkpoint=det_checkpoint, pose_config=pose_config,
                     pose_checkpoint=pose_checkpoint)
        unset = [key for key, path in files.items() if not path]
        if unset:
            raise ValueError(f'the mmpose back-end needs {", ".join("--" + k.replace("_", "-") for k in unset)} '
                             '(config and checkpoint files of the person detector and the pose model)')
        missing = [f'{key}={path}' for key, path in files.items() if not osp.isfile(path)]
        if missing:
            raise FileNotFoundError(f'the mmpose back-end cannot find {", ".join(missing)}: download the configs and '
                                    'checkpoints first (it never downloads them itself)')
        try:
            from mmdet.apis import inference_detector, init_detector
            from mmpose.apis import inference_topdown, init_model
            from mmpose.utils import adapt_mmdet_pipeline
        except ImportError as e:
            raise ImportError(f'{MMPOSE_INSTALL}. Importing them failed: {e}') from e
        return dict(inference_detector=inference_detector, init_detector=init_detector,
                    inference_topdown=inference_topdown, init_model=init_model,
                    adapt_mmdet_pipeline=adapt_mmdet_pipeline)

    def detect(self, frame: np.ndarray) -> FramePoses:
        found = self._inference_detector(self.detector, frame).pred_instances.cpu().numpy()
        boxes = found.bboxes
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        keep = ((found.labels == self._options['det_cat_id']) & (found.scores >= self._options['det_score_thr'])
                & (area >= self._options['det_area_thr']))
        if not keep.any():  # inference_topdown would take the whole frame as the box
            return no_poses(self.num_joints)
        poses = self._inference_topdown(self.pose_model, frame, boxes[keep], bbox_format='xyxy')
        keypoint = np.concatenate([pose.pred_instances.keypoints for pose in poses]).astype(np.float32)
        score = np.concatenate([pose.pred_instances.keypoint_scores for pose in poses]).astype(np.float32)
        return FramePoses(keypoint, score)

    def settings(self) -> dict:
        return dict(super().settings(), **self._options)


BACKENDS = {'mediapipe': MediaPipePose, 'mediapipe-hands': MediaPipeHands, 'mmpose': MMPoseTopDown}


def build_backend(backend: Union[str, Type[PoseBackend]] = 'mediapipe', **kwargs) -> PoseBackend:
    """A back-end by name (:data:`BACKENDS`) or class (your own :class:`PoseBackend` subclass), with its arguments."""
    if isinstance(backend, type) and issubclass(backend, PoseBackend):
        return backend(**kwargs)
    if backend not in BACKENDS:
        raise ValueError(f'unknown pose back-end {backend!r}; choose one of {sorted(BACKENDS)} or pass a PoseBackend '
                         'subclass')
    return BACKENDS[backend](**kwargs)
