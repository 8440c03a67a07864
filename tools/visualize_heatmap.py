"""Draw one sample's PoseC3D heatmaps: ``python tools/visualize_heatmap.py ANN --index I --out FILE.png|.mp4``.

The sample (``--index`` into the file, or ``--frame-dir``) goes through PoseC3D's test steps (frames spread over the
clip, the persons' box cropped, resized to ``--size``) and GeneratePoseTarget; each joint (``--limb``: each limb)
gets its own colour. ``.png``: the frames side by side; ``.mp4``: a video.
"""
import argparse
import os
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Draw the keypoint or limb heatmaps of one sample',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('ann', help='annotation pickle with 2D skeletons (PYSKL format)')
    parser.add_argument('--out', required=True, help='.png (frames side by side) or .mp4 (a video)')
    which = parser.add_mutually_exclusive_group()
    which.add_argument('--index', type=int, default=0, help='position of the sample in the file')
    which.add_argument('--frame-dir', help='the sample with this frame_dir')
    parser.add_argument('--limb', action='store_true', help='limb maps instead of keypoint maps')
    parser.add_argument('--frames', type=int, default=16, help='frames spread over the sample')
    parser.add_argument('--size', type=int, default=64, help='heatmap height and width')
    parser.add_argument('--sigma', type=float, default=0.6, help='Gaussian sigma in heatmap pixels')
    parser.add_argument('--scale', type=int, default=4, help='each heatmap pixel is drawn this many pixels wide')
    return parser.parse_args(argv)


def pick(annotations, index, frame_dir, ann_file):
    if frame_dir is not None:
        found = [a for a in annotations if a.get('frame_dir') == frame_dir]
        if not found:
            raise SystemExit(f'{ann_file}: no sample has frame_dir {frame_dir!r}')
        return found[0]
    if not -len(annotations) <= index < len(annotations):
        raise SystemExit(f'{ann_file}: --index {index} is out of range for {len(annotations)} samples')
    return annotations[index]


def main(argv=None):
    args = parse_args(argv)
    from pyskl.datasets.checks import load_annotation_file
    from pyskl.utils import register_all_modules
    from pyskl.visualization.heatmap import sample_volume, save_heatmaps
    register_all_modules()
    try:
        content = load_annotation_file(args.ann)
    except (OSError, ValueError) as e:  # missing or unreadable file: one line, no traceback
        raise SystemExit(str(e))
    annotations = content['annotations'] if isinstance(content, dict) else content
    sample = pick(annotations, args.index, args.frame_dir, args.ann)
    try:
        volume = sample_volume(sample, frames=args.frames, size=args.size, limb=args.limb, sigma=args.sigma)
        save_heatmaps(volume, args.out, scale=args.scale, title=str(sample.get('frame_dir', '')))
    except ValueError as e:
        raise SystemExit(f'{args.ann}: {e}')
    print(f'wrote {args.out}: {len(volume)} frames of {volume.shape[1]} {"limb" if args.limb else "keypoint"} maps')


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
