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
import os
import os.path as osp
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import List, Optional, Sequence, Tuple

from tqdm import tqdm

from pyskl.utils.video import ENCODERS, VideoError, compress_video, ffmpeg_available

VIDEO_SUFFIXES = ('.avi', '.mp4', '.mkv', '.mov', '.webm', '.m4v', '.mpg', '.mpeg', '.wmv', '.flv')


def find_jobs(src: str, dst: str, suffixes: Sequence[str] = VIDEO_SUFFIXES,
              strip_suffix: str = '') -> List[Tuple[str, str]]:
    """``(source, output)`` pairs for every video under ``src``, sorted; errors when two sources map to one output."""
    suffixes = tuple(s.lower() for s in suffixes)
    jobs, seen = [], {}
    dst_real = osp.realpath(dst)
    for folder, subfolders, files in os.walk(src):
        # the outputs are not inputs when DST lies inside SRC
        subfolders[:] = sorted(d for d in subfolders if osp.realpath(osp.join(folder, d)) != dst_real)
        for name in sorted(files):
            stem, suffix = osp.splitext(name)
            if name.startswith('.') or suffix.lower() not in suffixes:
                continue
            if strip_suffix and stem.endswith(strip_suffix):
                stem = stem[:-len(strip_suffix)]
            source = osp.join(folder, name)
            output = osp.join(dst, osp.relpath(folder, src), stem + '.mp4')
            output = osp.normpath(output)
            if output in seen:
                raise ValueError(f'{seen[output]} and {source} would both be written to {output}')
            seen[output] = source
            jobs.append((source, output))
    return jobs


def _compress(job: Tuple[str, str], height: int, encoder: str, crf: int) -> Tuple[str, Optional[str]]:
    source, output = job
    try:
        compress_video(source, output, height, encoder, crf)
    except (VideoError, OSError, ValueError) as e:
        return source, str(e) if source in str(e) else f'{source}: {e}'
    return source, None


def compress_folder(src: str, dst: str, height: int = 540, workers: int = 1, encoder: str = 'auto', crf: int = 18,
                    suffixes: Sequence[str] = VIDEO_SUFFIXES, strip_suffix: str = '', progress: bool = True) -> dict:
    """Compress every video under ``src`` that has no output yet. Returns ``dict(done=[...], skipped=[...],
    failed={source: reason})``."""
    if not osp.isdir(src):
        raise FileNotFoundError(f'source folder {src} does not exist')
    jobs = find_jobs(src, dst, suffixes, strip_suffix)
    if not jobs:
        raise ValueError(f'no video ({", ".join(suffixes)}) under {src}')
    todo = [job for job in jobs if not osp.exists(job[1])]
    report = dict(done=[], skipped=[source for source, output in jobs if osp.exists(output)], failed={})
    with tqdm(total=len(todo), unit='video', disable=not (progress and todo), dynamic_ncols=True) as bar:
        if workers == 1 or len(todo) <= 1:
            results = (_compress(job, height, encoder, crf) for job in todo)
            for source, error in results:
                _record(report, bar, source, error)
        else:
            with ProcessPoolExecutor(min(workers, len(todo))) as pool:
                futures = [pool.submit(_compress, job, height, encoder, crf) for job in todo]
                for future in as_completed(futures):
                    _record(report, bar, *future.result())
    return report


def _record(report: dict, bar, source: str, error: Optional[str]) -> None:
    if error is None:
        report['done'].append(source)
    else:
        report['failed'][source] = error
        bar.write(f'failed: {error}')
    bar.update()


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
    encoder = args.encoder if args.encoder != 'auto' else ('ffmpeg' if ffmpeg_available() else 'opencv')
    print(f"{len(report['done'])} video(s) compressed with {encoder}, {len(report['skipped'])} already done, "
          f"{len(report['failed'])} failed; outputs in {args.dst}")
    for reason in report['failed'].values():
        print(f'failed: {reason}', file=sys.stderr)
    return 1 if report['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
