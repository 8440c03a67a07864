"""Fuse the score files of separately trained streams and report each stream's and the fusion's accuracy:
``python tools/ensemble.py --scores j.pkl b.pkl jm.pkl bm.pkl --weights 2 2 1 1 --ann ANN --split SPLIT``.

The score files are ``tools/test.py --out`` pickles of the same split, in its dataset order. ``--mode prob``
(default) fuses averaged softmax probabilities, ``--mode score`` logits (see ``pyskl/evaluation/fusion.py``).
With ``--search-split S2 --search-scores ...`` (the same streams tested on split S2) the weights are also chosen on
S2 from a small grid and then applied to SPLIT. ``--out FUSED.pkl`` writes the fused scores, atomically, in
``tools/test.py --out``'s format (so a fusion can be fused again). Input errors print one line, ``error: ...``.
"""
import argparse
import os
import sys

import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Late fusion of skeleton streams (PYSKL README ensembles)')
    parser.add_argument('--scores', nargs='+', required=True, help='tools/test.py --out pickles, one per stream')
    parser.add_argument('--weights', nargs='+', type=float, default=None,
                        help='one weight per score file (default: all 1); PYSKL: 1 1 (J, B), 2 2 1 1 (J, B, JM, BM)')
    parser.add_argument('--ann', required=True, help='the annotation file the streams were tested on')
    parser.add_argument('--split', default=None, help='the split they were tested on (default: all annotations)')
    parser.add_argument('--mode', choices=['prob', 'score'], default='prob',
                        help='prob: the vectors are averaged probabilities (test default); score: logits')
    parser.add_argument('--search-split', default=None, help='held-out split on which to search the weights')
    parser.add_argument('--search-scores', nargs='+', default=None,
                        help='the same streams (same order) tested on --search-split')
    parser.add_argument('--grid', nargs='+', type=float, default=[0, 1, 2, 3],
                        help='weight values tried for every stream by the search (default: 0 1 2 3)')
    parser.add_argument('--out', default=None,
                        help='write the fused scores here (a .pkl like tools/test.py --out: one vector per sample in '
                        'split order; the searched weights\' fusion when a search ran), atomically')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from pyskl.evaluation.fusion import ensemble, format_table, weights_name
    from pyskl.utils import dump_pickle
    from pyskl.utils.errors import ConfigError
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ConfigError(f'--out must name a .pkl or .pickle file, got {args.out!r}')
    report = ensemble(args.scores, args.ann, args.split, weights=args.weights, mode=args.mode,
                      search_files=args.search_scores, search_split=args.search_split, grid=args.grid)
    print(f"split {report['split']!r} of {args.ann}: {report['num_samples']} samples")
    print(format_table(report['rows']))
    searched = report['searched']
    if searched is not None:
        held = ', '.join(f'{k} {v:.4f}' for k, v in searched['metrics'].items())
        print(f"best weights on {searched['split']!r}: {weights_name(searched['weights'])} ({held})")
    if args.out:
        dump_pickle([row.astype(np.float32) for row in report['fused']], args.out)
        print(f'fused scores written to {args.out}')
    return report


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from pyskl.utils.errors import run_tool
    sys.exit(run_tool(main))
