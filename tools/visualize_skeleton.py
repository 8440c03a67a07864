"""Draw one sample of a skeleton annotation as a video (.mp4 or .gif).

    python tools/visualize_skeleton.py ANN.pkl --index 0 --out clip.mp4 [--video SOURCE.mp4] [--label-map MAP.txt]
        [--joint-ids] [--fps 30]

2D skeletons are drawn over the source video (``--video``) or a white canvas of ``img_shape``; 3D skeletons (NTU)
as a turning 3D plot. See docs/data.md ("Looking at a sample") and ``pyskl/visualization/skeleton.py``.
"""
import argparse
import pickle
import sys

from pyskl.graph import BUILTIN_LAYOUTS
from pyskl.utils.label_maps import load_label_map
from pyskl.utils.video import VideoError, video_fps
from pyskl.visualization import write_annotation_video


def build_parser():
    parser = argparse.ArgumentParser(description='Draw one sample of a skeleton annotation as a video')
    parser.add_argument('ann_file', help='annotation pickle (PYSKL format)')
    which = parser.add_mutually_exclusive_group()
    which.add_argument('--index', type=int, default=0, help='the sample at this position in the annotations')
    which.add_argument('--frame-dir', help='the sample with this frame_dir')
    parser.add_argument('--out', required=True, help='video to write: .mp4 or .gif')
    parser.add_argument('--video', help='source video to draw 2D skeletons over (default: a white canvas)')
    parser.add_argument('--label-map', help='class names, one per line, to name the label')
    parser.add_argument('--layout', choices=sorted(BUILTIN_LAYOUTS),
                        help='joint layout (default: from the number of joints)')
    parser.add_argument('--fps', type=float, help="frame rate of the output (default: the source video's, else 30)")
    parser.add_argument('--joint-ids', action='store_true', help='number the joints')
    parser.add_argument('--scale', type=float, help='resize 2D output frames by this factor')
    parser.add_argument('--score-thr', type=float, default=0., help='leave out 2D joints scoring this or less')
    parser.add_argument('--degrees-per-frame', type=float, default=1.,
                        help='how fast the 3D view turns')
    return parser


def load_sample(ann_file: str, index: int = 0, frame_dir: str = None) -> dict:
    with open(ann_file, 'rb') as f:
        data = pickle.load(f)
    annotations = data['annotations'] if isinstance(data, dict) else data
    if frame_dir is not None:
        found = [anno for anno in annotations if anno.get('frame_dir') == frame_dir]
        if not found:
            raise ValueError(f'{ann_file} has no sample with frame_dir {frame_dir!r}')
        return found[0]
    if not -len(annotations) <= index < len(annotations):
        raise ValueError(f'{ann_file} has {len(annotations)} samples; index {index} is out of range')
    return annotations[index]


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        anno = load_sample(args.ann_file, args.index, args.frame_dir)
        label_name = None
        if args.label_map and anno.get('label') is not None and anno['label'] >= 0:
            names = load_label_map(args.label_map)
            label_name = names[anno['label']] if anno['label'] < len(names) else None
        fps = args.fps or (video_fps(args.video) if args.video else 30.)
        frames = write_annotation_video(anno, args.out, args.video, fps, layout=args.layout, label_name=label_name,
                                        joint_ids=args.joint_ids, scale=args.scale, score_thr=args.score_thr,
                                        degrees_per_frame=args.degrees_per_frame)
    except (OSError, ValueError, KeyError, VideoError) as e:
        parser.exit(2, f'error: {e}\n')
    print(f'wrote {args.out}: {frames} frames of sample {anno.get("frame_dir")!r} at {fps:g} fps')
    return 0


if __name__ == '__main__':
    sys.exit(main())
