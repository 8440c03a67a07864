"""NTU RGB+D 60/120 official skeletons -> ``ntu60_3danno.pkl`` (and ``ntu120_3danno.pkl``), PYSKL's 3D files.

    python tools/data/ntu_preproc.py SKELETON_DIR [--out-dir data/nturgbd] [--missing tools/data/ntu120_missing.txt]
        [--workers N] [--cache-dir DIR] [--keep-cache | --no-cache] [--skip-bad]

SKELETON_DIR holds the official ``.skeleton`` files (``nturgb+d_skeletons/``; put the NTU-120 ones in the same folder
to get both files). Each file's result is cached until the output files are written, so a rerun after a crash or a
kill parses only what is left. The algorithm is in ``pyskl/datasets/ntu_raw.py``.
"""
import argparse
import os
import os.path as osp
import shutil
import sys
import time

from pyskl.datasets.ntu_raw import SkeletonFileError, convert_ntu_skeletons, read_name_list

DEFAULT_MISSING = osp.join(osp.dirname(osp.abspath(__file__)), 'ntu120_missing.txt')


def build_parser():
    parser = argparse.ArgumentParser(description="Make PYSKL's NTU RGB+D 3D annotation files from .skeleton files")
    parser.add_argument('skeleton_dir', help='folder of the official .skeleton files')
    parser.add_argument('--out-dir', default='data/nturgbd', help='where the .pkl files go (default: data/nturgbd)')
    parser.add_argument('--missing', default=DEFAULT_MISSING,
                        help='list of samples with missing skeletons to leave out (default: the 535 of NTU RGB+D 120, '
                             'tools/data/ntu120_missing.txt); "none" keeps every file')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1, help='parallel processes')
    parser.add_argument('--cache-dir', help='per-file results (default: OUT_DIR/.ntu_skeleton_cache)')
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument('--keep-cache', action='store_true', help='keep the per-file results after a successful run '
                                                                 '(a later run with new files parses only those)')
    cache.add_argument('--no-cache', action='store_true', help='keep no per-file results (a rerun starts over)')
    parser.add_argument('--skip-bad', action='store_true', help='leave malformed files out (listed) instead of failing')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    missing = [] if args.missing.lower() == 'none' else read_name_list(args.missing)
    cache_dir = None if args.no_cache else (args.cache_dir or osp.join(args.out_dir, '.ntu_skeleton_cache'))
    start = time.time()
    try:
        result = convert_ntu_skeletons(args.skeleton_dir, args.out_dir, missing, args.workers, cache_dir,
                                       args.skip_bad)
    except (SkeletonFileError, FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'parsed in {time.time() - start:.1f}s; left out: {len(result.skipped_missing)} on the missing list, '
          f'{len(result.empty)} without any body' + (f': {result.empty[:5]}' if result.empty else ''))
    for error in result.errors:
        print(f'skipped malformed file: {error}')
    for benchmark, path in result.written.items():
        print(f'wrote {path}: {result.num_samples[benchmark]} samples')
    if cache_dir is not None and not args.keep_cache:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    from pyskl.utils.errors import run_tool
    sys.exit(run_tool(main))
