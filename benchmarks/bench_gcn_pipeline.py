"""Samples/s of the ST-GCN++ NTU-60 3D joint pipelines (``configs/stgcn++/stgcn++_ntu60_xsub_3dkp/j.py``).

Synthetic NTU-sized samples (2 persons, 300 frames, 25 joints, float16 keypoints) go through the config's
``train_pipeline`` (1 random clip) and ``test_pipeline`` (10 clips, seed-255 sampling), single process, both
through ``PoseDataset.__getitem__`` (annotation unpacking included) and through ``mmengine.dataset.Compose`` alone.
Prints samples/s (median of the repeats) and the ratio to the targets (train 450/s, test 400/s on a 2-core machine),
by the wall clock and per CPU-second of the process (the fair figure when other jobs share the cores).

Run: ``python benchmarks/bench_gcn_pipeline.py [--iters 500] [--repeats 5] [--samples 64]``.
"""
import argparse
import os
import os.path as osp
import pickle
import statistics
import tempfile
import time

import numpy as np
import torch

CONFIG = osp.join(osp.dirname(__file__), '..', 'configs', 'stgcn++', 'stgcn++_ntu60_xsub_3dkp', 'j.py')
TARGETS = dict(train=450., test=400.)


def synthetic_annotations(num, frames=300, seed=0):
    """NTU-like bodies: a random pose about 3 m from the camera, random-walking joints, two persons."""
    rng = np.random.default_rng(seed)
    annos = []
    for i in range(num):
        pose = rng.normal(scale=0.3, size=(2, 1, 25, 3)) + np.array([0., 0., 3.])
        walk = np.cumsum(rng.normal(scale=0.01, size=(2, frames, 25, 3)), axis=1)
        annos.append(dict(frame_dir=f'S001C001P001R001A{i:03d}', label=i % 60, total_frames=frames,
                          keypoint=(pose + walk).astype(np.float16)))
    return annos


def rate(fn, iters, repeats, warmup=20):
    """Median samples per wall-clock second and per CPU-second of this process (the latter hardly moves when other
    processes share the cores)."""
    for i in range(warmup):
        fn(i)
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for i in range(iters):
            fn(i)
        wall.append(iters / (time.perf_counter() - start))
        cpu.append(iters / (time.process_time() - start_cpu))
    return statistics.median(wall), statistics.median(cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--iters', type=int, default=500, help='samples per timed repeat')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--samples', type=int, default=64, help='distinct synthetic annotations')
    args = parser.parse_args()
    torch.set_num_threads(1)  # a dataloader worker's share of a 2-core machine

    from mmengine.config import Config
    from mmengine.dataset import Compose

    from pyskl.registry import DATASETS
    from pyskl.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    annos = synthetic_annotations(args.samples)

    with tempfile.TemporaryDirectory() as tmp:
        ann_file = osp.join(tmp, 'ntu_synthetic.pkl')
        with open(ann_file, 'wb') as f:
            pickle.dump(dict(split=dict(all=[a['frame_dir'] for a in annos]), annotations=annos), f)
        print(f'{args.samples} synthetic samples [2, 300, 25, 3] float16, {args.iters} x {args.repeats} per figure, '
              f'pid {os.getpid()}, load average {os.getloadavg()[0]:.1f}')
        for mode in ('train', 'test'):
            pipeline = cfg[f'{mode}_pipeline']
            dataset = DATASETS.build(dict(type='PoseDataset', ann_file=ann_file, pipeline=pipeline, split='all',
                                          test_mode=mode == 'test'))
            compose = Compose(pipeline)
            infos = [dataset.get_data_info(i) for i in range(len(dataset))]
            target = TARGETS[mode]
            for name, fn in (('PoseDataset.__getitem__', lambda i: dataset[i % len(dataset)]),
                             ('Compose alone', lambda i: compose(dict(infos[i % len(infos)])))):
                wall, cpu = rate(fn, args.iters, args.repeats)
                print(f'{mode:5s} pipeline, {name:23s}: {wall:7.1f} samples/s ({wall / target:.2f}x the '
                      f'{target:.0f}/s target); {cpu:7.1f} per CPU-second ({cpu / target:.2f}x)')


if __name__ == '__main__':
    main()
