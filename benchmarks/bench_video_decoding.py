"""Frames/s of RGB video decoding (``pyskl.utils.video.open_video``): decord and the OpenCV fallback, accurate and
efficient seeking, in one run.

For each video (default: ``ntu_sample.avi`` of the reference data beside the checkout, 1920x1080, 72 frames, H.264,
and its 960x540 re-encode, the size PYSKL trains RGBPoseConv3D on, made here with ``compress_video``) and each
workload (``8``: an 8-frame RGB clip spread over the video, RGBPose's; ``32``; ``all`` frames; each ends on the last
frame), every back-end and mode opens the video and decodes the chosen frames as RGB; the figure is frames
delivered per second of wall time, best and median of ``--repeats`` runs, one decoding thread (as in dataloader
workers). ``diff`` is the largest pixel difference, over all runs, from the frames OpenCV decodes in one pass:
``decord efficient`` returns key frames, and ``decord get_batch`` (PYSKL's call, which pyskl's decord reader no
longer makes) sometimes another frame than the last one on ``ntu_sample.avi``.

PyAV (``pip install av``), when installed, is timed too (one pass, converting only the chosen frames), as the
other candidate for the fallback.

Run: ``python benchmarks/bench_video_decoding.py [VIDEO ...] [--repeats 5]`` (``pip install -e ".[video]"`` for
decord). The machine's load average is printed: on a shared machine, compare figures of one run only.
"""
import argparse
import os
import os.path as osp
import statistics
import tempfile
import time

import cv2
import numpy as np

from pyskl.utils.video import compress_video, decord_available, open_video

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED = os.environ.get('PYSKL_SHARED', osp.join(osp.dirname(REPO), 'shared'))


def pyav_frames(path: str, indices: np.ndarray) -> np.ndarray:
    import av
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        wanted, found = set(indices.tolist()), {}
        for index, frame in enumerate(container.decode(stream)):
            if index in wanted:
                found[index] = frame.to_ndarray(format='rgb24')
            if index >= indices.max():
                break
    return np.stack([found[i] for i in indices.tolist()])


def candidates():
    """``(name, decode(path, indices))`` of every back-end and mode that can run here."""
    def reader(backend, mode):
        def decode(path, indices):
            with open_video(path, backend) as video:
                return video.frames(indices, mode)
        return decode

    def get_batch(path, indices):
        import decord
        return decord.VideoReader(path, num_threads=1).get_batch(indices.tolist()).asnumpy()

    names = (['decord'] if decord_available() else []) + ['opencv']
    found = [(f'{backend} {mode}', reader(backend, mode)) for backend in names for mode in ('accurate', 'efficient')]
    if decord_available():
        found.append(('decord get_batch', get_batch))
    try:
        import av  # noqa: F401
        found.append(('pyav one pass', pyav_frames))
    except ImportError:
        pass
    return found


def bench_video(path: str, repeats: int) -> None:
    with open_video(path, 'opencv') as video:
        num_frames = video.num_frames
        height, width = video.frames([0]).shape[1:3]
    print(f'{path}: {width}x{height}, {num_frames} frames')
    workloads = {'8': np.linspace(0, num_frames - 1, 8).round().astype(int),
                 '32': np.linspace(0, num_frames - 1, 32).round().astype(int), 'all': np.arange(num_frames)}
    decoders = candidates()
    with open_video(path, 'opencv') as video:
        reference = video.frames(np.arange(num_frames))
    for workload, indices in workloads.items():
        times, diffs = {name: [] for name, _ in decoders}, {name: 0 for name, _ in decoders}
        for _ in range(repeats):  # interleaved, so that a burst of load hits every candidate alike
            for name, decode in decoders:
                start = time.perf_counter()
                frames = decode(path, indices)
                times[name].append(time.perf_counter() - start)
                diffs[name] = max([diffs[name]] + [int(cv2.absdiff(frame, reference[index]).max())
                                                   for frame, index in zip(frames, indices)])
        for name, spent in times.items():
            print(f'  {workload:>3} frames  {name:<18} best {len(indices) / min(spent):7.1f} frames/s  median '
                  f'{len(indices) / statistics.median(spent):7.1f} frames/s  diff {diffs[name]}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('videos', nargs='*', help='videos to decode (default: ntu_sample.avi and a 540p copy)')
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()
    print(f'load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; decord '
          f'{"installed" if decord_available() else "NOT installed"}')
    with tempfile.TemporaryDirectory() as tmp:
        videos = args.videos
        if not videos:
            sample = osp.join(SHARED, 'data', 'ntu_sample.avi')
            if not osp.exists(sample):
                parser.error(f'{sample} is absent: name videos to decode')
            small = osp.join(tmp, 'ntu_sample_540p.mp4')
            encoder = compress_video(sample, small, short_side=540)
            print(f'{small}: made with {encoder}')
            videos = [sample, small]
        for video in videos:
            bench_video(video, args.repeats)


if __name__ == '__main__':
    main()
