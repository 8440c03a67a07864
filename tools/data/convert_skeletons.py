"""Convert skeletons from other tools into PYSKL's annotation file.

    python tools/data/convert_skeletons.py openpose DIR --labels labels.csv --out data/mine.pkl [--body25]
    python tools/data/convert_skeletons.py json DIR --labels labels.csv --out data/mine.pkl [--joint-map NAME]
    python tools/data/convert_skeletons.py numpy DIR_OR_NPZ --labels labels.csv --out data/mine.pkl [--score-channel]
    common: [--val-ratio 0.2] [--seed 0] [--img-shape H W] [--max-persons 2]

openpose: one sub-folder per video of OpenPose's ``*_keypoints.json`` (BODY_25 -> the 18-joint ``openpose`` layout,
or kept as 25 joints with ``--body25``). json: one ``.json`` per video of mmpose or MediaPipe results (the schema is
in ``pyskl/datasets/converters.py``). numpy: ``<name>.npy`` ([T, V, C] or [M, T, V, C]) / ``<name>.npz`` files, or one
``.npz`` holding an array per name. labels.csv rows: ``name,label[,split]`` (label an integer or a class name; with
no split column, a per-class random ``--val-ratio`` goes to ``val``).
"""
import argparse
import sys

from pyskl.datasets.converters import (JOINT_MAPS, ConversionError, convert_numpy, convert_openpose,
                                       convert_pose_json)


def build_parser():
    parser = argparse.ArgumentParser(description="Convert skeletons to PYSKL's annotation format")
    sub = parser.add_subparsers(dest='source', required=True)

    def common(p, img_help):
        p.add_argument('--labels', required=True, help='CSV with rows name,label[,split]')
        p.add_argument('--out', required=True, help='annotation pickle to write')
        p.add_argument('--val-ratio', type=float, default=0.2, help='share of each class in val when the CSV has no '
                                                                    'split column (default 0.2)')
        p.add_argument('--seed', type=int, default=0, help='seed of that random split')
        p.add_argument('--img-shape', type=int, nargs=2, metavar=('H', 'W'), help=img_help)

    for name, what in (('openpose', 'folder with one sub-folder of *_keypoints.json per video'),
                       ('json', 'folder with one mmpose / MediaPipe .json per video')):
        p = sub.add_parser(name, help=what)
        p.add_argument('input', help=what)
        common(p, 'the videos\' frame size (stored as img_shape; PreNormalize2D needs it)')
        p.add_argument('--max-persons', type=int, default=2, help='tracks kept per video (M)')
        p.add_argument('--max-gap', type=int, default=30, help='frames a track may miss before it ends')
        if name == 'openpose':
            p.add_argument('--body25', action='store_true', help='keep BODY_25\'s 25 joints (default: map to 18)')
        else:
            p.add_argument('--joint-map', choices=sorted(JOINT_MAPS), help='pick joints, e.g. MediaPipe Pose -> COCO')
    p = sub.add_parser('numpy', help='.npy / .npz arrays')
    p.add_argument('input', help='folder of <name>.npy / <name>.npz, or one .npz with an array per name')
    common(p, 'frame size of 2D pixel coordinates (stored as img_shape)')
    p.add_argument('--score-channel', action='store_true', help='C = 3 is (x, y, score): store keypoint_score')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    kwargs = dict(val_ratio=args.val_ratio, seed=args.seed, img_shape=args.img_shape)
    try:
        if args.source == 'openpose':
            result = convert_openpose(args.input, args.labels, args.out, max_persons=args.max_persons,
                                      keep_body25=args.body25, max_gap=args.max_gap, **kwargs)
        elif args.source == 'json':
            joint_map = JOINT_MAPS[args.joint_map] if args.joint_map else None
            result = convert_pose_json(args.input, args.labels, args.out, max_persons=args.max_persons,
                                       joint_map=joint_map, max_gap=args.max_gap, **kwargs)
        else:
            result = convert_numpy(args.input, args.labels, args.out, score_channel=args.score_channel, **kwargs)
    except (ConversionError, FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    splits = ', '.join(f'{name}: {count}' for name, count in result.splits.items())
    print(f'wrote {result.out}: {result.num_samples} samples ({splits}); layout: {result.layout}')
    if result.label_map:
        print(f'wrote {result.label_map} (class names; labels are their line numbers from 0)')
    if result.unlabelled:
        print(f'left out {len(result.unlabelled)} input(s) with no row in {args.labels}: {result.unlabelled[:5]}')
    for warning in result.warnings:
        print(f'warning: {warning}')
    return 0


if __name__ == '__main__':
    from pyskl.utils.errors import run_tool
    sys.exit(run_tool(main))
