"""Video -> skeletons -> action: classify what the person in a video does and draw it on the skeleton video (CPU).

    python demo/demo_skeleton.py VIDEO OUT.mp4 [--config CONFIG] [--checkpoint CKPT] [--topk 5] [--short-side 480]

The default model is the PoseC3D quickstart (configs/quickstart/c3d_synthetic_coco2d_joint.py: 15 synthetic actions
on COCO-17 2D skeletons); its checkpoint is the newest best_*.pth in the config's work dir, which this makes from
the repository root:

    python tools/data/make_synthetic.py --kind coco2d --out data/synthetic/coco2d.pkl
    python tools/train.py configs/quickstart/c3d_synthetic_coco2d_joint.py --validate
    python demo/demo_skeleton.py ntu_sample.avi out.mp4

(or pass --checkpoint work_dirs/quickstart/c3d_synthetic_coco2d_joint/best_top1_acc_epoch_N.pth). Any 2D GCN or
PoseC3D config on COCO-17 joints works (PYSKL's ``*_hrnet`` / PoseC3D configs with their released checkpoints), and
a hand model on MediaPipe's 21 hand joints (demo/stgcnpp_gesture.py). Models on NTU's 3D joints cannot take a video.

Steps: the video's skeletons with the pose back-end for the model's joints (MediaPipe Pose by default: one person,
offline, needs ``pip install -e ".[extract]"``; ``--backend mmpose`` with its files finds several people, and
PYSKL's tracker links them across frames); the recognizer through its test pipeline (pyskl.apis); the skeletons
drawn over the video, resized to ``--short-side`` pixels, with the top-k classes. Exit status: 0 when the video was
written, 1 when no person was found (nothing is written), 2 for bad arguments or a model that cannot take a video.
"""
import argparse
import os
import os.path as osp
import sys

import cv2
import numpy as np
from mmengine.config import Config
from tqdm import tqdm

from pyskl.apis import init_recognizer, inference_recognizer, video_input, video_sample
from pyskl.apis.runner import find_best_checkpoint
from pyskl.extraction import BACKENDS, build_backend
from pyskl.utils.cli import DefaultsHelpFormatter
from pyskl.utils.video import VideoError, VideoWriter, iter_frames, video_fps
from pyskl.visualization import render_2d

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(REPO_ROOT, 'configs', 'quickstart', 'c3d_synthetic_coco2d_joint.py')


def build_parser():
    parser = argparse.ArgumentParser(description='Classify the action in a video from its skeletons and draw it',
                                     formatter_class=DefaultsHelpFormatter)
    parser.add_argument('video', help='the video to classify')
    parser.add_argument('out', help='the skeleton video to write (.mp4 or .gif)')
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='recognizer config (a GCN or PoseC3D on 2D joints)')
    parser.add_argument('--checkpoint',
                        help="its weights (default: the newest best_*.pth in the config's work_dir, which "
                        'tools/train.py --validate leaves there)')
    parser.add_argument('--label-map', help="class names: a file or a shipped name (default: the config's)")
    parser.add_argument('--backend', choices=sorted(BACKENDS),
                        help="pose back-end (default: the one for the model's joints: mediapipe for COCO-17 bodies, "
                        'mediapipe-hands for hands)')
    parser.add_argument('--topk', type=int, default=5, help='classes drawn on the video')
    parser.add_argument('--short-side', type=int, default=480,
                        help='resize the output so that its short side has this many pixels (0: keep the size)')
    parser.add_argument('--device', default='cpu', help='where the recognizer runs, e.g. cuda:0')
    mmpose = parser.add_argument_group('mmpose back-end (files on disk; nothing is downloaded)')
    mmpose.add_argument('--det-config', help='mmdet config of the person detector')
    mmpose.add_argument('--det-checkpoint', help='its checkpoint')
    mmpose.add_argument('--pose-config', help='mmpose top-down config (e.g. HRNet-w32 COCO 256x192)')
    mmpose.add_argument('--pose-checkpoint', help='its checkpoint')
    return parser


def default_checkpoint(config: str) -> str:
    """The newest best checkpoint in the config's work dir, or an error that says how to make one."""
    work_dir = Config.fromfile(config).get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(config))[0])
    try:
        return find_best_checkpoint(work_dir)
    except FileNotFoundError:
        raise FileNotFoundError(
            f'no --checkpoint given and no best_*.pth in {work_dir} (the work dir of {config}, from {os.getcwd()}): '
            f'train it first (python tools/train.py {config} --validate; the quickstart needs its data: python '
            'tools/data/make_synthetic.py --kind coco2d --out data/synthetic/coco2d.pkl) or pass --checkpoint')


def make_backend(args, layout_backend: str):
    name = args.backend or layout_backend
    if name != 'mmpose':
        return build_backend(name)
    return build_backend('mmpose', det_config=args.det_config, det_checkpoint=args.det_checkpoint,
                         pose_config=args.pose_config, pose_checkpoint=args.pose_checkpoint, device=args.device)


def found_anyone(sample: dict) -> bool:
    score = sample.get('keypoint_score')
    return bool(np.any(score > 0) if score is not None else np.any(sample['keypoint']))


def put_lines(image: np.ndarray, lines) -> None:
    """``lines`` in dark boxes at the bottom left, above the frame counter that render_2d writes; the first (the
    best class) in yellow."""
    unit = max(image.shape[:2]) / 1000
    scale, thickness, step = 0.6 * unit + 0.2, max(1, int(round(unit * 1.5))), int(30 * unit + 8)
    top = image.shape[0] - 10 - step * len(lines)
    for i, line in enumerate(lines):
        y = top + i * step
        (w, h), base = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        cv2.rectangle(image, (6, y - h - 4), (14 + w, y + base), (40, 40, 40), cv2.FILLED)
        colour = (0, 230, 255) if i == 0 else (255, 255, 255)
        cv2.putText(image, line, (10, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def output_size(h: int, w: int, short_side: int):
    """(w, h) with the short side ``short_side`` (when the video is larger), an odd last column or row dropped:
    mp4's codecs store colour at half resolution and drop it anyway (the file would not have the size written)."""
    scale = short_side / min(h, w) if short_side and min(h, w) > short_side else 1.
    return round(w * scale) // 2 * 2, round(h * scale) // 2 * 2


def prediction_lines(pred) -> list:
    return [f'{i + 1}. {name if name is not None else f"class {index}"}: {score:.3f}'
            for i, (index, name, score) in enumerate(pred.topk)]


def write_video(sample: dict, pred, video: str, out: str, short_side: int) -> VideoWriter:
    """The skeletons over the video's frames, resized, with the top-k classes; returns the closed writer."""
    size = output_size(*sample['original_shape'], short_side)
    drawn = {k: v for k, v in sample.items() if k != 'label'}  # render_2d would write "label -1"
    drawn['frame_dir'] = ''
    lines = prediction_lines(pred)
    resized = (cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in iter_frames(video))
    frames = render_2d(drawn, video_frames=resized)  # the joints are scaled from img_shape to the frames' size
    with VideoWriter(out, video_fps(video)) as writer:
        for frame in tqdm(frames, total=sample['total_frames'], unit='frame', desc='drawing', dynamic_ncols=True):
            put_lines(frame, lines)
            writer.write(frame)
    return writer


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.topk < 1 or args.short_side < 0:
        parser.error('--topk must be >= 1 and --short-side >= 0')
    try:
        if not osp.isfile(args.video):
            raise VideoError(f'{args.video}: no such file')
        checkpoint = args.checkpoint or default_checkpoint(args.config)
        model = init_recognizer(args.config, checkpoint, device=args.device, label_map=args.label_map)
        wanted = video_input(model)  # a model on NTU's 3D joints is refused here, before any work
        with make_backend(args, wanted.backend) as backend:
            sample = video_sample(model, args.video, backend, progress=True)
    except (OSError, ValueError, ImportError, VideoError) as e:
        parser.exit(2, f'error: {e}\n')
    if not found_anyone(sample):
        print(f'No person was found in {args.video} by the {args.backend or wanted.backend} back-end in any of its '
              f'{sample["total_frames"]} frames: nothing to classify, {args.out} not written', file=sys.stderr)
        return 1
    pred = inference_recognizer(model, sample, topk=args.topk)
    try:
        writer = write_video(sample, pred, args.video, args.out, args.short_side)
    except (OSError, ValueError, VideoError) as e:
        parser.exit(2, f'error: {e}\n')
    print(f'{args.video}: ' + ', '.join(prediction_lines(pred)))
    print(f'wrote {args.out}: {writer.num_frames} frames, {writer.size[0]}x{writer.size[1]}, {writer.fps:g} fps')
    return 0


if __name__ == '__main__':
    sys.exit(main())
