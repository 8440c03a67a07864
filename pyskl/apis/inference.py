"""Notebook-friendly inference: build a recognizer from a config (+ checkpoint) and classify skeleton sequences.

    model = init_recognizer('demo/stgcnpp_gesture.py', 'hagrid.pth')
    pred = inference_recognizer(model, dict(keypoint=hands))   # keypoint [M, T, V, C]
    pred.topk     # [(index, name, score), ...] best first
    pred.scores   # every class's score, as tools/test.py --out writes them
    inference_recognizer(model, 'clip.mp4')        # a video: its skeletons are extracted first (MediaPipe)
    anno = extract_skeletons('clip.mp4')           # or extract them yourself: one annotation dict
"""
import copy
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import print_log

from pyskl.extraction.backends import PoseBackend
from pyskl.registry import MODELS
from pyskl.utils import load_checkpoint, register_all_modules
from pyskl.utils.label_maps import label_map_of_annotation, load_label_map

# What PYSKL's dataset adds to every annotation before the pipeline (PoseDataset.get_data_info does the same).
DATASET_KEYS = dict(modality='Pose', start_index=0)


@dataclass
class Prediction:
    """One sample's result.

    Attributes:
        topk: ``[(class_index, class_name, score)]``, best first; the name is None when the model has no label map.
        scores: ``[num_classes]`` float32, the test forward's score vector (with ``average_clips='prob'``, the
            default: the clips' softmax probabilities averaged), the vector ``tools/test.py --out`` writes.
        label_names: the model's class names, or None.
    """
    topk: List[Tuple[int, Optional[str], float]]
    scores: np.ndarray = field(repr=False)
    label_names: Optional[Tuple[str, ...]] = field(default=None, repr=False)

    @property
    def label(self) -> int:
        """The best class's index."""
        return self.topk[0][0]

    @property
    def name(self) -> Optional[str]:
        """The best class's name (None without a label map)."""
        return self.topk[0][1]

    @property
    def score(self) -> float:
        return self.topk[0][2]


def _config_dataset_value(cfg: Config, key: str):
    """``key`` of the config's test dataset, else its val or train dataset's (the first that sets it), else None."""
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        if dataset.get(key):
            return dataset[key]
    return None


def _config_label_map(cfg: Config) -> Optional[str]:
    """The label map a config names: top-level ``label_map``, else its test/val/train dataset's."""
    return cfg.label_map if cfg.get('label_map') else _config_dataset_value(cfg, 'label_map')


def _config_annotation(cfg: Config) -> Optional[str]:
    """The annotation file of the config's test/val/train dataset, else a top-level ``ann_file``."""
    return _config_dataset_value(cfg, 'ann_file') or cfg.get('ann_file')


def _label_names(cfg: Config, checkpoint: dict, label_map: Optional[str], num_classes: Optional[int]):
    """Class names from ``label_map`` (a shipped name such as ``'nturgbd_60'``, or a file), else the config's label
    map, else the classes an mmengine checkpoint recorded (``meta.dataset_meta.classes``), else the shipped label map
    of the config's annotation file when it is one of PYSKL's (``ntu60_hrnet.pkl``: NTU-60's), of the model's size."""
    if label_map is not None:
        return tuple(load_label_map(label_map, num_classes))
    named = _config_label_map(cfg)
    if named is not None:
        try:
            return tuple(load_label_map(named, num_classes))
        except FileNotFoundError:
            print_log(f'The config names label map {named!r}, which is not found from {os.getcwd()}; pass '
                      'label_map= to init_recognizer for class names', logger='current', level=logging.WARNING)
    classes = ((checkpoint or {}).get('meta') or {}).get('dataset_meta', {}).get('classes')
    if classes and (num_classes is None or len(classes) == num_classes):
        return tuple(classes)
    shipped = label_map_of_annotation(_config_annotation(cfg) or '')
    if shipped is not None:
        names = load_label_map(shipped)
        if num_classes is None or len(names) == num_classes:
            return tuple(names)
    return None


def init_recognizer(config: Union[str, Config], checkpoint: Optional[str] = None, device: str = 'cpu',
                    strict: bool = True, fuse_bn: bool = True, label_map: Optional[str] = None) -> torch.nn.Module:
    """Build the config's model, load ``checkpoint`` and put it in eval mode on ``device``.

    Args:
        config: a config file or ``Config``; attached to the model as ``model.cfg``.
        checkpoint: a flat state dict (PYSKL's ``demo/hagrid.pth``), an mmcv-1.x checkpoint (PYSKL's released
            ``.pth``) or an mmengine checkpoint; loaded strictly unless ``strict=False``.
        fuse_bn: fold eval-mode BatchNorms into the convs before them (:func:`pyskl.models.fuse_bn.fuse_bn`): the
            same outputs to float rounding, faster. Use ``False`` for a model to train further.
        label_map: class names: a shipped name (``'nturgbd_60'``, ``'k400'``, ``'gesture'``, ...; see
            ``pyskl.utils.label_maps.LABEL_MAPS``) or a file, one name per line. Default: the config's
            ``label_map``, else the classes an mmengine checkpoint recorded, else the dataset's shipped names when
            the config reads one of PYSKL's annotation files. Kept as ``model.dataset_meta['classes']``.
    """
    register_all_modules()
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pop('pretrained', None)  # the checkpoint below holds the weights
    model = MODELS.build(model_cfg)
    loaded = load_checkpoint(model, checkpoint, strict=strict) if checkpoint is not None else None
    model.cfg = cfg
    num_classes = getattr(getattr(model, 'cls_head', None), 'num_classes', None)
    model.dataset_meta = dict(classes=_label_names(cfg, loaded, label_map, num_classes))
    model = model.to(device).eval()
    if fuse_bn:
        from pyskl.models.fuse_bn import fuse_bn as fold
        fold(model)
    return model


def get_test_pipeline(cfg: Config) -> list:
    """The config's ``test_pipeline``, else its test dataset's pipeline."""
    if 'test_pipeline' in cfg:
        return cfg.test_pipeline
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    if 'pipeline' not in dataset:
        raise ValueError('The config has no test_pipeline (nor test_dataloader.dataset.pipeline) to run samples '
                         'through')
    return dataset.pipeline


def find_step(pipeline: Sequence[dict], *types: str) -> Optional[dict]:
    """The first step of ``pipeline`` of one of ``types`` (a scoped type such as ``'pyskl.UniformSample'`` counts as
    its bare name), or None."""
    return next((step for step in pipeline if str(step.get('type', '')).split('.')[-1] in types), None)


def _check_sample(sample, position: int) -> dict:
    """A copy of ``sample`` ready for the test pipeline: PYSKL's annotation keys, test mode. Errors name the sample."""
    from pyskl.datasets.pose_dataset import AnnotationError, validate_annotation
    if not isinstance(sample, dict):
        raise TypeError(f'inference_recognizer takes a sample dict (PYSKL annotation format), a video path or a list '
                        f'of them, got {type(sample).__name__}')
    sample = dict(sample)
    sample.setdefault('frame_dir', f'sample #{position}')
    for key in ('keypoint', 'keypoint_score'):  # nested Python lists (e.g. from JSON) become arrays
        if key in sample and not isinstance(sample[key], np.ndarray):
            try:
                sample[key] = np.asarray(sample[key], dtype=np.float32)
            except (ValueError, TypeError) as e:
                raise AnnotationError(f"inference input: sample '{sample['frame_dir']}': '{key}' is not an array of "
                                      f'numbers of one shape ({e})') from None
    if 'keypoint' in sample and sample['keypoint'].ndim >= 2:  # a wrong rank is then named by the checks below
        sample.setdefault('total_frames', sample['keypoint'].shape[1])
    validate_annotation(dict(sample, label=sample.get('label', -1)), 'inference input')
    sample.update(DATASET_KEYS)
    sample['test_mode'] = True  # deterministic sampling; PYSKL's inference forgot it (random frames each call)
    return sample


def _predictions(scores: torch.Tensor, topk: int, names) -> List[Prediction]:
    scores = scores.float().cpu()
    values, indices = scores.topk(min(topk, scores.size(-1)), dim=-1)
    results = []
    for row, vals, inds in zip(scores, values.tolist(), indices.tolist()):
        top = [(i, names[i] if names else None, v) for i, v in zip(inds, vals)]
        results.append(Prediction(top, row.numpy(), names))
    return results


def inference_recognizer(model: torch.nn.Module, sample_or_video: Union[dict, str, Sequence[Union[dict, str]]],
                         topk: int = 5, batch_size: int = 16,
                         pipeline: Union[Sequence[dict], Callable[[dict], dict], None] = None,
                         backend: Union[str, PoseBackend, None] = None,
                         progress: bool = False) -> Union[Prediction, List[Prediction]]:
    """Classify skeleton samples or videos with ``model`` (from :func:`init_recognizer`).

    Args:
        sample_or_video: one sample in PYSKL's annotation format (``keypoint`` ``[M, T, V, C]``, optional
            ``keypoint_score`` ``[M, T, V]``, ``img_shape``; ``total_frames`` defaults to T), a video file, or a
            list of them. A video's skeletons are extracted first (:func:`video_sample`: the joints the model
            was trained on, COCO-17 bodies or MediaPipe hands; needs ``pip install -e ".[extract]"``).
        topk: how many classes each :class:`Prediction` lists.
        batch_size: samples per forward when given a list.
        pipeline: transforms to use instead of the config's test pipeline: their configs, or a built pipeline
            (``Compose``; build it once for a model called again and again).
        backend: the pose back-end for videos (a name or a :class:`~pyskl.extraction.PoseBackend`); default: the
            one that gives the model's joints (:data:`VIDEO_LAYOUTS`).
        progress: a progress bar while a video's skeletons are extracted.

    Every sample goes through the test pipeline in test mode (deterministic sampling, all test clips), as
    ``tools/test.py`` runs it, so the scores are those ``tools/test.py --out`` writes for the same annotation.
    Returns one :class:`Prediction`, or a list for a list.
    """
    single = not isinstance(sample_or_video, (list, tuple))
    samples = [sample_or_video] if single else list(sample_or_video)
    if any(isinstance(s, (str, os.PathLike)) for s in samples):
        samples = _extract_videos(model, samples, backend, progress)
    if not callable(pipeline):
        pipeline = Compose(pipeline if pipeline is not None else get_test_pipeline(model.cfg))
    names = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    results = []
    for start in range(0, len(samples), batch_size):
        batch = [pipeline(_check_sample(s, start + i)) for i, s in enumerate(samples[start:start + batch_size])]
        with torch.no_grad():
            outputs = model.test_step(pseudo_collate(batch))
        results += _predictions(torch.stack([out.pred_score for out in outputs]), topk, names)
    return results[0] if single else results


# ---------------------------------------------------------------------------------------------------------------------
# Videos

#: How skeletons of a joint layout are made from a video: the pose back-end that gives them, and whether their
#: coordinates are fractions of the frame (else pixels). COCO-17 bodies in pixels, as in PYSKL's HRNet annotations;
#: MediaPipe hands in MediaPipe's [0, 1] image coordinates, on which PYSKL's gesture model (hagrid.pth) was trained.
VIDEO_LAYOUTS = {'coco': ('mediapipe', False), 'handmp': ('mediapipe-hands', True)}
NOT_FROM_VIDEO = {'nturgb+d': "NTU RGB+D's 25 Kinect joints (3D, from a depth camera)",
                  'openpose': "OpenPose's 18 joints"}


@dataclass(frozen=True)
class VideoInput:
    """What a model needs from a video: its joint ``layout``, the pose ``backend`` that gives them, ``normalized``
    coordinates ([0, 1] of the frame) or pixels, and whether it takes the joints' scores (``with_score``)."""
    layout: str
    backend: str
    normalized: bool
    with_score: bool


def _heatmap_joints_check(cfg: Config, backbone: dict) -> None:
    """PoseC3D's heatmaps are drawn from COCO-17 joints (all of PYSKL's PoseC3D configs): check the model's."""
    target = find_step(get_test_pipeline(cfg), 'GeneratePoseTarget')
    if target is None:
        raise ValueError('the model does not take skeletons: its test pipeline draws no pose heatmaps '
                         '(GeneratePoseTarget)')
    if target.get('with_limb'):
        joints = [j for limb in target.get('skeletons', ()) for j in limb]
        if joints and max(joints) >= 17:
            raise ValueError(f'the model draws limb heatmaps between joints up to {max(joints)}, not COCO-17 ones: '
                             'its skeletons cannot be extracted from a video')
    elif backbone.get('in_channels', 17) != 17:
        raise ValueError(f'the model takes {backbone["in_channels"]} joint heatmaps; skeletons extracted from a video '
                         'are COCO-17 (17 joints)')


def video_input(model: torch.nn.Module) -> VideoInput:
    """How ``model`` (with its ``cfg``, as :func:`init_recognizer` makes it) takes a video. GCNs: the layout of
    their graph; a 2-channel GCN (PYSKL's gesture model) takes bare (x, y). 3D CNNs (PoseC3D): COCO-17 heatmaps.
    Raises ``ValueError`` saying why for a model whose skeletons no back-end extracts (NTU's 3D joints, RGBPose)."""
    cfg = model.cfg
    kind = str(cfg.model.get('type', '')).split('.')[-1]
    backbone = cfg.model.get('backbone') or {}
    if kind == 'RecognizerGCN':
        layout = (backbone.get('graph_cfg') or {}).get('layout')
        with_score = backbone.get('in_channels', 3) != 2
    elif kind == 'Recognizer3D':
        _heatmap_joints_check(cfg, backbone)
        layout, with_score = 'coco', True
    else:
        raise ValueError(f'a {kind} model does not classify skeletons extracted from a video alone (RGBPose needs the '
                         'RGB frames too): pass its inputs as a sample dict')
    if not isinstance(layout, str) or layout not in VIDEO_LAYOUTS:
        what = NOT_FROM_VIDEO.get(layout, f'the layout {layout!r}') if isinstance(layout, str) else 'a custom layout'
        raise ValueError(f'the model was trained on {what}, which cannot be extracted from a video: the pose '
                         'back-ends give COCO-17 bodies (mediapipe, mmpose) and 21-joint MediaPipe hands '
                         '(mediapipe-hands). Pass an annotation dict with its skeletons instead')
    backend, normalized = VIDEO_LAYOUTS[layout]
    return VideoInput(layout, backend, normalized, with_score)


def extract_skeletons(video: str, backend: Union[str, PoseBackend] = 'mediapipe', normalized: bool = False,
                      progress: bool = False, **backend_kwargs) -> dict:
    """One video's skeletons as an annotation dict (needs a pose back-end: ``pip install -e ".[extract]"``).
    (``pyskl.extraction.extract_skeletons`` is the resumable run over a list of videos into an annotation file.)

    Args:
        video: the video file.
        backend: a back-end name (``'mediapipe'``: one person, COCO-17; ``'mediapipe-hands'``: 21-joint hands;
            ``'mmpose'``), built with ``backend_kwargs`` and closed after, or a built
            :class:`~pyskl.extraction.PoseBackend` (kept open, for the next video).
        normalized: coordinates as fractions of the frame's width and height (``img_shape`` is then ``(1, 1)``)
            instead of pixels.
        progress: a progress bar over the frames.

    Returns ``dict(frame_dir=<file stem>, label=-1, total_frames, img_shape, original_shape, keypoint [M, T, V, 2],
    keypoint_score [M, T, V])`` (float32; zeros where nobody was found; a multi-person back-end's people tracked
    across frames), ready for :func:`inference_recognizer` or an annotation file.
    """
    from pyskl.extraction import extract_video
    with _opened_backend(backend, **backend_kwargs) as pose_backend:
        record = extract_video(pose_backend, os.fspath(video), dtype=np.float32, progress=progress)
    if normalized:
        h, w = record['img_shape']
        record['keypoint'] /= np.float32([w, h])
        record['img_shape'] = (1, 1)
    stem = os.path.splitext(os.path.basename(os.fspath(video)))[0]
    return dict(frame_dir=stem, label=-1, **record)


def video_sample(model: torch.nn.Module, video: str, backend: Union[str, PoseBackend, None] = None,
                 progress: bool = False) -> dict:
    """``video``'s skeletons as ``model`` takes them (:func:`video_input`): extracted with ``backend`` (a name or a
    built back-end, kept open; default: the back-end for the model's joints), in [0, 1] coordinates or pixels, and
    without scores for a model that takes none."""
    wanted = video_input(model)
    with _opened_backend(_backend_or_default(backend, wanted)) as pose_backend:
        return _video_sample(wanted, video, pose_backend, progress)


def _extract_videos(model, samples: list, backend, progress: bool) -> list:
    """The samples with every video path replaced by its skeletons; one back-end serves all the videos."""
    wanted = video_input(model)  # a model that cannot take videos is refused before a back-end is built
    with _opened_backend(_backend_or_default(backend, wanted)) as shared:
        return [_video_sample(wanted, s, shared, progress) if isinstance(s, (str, os.PathLike)) else s
                for s in samples]


def _video_sample(wanted: VideoInput, video: str, pose_backend: PoseBackend, progress: bool) -> dict:
    if pose_backend.layout != wanted.layout:
        raise ValueError(f'the {pose_backend.name} back-end gives {pose_backend.layout or "its own"} joints; the '
                         f'model takes {wanted.layout!r} ones (the {wanted.backend!r} back-end gives them)')
    sample = extract_skeletons(video, pose_backend, normalized=wanted.normalized, progress=progress)
    if not wanted.with_score:
        sample.pop('keypoint_score')
    return sample


def _backend_or_default(backend, wanted: VideoInput):
    """``backend``, or the name of the back-end that gives the model's joints when none is given."""
    return backend if isinstance(backend, PoseBackend) else backend or wanted.backend


@contextmanager
def _opened_backend(backend: Union[str, PoseBackend], **backend_kwargs) -> Iterator[PoseBackend]:
    """A built ``backend`` as it is (kept open for the caller's next video), or the one it names, built with
    ``backend_kwargs`` and closed on leaving."""
    if isinstance(backend, PoseBackend):
        yield backend
        return
    from pyskl.extraction import build_backend
    built = build_backend(backend, **backend_kwargs)
    try:
        yield built
    finally:
        built.close()


__all__ = ['Prediction', 'VideoInput', 'init_recognizer', 'inference_recognizer', 'get_test_pipeline', 'find_step',
           'video_input', 'video_sample', 'extract_skeletons', 'VIDEO_LAYOUTS']
