"""Training curves of a run: ``python tools/analysis/plot_curves.py WORK_DIR [--out WORK_DIR/curves.png]``.

Reads the scalar log mmengine writes during training (``WORK_DIR/<timestamp>/vis_data/scalars.json``; the runs of a
resumed training are joined) and draws the training loss, the learning rate and the validation metrics per epoch
into one PNG (see ``pyskl/utils/curves.py``).
"""
import argparse
import os
import os.path as osp
import sys


def parse_args(argv=None):
    from pyskl.utils.cli import DefaultsHelpFormatter
    parser = argparse.ArgumentParser(description='Plot loss, learning rate and val accuracy per epoch',
                                     formatter_class=DefaultsHelpFormatter)
    parser.add_argument('work_dir', help='the training run\'s work dir')
    parser.add_argument('--out', default=None, help='PNG to write (default: WORK_DIR/curves.png)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from pyskl.utils.curves import plot_curves, read_curves
    out = args.out or osp.join(args.work_dir, 'curves.png')
    try:
        curves = read_curves(args.work_dir)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'plot_curves: {e}')
    plot_curves(curves, out, title=osp.basename(osp.normpath(args.work_dir)))
    last = {key: values[max(values)] for key, values in curves.items() if values}
    shown = ', '.join(f'{key} {value:.4g}' for key, value in last.items())
    print(f'wrote {out}: {len(curves["loss"])} epochs; last: {shown}')
    return curves


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main()
