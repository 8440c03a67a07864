"""Extract 2D skeletons from videos into a PYSKL annotation pickle.

    python tools/data/extract_skeleton.py VIDEO_LIST OUT.pkl [--backend mediapipe] [--workers N] [--skip-failed]

VIDEO_LIST has one video a line: ``path [label [split]]``. See docs/data.md ("Skeletons from your videos") and
``pyskl/extraction/``. Exit status: 0 when the annotation was written, 1 when a video failed (they are listed in
``<OUT stem>.report.txt``; rerun with ``--skip-failed`` to write the annotation without them), 2 for bad arguments.
"""
import argparse
import sys

from pyskl.extraction import BACKENDS, extract_skeletons, output_paths, parse_video_list


def build_parser():
    parser = argparse.ArgumentParser(description='Extract 2D skeletons from videos into a PYSKL annotation pickle')
    parser.add_argument('video_list', help='text file, one video a line: path [label [split]]')
    parser.add_argument('out', help='annotation pickle to write')
    parser.add_argument('--backend', choices=sorted(BACKENDS), default='mediapipe',
                        help='mediapipe: one person, COCO-17 (default, no download); mediapipe-hands: 21-joint hands; '
                        'mmpose: mmdet person detector + mmpose top-down model, multi-person COCO-17')
    parser.add_argument('--workers', type=int, default=1, help='processes extracting videos in parallel')
    parser.add_argument('--skip-failed', action='store_true',
                        help='write the annotation without the videos that failed (they stay listed in the report)')
    parser.add_argument('--max-persons', type=int, default=2,
                        help='people (hands) kept per video by the multi-person back-ends')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    mmpose = parser.add_argument_group('mmpose back-end (files on disk; nothing is downloaded)')
    mmpose.add_argument('--det-config', help='mmdet config of the person detector')
    mmpose.add_argument('--det-checkpoint', help='its checkpoint')
    mmpose.add_argument('--pose-config', help='mmpose top-down config (e.g. HRNet-w32 COCO 256x192)')
    mmpose.add_argument('--pose-checkpoint', help='its checkpoint')
    mmpose.add_argument('--device', default='cpu', help='e.g. cuda:0')
    mmpose.add_argument('--det-score-thr', type=float, default=0.7, help='keep person boxes scoring at least this')
    mmpose.add_argument('--det-area-thr', type=float, default=1600,
                        help='keep person boxes of at least this area (px^2)')
    return parser


def backend_kwargs(args) -> dict:
    if args.backend == 'mediapipe':
        return {}
    if args.backend == 'mediapipe-hands':
        return dict(max_persons=args.max_persons)
    return dict(det_config=args.det_config, det_checkpoint=args.det_checkpoint, pose_config=args.pose_config,
                pose_checkpoint=args.pose_checkpoint, device=args.device, det_score_thr=args.det_score_thr,
                det_area_thr=args.det_area_thr, max_persons=args.max_persons)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.workers < 1 or args.max_persons < 1:
        parser.error('--workers and --max-persons must be >= 1')
    try:
        entries = parse_video_list(args.video_list)
        report = extract_skeletons(entries, args.out, args.backend, backend_kwargs(args), workers=args.workers,
                                   skip_failed=args.skip_failed, progress=not args.no_progress)
    except (ValueError, FileNotFoundError, ImportError) as e:  # a bad list or an unusable back-end: before any work
        parser.exit(2, f'error: {e}\n')
    cache_dir, report_file = output_paths(args.out)
    print(report.text(), end='')
    print(f'report: {report_file}; finished videos are cached in {cache_dir} (a rerun only extracts the rest)')
    if report.failed and not report.written:
        print(f'{len(report.failed)} video(s) failed, so {args.out} was not written: fix them, or rerun with '
              '--skip-failed to write the annotation without them', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    from pyskl.utils.errors import run_tool
    sys.exit(run_tool(main))
