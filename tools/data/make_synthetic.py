"""Make the embedded synthetic skeleton-action dataset (see ``pyskl/datasets/synthetic.py``).

    python tools/data/make_synthetic.py --kind ntu3d --out data/synthetic/ntu3d.pkl [--num-train 1200]
        [--num-val 300] [--seed 0] [--preview data/synthetic/ntu3d_preview.png]
    python tools/data/make_synthetic.py --kind coco2d --compress --out data/synthetic/coco2d_k400.pkl
    python tools/data/make_synthetic.py --kind coco2d --videos data/synthetic/videos --out data/synthetic/coco2d.pkl
        [--video-size 200 112] [--workers 2]

Writes the annotation pickle (PYSKL's format, splits ``train`` / ``val``) and ``<name>_label_map.txt`` beside it.
With ``--compress`` (coco2d only) the pickle is a Kinetics-400-style table of contents and the skeletons go to
``<name>_kpfiles/part_*.pkl``, the format of PYSKL's K400 configs (``raw_file`` entries + ``DecompressPose``).
With ``--videos DIR`` (coco2d only) every sample is also filmed as stick figures into ``DIR/<frame_dir>.mp4``
(PYSKL's RGBPose layout: a config reads them with ``data_prefix=DIR``); the annotation is the same as without it.
Existing videos are kept, so an interrupted run resumes.
"""
import argparse
import sys
import time

from pyskl.datasets.synthetic import (KINDS, VIDEO_SIZE, dataset_summary, kpfiles_dir, label_map_path,
                                      make_synthetic_dataset, save_preview, write_compressed_dataset,
                                      write_synthetic_dataset, write_synthetic_videos)


def build_parser():
    parser = argparse.ArgumentParser(description='Make the synthetic skeleton-action dataset')
    parser.add_argument('--kind', choices=KINDS, default='ntu3d',
                        help='ntu3d: 25 Kinect joints in metres; coco2d: 17 COCO joints in 1920x1080 pixels + scores')
    parser.add_argument('--out', help='annotation pickle to write (default: data/synthetic/<kind>.pkl)')
    parser.add_argument('--num-train', type=int, default=1200, help='samples in the train split')
    parser.add_argument('--num-val', type=int, default=300, help='samples in the val split')
    parser.add_argument('--seed', type=int, default=0, help='the same seed gives the same bytes')
    parser.add_argument('--preview', help='also draw one sample per class into this PNG')
    parser.add_argument('--compress', action='store_true',
                        help="coco2d only: write Kinetics-400's compressed form (a table of contents + kpfiles)")
    parser.add_argument('--num-kpfiles', type=int, default=3, help='with --compress: how many kpfiles to write')
    parser.add_argument('--videos', metavar='DIR', help='coco2d only: also render one video per sample into DIR')
    parser.add_argument('--video-size', type=int, nargs=2, default=list(VIDEO_SIZE), metavar=('W', 'H'),
                        help='with --videos: frame size (default %(default)s: 112 high at the 16:9 camera\'s aspect)')
    parser.add_argument('--workers', type=int, default=1, help='with --videos: processes rendering videos')
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.compress and args.kind != 'coco2d':
        parser.error("--compress needs --kind coco2d (K400's compressed form holds 2D skeletons with scores)")
    if args.videos and (args.kind != 'coco2d' or args.compress):
        parser.error('--videos needs --kind coco2d (the 2D skeletons are in pixels) and no --compress')
    if args.workers < 1:
        parser.error('--workers must be >= 1')
    out = args.out or f'data/synthetic/{args.kind}{"_k400" if args.compress else ""}.pkl'
    start = time.time()
    try:
        if args.videos:
            data = write_synthetic_videos(out, args.videos, args.kind, args.num_train, args.num_val, args.seed,
                                          size=args.video_size, workers=args.workers, progress=True)
        elif args.compress:
            data = make_synthetic_dataset(args.kind, args.num_train, args.num_val, args.seed)
            write_compressed_dataset(data, out, args.num_kpfiles)
        else:
            data = write_synthetic_dataset(out, args.kind, args.num_train, args.num_val, args.seed)
    except ValueError as e:  # bad sizes or seed: a usage error, not a crash
        parser.error(str(e))
    print(f'wrote {out} in {time.time() - start:.1f}s: {dataset_summary(data)}')
    if args.compress:
        print(f'wrote {min(args.num_kpfiles, len(data["annotations"]))} kpfiles in {kpfiles_dir(out)} (the table of '
              f'contents names them in raw_file)')
    if args.videos:
        print(f'wrote {len(data["annotations"])} videos ({args.video_size[0]}x{args.video_size[1]}) in {args.videos} '
              f'(read them with data_prefix={args.videos!r})')
    print(f'wrote {label_map_path(out)}')
    if args.preview:
        save_preview(data, args.preview)
        print(f'wrote {args.preview}')


if __name__ == '__main__':
    from pyskl.utils.errors import run_tool
    sys.exit(run_tool(main))
