"""Re-encode a folder of videos smaller, for RGB training (PYSKL's ``compress_nturgbd.py``, for any folder).

    python tools/data/compress_videos.py SRC DST [--height 540] [--workers 4] [--strip-suffix _rgb]
        [--suffixes .avi .mp4 ...] [--encoder auto|ffmpeg|opencv] [--crf 18]

Every video under SRC (subfolders too) becomes ``DST/<same subfolder>/<name>.mp4`` with its short side (the height
of a landscape video) scaled to ``--height``: H.264 by ``ffmpeg`` when it is on the PATH, else OpenCV's MPEG-4
(``mp4v``; no extra install). ``--strip-suffix _rgb`` turns NTU RGB+D's ``S001C001P001R001A001_rgb.avi`` into
``S001C001P001R001A001.mp4``, the name PYSKL's RGBPose configs read (``frame_dir + '.mp4'``).

Resumable: a video whose output exists is skipped, and each output is written under a temporary name and renamed
when complete, so an interrupted run leaves no half-written ``.mp4``. Exit status: 0 when every video is done, 1
when some failed (listed with their reasons), 2 for bad arguments.
"""
import argparse
import sys

from pyskl.utils.video import ENCODERS, VIDEO_SUFFIXES, compress_folder, ffmpeg_available


def build_parser():
    parser = argparse.ArgumentParser(description='Re-encode a folder of videos with a smaller frame size')
    parser.add_argument('src', help='folder of videos (subfolders are searched too)')
    parser.add_argument('dst', help='output folder (mirrors the source subfolders)')
    parser.add_argument('--height', type=int, default=540,
                        help='the short side (a landscape video\'s height) after scaling; smaller videos keep theirs')
    parser.add_argument('--workers', type=int, default=1, help='videos re-encoded in parallel')
    parser.add_argument('--encoder', choices=ENCODERS, default='auto',
                        help='ffmpeg: H.264 (ffmpeg on the PATH); opencv: MPEG-4 mp4v; auto: ffmpeg when present')
    parser.add_argument('--crf', type=int, default=18, help='x264 quality for the ffmpeg encoder (lower: better)')
    parser.add_argument('--suffixes', nargs='+', default=list(VIDEO_SUFFIXES), help='video file suffixes to take')
    parser.add_argument('--strip-suffix', default='', help="drop this ending from the names (NTU RGB+D: '_rgb')")
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.height < 2 or args.workers < 1:
        parser.error('--height must be >= 2 and --workers >= 1')
    if args.encoder == 'ffmpeg' and not ffmpeg_available():
        parser.error('--encoder ffmpeg: no ffmpeg on the PATH (use --encoder opencv, or auto)')
    try:
        report = compress_folder(args.src, args.dst, args.height, args.workers, args.encoder, args.crf, args.suffixes,
                                 args.strip_suffix, progress=not args.no_progress)
    except (ValueError, FileNotFoundError) as e:
        parser.exit(2, f'error: {e}\n')
    print(f"{len(report['done'])} video(s) compressed with {report['encoder']}, "
          f"{len(report['skipped'])} already done, {len(report['failed'])} failed; outputs in {args.dst}")
    for reason in report['failed'].values():
        print(f'failed: {reason}', file=sys.stderr)
    return 1 if report['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
