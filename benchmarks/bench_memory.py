"""Memory of dataloader workers over a large annotation: does each added worker stay cheap?

Two annotations of the same 20,000 NTU-sized samples (2 persons x 80-120 frames x 17 joints, x, y and score in
float16; random numbers, generated in bulk, not by the kinematic generator):

* ``dense``: PYSKL's ordinary format, ``keypoint [2, T, 17, 2]`` + ``keypoint_score [2, T, 17]`` inline, which
  PoseDataset keeps in mmengine's serialized buffer (shared copy-on-write by forked workers);
* ``k400``: Kinetics-400's compressed format, a table of contents + 20 kpfiles of ``{frame_dir: {'keypoint':
  [N, 17, 3]}}``, read through the memory-mapped keypoint store (built once, before the measurements).

For each format and each worker count (1, 4, 8 by default) a fresh process builds the dataset and iterates one epoch
through a DataLoader (batch 32, a cheap pipeline: ``UniformSampleFrames(48)`` + ``PoseDecode``, after
``DecompressPose`` for k400; the batches are counted, not collated). Every 50 batches and at the last one it reads the
PSS (proportional set size: shared pages divided among the processes sharing them) of the main process and of every
worker from ``/proc/PID/smaps_rollup``, and keeps the largest total. Printed: the annotation's in-memory size, the
total PSS per worker count, and the cost of each added worker, (PSS(max workers) - PSS(1 worker)) / (workers - 1), as a
share of the annotation's size. Target: < 10 %. The measuring processes call ``keep_freed_memory`` as
``tools/train.py`` does (the workers inherit it); ``--no-keep-memory`` leaves glibc's defaults.

Run: ``python benchmarks/bench_memory.py [--samples 20000] [--workers 1 4 8] [--kinds dense k400] [--no-trim]`` (a
few minutes on 2 cores; Linux). ``--no-trim`` leaves out PoseDataset's ``malloc_trim`` after packing the annotations.
``benchmarks/bench_memory_training.py`` measures a whole 2-process training and testing.
"""
import argparse
import json
import os
import os.path as osp
import pickle
import subprocess
import sys
import tempfile
import time

import numpy as np

V, PERSONS, FRAMES = 17, 2, (80, 121)
SAMPLES_PER_KPFILE = 1000


def write_annotations(folder: str, num: int, seed: int = 0, k400: bool = True) -> dict:
    """The dense annotation and (``k400``) its K400 form (table of contents + kpfiles) under ``folder``; returns their
    paths."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(*FRAMES, size=num)
    dense, toc, kpfile = [], [], {}
    kp_dir = osp.join(folder, 'kpfiles')
    os.makedirs(kp_dir, exist_ok=True)
    for i, num_frames in enumerate(frames):
        frame_dir = f'S{i // 1000:03d}C001P001R001A{i % 60 + 1:03d}_{i:05d}'
        xy = rng.uniform(0, 1920, size=(PERSONS, num_frames, V, 2)).astype(np.float16)
        score = rng.uniform(0, 1, size=(PERSONS, num_frames, V)).astype(np.float16)
        common = dict(frame_dir=frame_dir, label=int(i % 60), total_frames=int(num_frames), img_shape=(1080, 1920),
                      original_shape=(1080, 1920))
        dense.append(dict(common, keypoint=xy, keypoint_score=score))
        if not k400:
            continue
        # K400's rows: frame-major, persons within a frame
        rows = np.concatenate([xy, score[..., None]], -1).transpose(1, 0, 2, 3).reshape(-1, V, 3)
        raw_file = osp.join('kpfiles', f'part_{i // SAMPLES_PER_KPFILE:03d}.pkl')
        toc.append(dict(common, frame_inds=np.repeat(np.arange(num_frames, dtype=np.int16), PERSONS),
                        box_score=np.ones(len(rows), np.float16), valid={0.5: int(num_frames)}, raw_file=raw_file))
        kpfile[frame_dir] = dict(keypoint=rows)
        if len(kpfile) == SAMPLES_PER_KPFILE or i == num - 1:
            with open(osp.join(folder, raw_file), 'wb') as f:
                pickle.dump(kpfile, f, protocol=4)
            kpfile = {}
    paths = dict(dense=osp.join(folder, 'dense.pkl'), k400=osp.join(folder, 'k400.pkl'))
    for kind, annos in (('dense', dense), ('k400', toc))[:2 if k400 else 1]:
        with open(paths[kind], 'wb') as f:
            pickle.dump(dict(split=dict(train=[a['frame_dir'] for a in annos]), annotations=annos), f, protocol=4)
    return paths


def pipeline(kind: str) -> list:
    steps = [dict(type='UniformSampleFrames', clip_len=48), dict(type='PoseDecode')]
    return ([dict(type='DecompressPose', squeeze=True)] if kind == 'k400' else []) + steps


def build_dataset(kind: str, ann_file: str):
    from pyskl.datasets import PoseDataset
    from pyskl.utils import register_all_modules
    register_all_modules()
    return PoseDataset(ann_file, pipeline=pipeline(kind), split='train')


def annotation_bytes(dataset) -> int:
    """What the dataset holds in memory: the serialized annotations plus, for K400, the keypoint store."""
    size = dataset.data_bytes.nbytes + dataset.data_address.nbytes
    if dataset.kpstore is not None:
        size += osp.getsize(dataset.kpstore.data_file)
    return size


def pss_bytes(pid: int) -> int:
    with open(f'/proc/{pid}/smaps_rollup') as f:
        for line in f:
            if line.startswith('Pss:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f'no Pss line in /proc/{pid}/smaps_rollup')


def count(batch) -> int:
    return len(batch)


def measure(kind: str, ann_file: str, workers: int, keep_memory: bool, trim: bool = True) -> dict:
    """One epoch with ``workers`` workers (run in a fresh process); the largest total PSS seen."""
    import torch
    if keep_memory:
        from pyskl.utils.memory import keep_freed_memory
        keep_freed_memory()
    if not trim:  # measure without PoseDataset's malloc_trim after packing the annotations
        import pyskl.datasets.pose_dataset as pose_dataset
        pose_dataset.release_free_memory = lambda: False
    torch.set_num_threads(1)
    dataset = build_dataset(kind, ann_file)
    loader = torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True, num_workers=workers,
                                         collate_fn=count)
    iterator = iter(loader)
    worker_pids = [w.pid for w in iterator._workers]
    peak, start, seen = dict(total=0), time.perf_counter(), 0
    for i, num in enumerate(iterator):
        seen += num
        if i % 50 == 0 or i == len(loader) - 1:
            main, each = pss_bytes(os.getpid()), [pss_bytes(pid) for pid in worker_pids]
            if main + sum(each) > peak['total']:
                peak = dict(total=main + sum(each), main=main, workers=sum(each))
    assert seen == len(dataset)
    return dict(peak, seconds=time.perf_counter() - start, annotation=annotation_bytes(dataset))


def run_measure(args, kind, ann_file, workers) -> dict:
    command = [sys.executable, __file__, '--measure', kind, '--ann-file', ann_file, '--workers', str(workers)]
    if not args.keep_memory:
        command.append('--no-keep-memory')
    if not args.trim:
        command.append('--no-trim')
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=repo + os.pathsep + os.environ.get('PYTHONPATH', ''))
    out = subprocess.run(command, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f'{" ".join(command)} failed:\n{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def mib(num_bytes: float) -> str:
    return f'{num_bytes / 2**20:.0f} MiB'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--samples', type=int, default=20000)
    parser.add_argument('--workers', type=int, nargs='+', default=[1, 4, 8])
    parser.add_argument('--no-keep-memory', dest='keep_memory', action='store_false',
                        help="leave glibc's malloc defaults (tools/train.py keeps freed memory in the process)")
    parser.add_argument('--no-trim', dest='trim', action='store_false',
                        help="no malloc_trim after PoseDataset packs the annotations (to see what it saves)")
    parser.add_argument('--kinds', nargs='+', choices=['dense', 'k400'], default=['dense', 'k400'])
    parser.add_argument('--measure', choices=['dense', 'k400'], help=argparse.SUPPRESS)
    parser.add_argument('--ann-file', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.ann_file, args.workers[0], args.keep_memory, args.trim)))
        return
    if not osp.exists('/proc/self/smaps_rollup'):
        sys.exit('bench_memory.py reads /proc/PID/smaps_rollup (Linux 4.14+)')

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        paths = write_annotations(tmp, args.samples)
        print(f'{args.samples} samples [2, 80-120, 17, 2] + scores, float16, written in '
              f'{time.perf_counter() - start:.0f} s: dense {mib(osp.getsize(paths["dense"]))}, K400 table of contents '
              f'{mib(osp.getsize(paths["k400"]))} + kpfiles; load average {os.getloadavg()[0]:.1f}')
        if 'k400' in args.kinds:
            start = time.perf_counter()
            build_dataset('k400', paths['k400'])  # the keypoint store, built once before the measurements
            print(f'K400 keypoint store built in {time.perf_counter() - start:.0f} s')
        print(f'{"format":<7}{"workers":>8}{"total PSS":>12}{"main":>10}{"workers":>10}{"epoch":>8}')
        for kind in args.kinds:
            results = {}
            for workers in args.workers:
                results[workers] = r = run_measure(args, kind, paths[kind], workers)
                print(f'{kind:<7}{workers:>8}{mib(r["total"]):>12}{mib(r["main"]):>10}{mib(r["workers"]):>10}'
                      f'{r["seconds"]:>7.0f}s', flush=True)
            low, high = min(args.workers), max(args.workers)
            size = results[low]['annotation']
            if high > low:
                per_worker = (results[high]['total'] - results[low]['total']) / (high - low)
                print(f'{kind}: annotation in memory {mib(size)}; each added worker costs {mib(per_worker)} = '
                      f'{100 * per_worker / size:.1f} % of it (target < 10 %)')


if __name__ == '__main__':
    main()
