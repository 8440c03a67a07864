"""Frames/s of skeleton extraction with the MediaPipe back-end (``pyskl/extraction``), one process and N processes.

For each video (default: ``ntu_sample.avi`` of the reference data beside the checkout, 1920x1080, 72 frames):

* ``decode``: OpenCV decoding alone;
* ``backend``: the back-end alone on frames already decoded (one process);
* ``extract xW``: ``extract_skeletons`` end to end (decode + back-end + caching + the final pickle) on ``--copies``
  copies of the video with W worker processes, wall clock from start to the written annotation, pool start-up
  included, nothing reused from a cache.

Also prints each figure per CPU-second (the fair figure when other jobs share the cores) and ms per frame.

Run: ``python benchmarks/bench_extraction.py [VIDEO ...] [--workers 1 2] [--copies 4] [--backend mediapipe]``
(needs ``pip install -e ".[extract]"``).
"""
import argparse
import os
import os.path as osp
import resource
import tempfile
import time

from pyskl.extraction import build_backend, extract_skeletons, parse_video_list
from pyskl.utils.video import iter_frames

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED = os.environ.get('PYSKL_SHARED', osp.join(osp.dirname(REPO), 'shared'))


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn):
    start, start_cpu = time.perf_counter(), cpu_seconds()
    frames = fn()
    return frames, time.perf_counter() - start, cpu_seconds() - start_cpu


def report(what: str, frames: int, wall: float, cpu: float) -> None:
    print(f'  {what:<14} {frames:5d} frames  {frames / wall:7.1f} frames/s  {1000 * wall / frames:7.1f} ms/frame  '
          f'{frames / cpu:7.1f} frames per CPU-s')


def time_backend(video: str, backend: str):
    frames = list(iter_frames(video))
    with build_backend(backend) as model:
        model(frames[:5])  # warm-up: graph start, first-inference set-up
        return timed(lambda: len(model(frames)))


def bench_video(video: str, backend: str, workers, copies: int) -> None:
    print(f'{video} (back-end {backend})')
    report('decode', *timed(lambda: sum(1 for _ in iter_frames(video))))
    report('backend', *time_backend(video, backend))
    with tempfile.TemporaryDirectory() as tmp:
        listing = osp.join(tmp, 'videos.txt')
        with open(listing, 'w') as f:
            for i in range(copies):
                link = osp.join(tmp, f'copy{i:03d}{osp.splitext(video)[1]}')
                os.symlink(osp.abspath(video), link)
                f.write(f'{link} 0\n')
        for count in workers:
            out = osp.join(tmp, f'out{count}', 'skeletons.pkl')

            def run():
                result = extract_skeletons(parse_video_list(listing), out, backend, workers=count, progress=False)
                assert not result.failed, result.failed
                return result.frames

            report(f'extract x{count}', *timed(run))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('videos', nargs='*', help='videos to time (default: ntu_sample.avi of ../shared/data)')
    parser.add_argument('--backend', default='mediapipe')
    parser.add_argument('--workers', type=int, nargs='+', default=[1, 2], help='process counts to time')
    parser.add_argument('--copies', type=int, default=4, help='copies of each video in the timed extraction runs')
    args = parser.parse_args()
    videos = args.videos or [osp.join(SHARED, 'data', 'ntu_sample.avi')]
    print(f'{os.cpu_count()} CPUs')
    for video in videos:
        bench_video(video, args.backend, args.workers, args.copies)


if __name__ == '__main__':
    main()
