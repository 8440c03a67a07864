"""Report every problem of an annotation file; with --fix, write a cleaned copy beside it.

    python tools/data/check_annotation.py ANN [--layout L] [--num-classes K | --label-map FILE] [--fix]
        [--examples 5]

Checks the schema, dtypes, shapes against the layout, NaN/inf, labels (type, range, classes without samples),
splits (names without annotation, empty splits, train/val overlap), duplicate ``frame_dir``, ``total_frames``, empty
keypoints and ``img_shape``, and prints the samples per class in each split. Exit status 1 when anything is wrong.
``--fix`` writes ``ANN`` with ``.fixed`` before the extension (never the file itself), without the bad samples and the
split references to them, and lists what it dropped. The checks are ``pyskl/datasets/checks.py``.
"""
import argparse
import json
import sys

from pyskl.datasets.checks import check_annotation_file, write_fixed
from pyskl.datasets.checks import AnnotationError


def build_parser():
    parser = argparse.ArgumentParser(description='Check an annotation file (PYSKL format) and optionally clean it')
    parser.add_argument('ann_file', help='the annotation pickle')
    parser.add_argument('--layout', help='nturgb+d, coco, openpose, handmp, or a custom layout as JSON '
                                         '(\'{"num_node": 15, "inward": [[1, 0], ...], "center": 0}\')')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--num-classes', type=int, help='labels must be below it')
    group.add_argument('--label-map', help='class names, one per line: their number is the number of classes')
    parser.add_argument('--fix', action='store_true', help='write a cleaned copy (ANN.fixed.pkl) beside the file')
    parser.add_argument('--examples', type=int, default=5, help='examples shown per problem kind')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    layout = args.layout
    if layout is not None and layout.lstrip().startswith('{'):
        layout = json.loads(layout)
    try:
        content, report = check_annotation_file(args.ann_file, layout, args.num_classes, args.label_map)
    except (AnnotationError, FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(report.summary(args.examples))
    table = report.balance_table()
    if table:
        print('\nsamples per class (valid samples):')
        print(table)
    if args.fix and not report.ok:
        try:
            out, dropped = write_fixed(content, report, args.ann_file)
        except ValueError as e:
            print(f'error: {e}', file=sys.stderr)
            return 1
        print(f'\nwrote {out}')
        for kind, names in dropped.items():
            shown = ', '.join(names[:args.examples]) + (' ...' if len(names) > args.examples else '')
            print(f'  dropped for {kind} ({len(names)}): {shown}')
        if not dropped:
            print('  nothing could be dropped: the problems left are for you to judge')
    return 0 if report.ok else 1


if __name__ == '__main__':
    from pyskl.utils.errors import run_tool
    sys.exit(run_tool(main))
