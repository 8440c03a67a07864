"""Make the embedded synthetic skeleton-action dataset (see ``pyskl/datasets/synthetic.py``).

    python tools/data/make_synthetic.py --kind ntu3d --out data/synthetic/ntu3d.pkl [--num-train 1200]
        [--num-val 300] [--seed 0] [--preview data/synthetic/ntu3d_preview.png]
    python tools/data/make_synthetic.py --kind coco2d --compress --out data/synthetic/coco2d_k400.pkl

Writes the annotation pickle (PYSKL's format, splits ``train`` / ``val``) and ``<name>_label_map.txt`` beside it.
With ``--compress`` (coco2d only) the pickle is a Kinetics-400-style table of contents and the skeletons go to
``<name>_kpfiles/part_*.pkl``, the format of PYSKL's K400 configs (``raw_file`` entries + ``DecompressPose``).
"""
import argparse
import time

from pyskl.datasets.synthetic import (KINDS, dataset_summary, kpfiles_dir, label_map_path, make_synthetic_dataset,
                                      save_preview, write_compressed_dataset, write_synthetic_dataset)


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
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.compress and args.kind != 'coco2d':
        parser.error("--compress needs --kind coco2d (K400's compressed form holds 2D skeletons with scores)")
    out = args.out or f'data/synthetic/{args.kind}{"_k400" if args.compress else ""}.pkl'
    start = time.time()
    try:
        if args.compress:
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
    print(f'wrote {label_map_path(out)}')
    if args.preview:
        save_preview(data, args.preview)
        print(f'wrote {args.preview}')


if __name__ == '__main__':
    main()
