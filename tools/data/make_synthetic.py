"""Make the embedded synthetic skeleton-action dataset (see ``pyskl/datasets/synthetic.py``).

    python tools/data/make_synthetic.py --kind ntu3d --out data/synthetic/ntu3d.pkl [--num-train 1200]
        [--num-val 300] [--seed 0] [--preview data/synthetic/ntu3d_preview.png]

Writes the annotation pickle (PYSKL's format, splits ``train`` / ``val``) and ``<name>_label_map.txt`` beside it.
"""
import argparse
import time

from pyskl.datasets.synthetic import (KINDS, dataset_summary, label_map_path, save_preview,
                                      write_synthetic_dataset)


def build_parser():
    parser = argparse.ArgumentParser(description='Make the synthetic skeleton-action dataset')
    parser.add_argument('--kind', choices=KINDS, default='ntu3d',
                        help='ntu3d: 25 Kinect joints in metres; coco2d: 17 COCO joints in 1920x1080 pixels + scores')
    parser.add_argument('--out', help='annotation pickle to write (default: data/synthetic/<kind>.pkl)')
    parser.add_argument('--num-train', type=int, default=1200, help='samples in the train split')
    parser.add_argument('--num-val', type=int, default=300, help='samples in the val split')
    parser.add_argument('--seed', type=int, default=0, help='the same seed gives the same bytes')
    parser.add_argument('--preview', help='also draw one sample per class into this PNG')
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    out = args.out or f'data/synthetic/{args.kind}.pkl'
    start = time.time()
    try:
        data = write_synthetic_dataset(out, args.kind, args.num_train, args.num_val, args.seed)
    except ValueError as e:  # bad sizes or seed: a usage error, not a crash
        parser.error(str(e))
    print(f'wrote {out} in {time.time() - start:.1f}s: {dataset_summary(data)}')
    print(f'wrote {label_map_path(out)}')
    if args.preview:
        save_preview(data, args.preview)
        print(f'wrote {args.preview}')


if __name__ == '__main__':
    main()
