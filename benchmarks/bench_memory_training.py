"""Memory under load: a 2-process training with 4 dataloader workers per process over 3 epochs, then testing.

The annotation is ``bench_memory.py``'s dense one: 20,000 NTU-sized 2D samples (2 persons x 80-120 frames x 17 joints,
x, y and score in float16). A small ST-GCN (COCO layout) trains on it with ``tools/dist_train.sh`` (gloo on the CPU,
batch 32, persistent workers, ``keep_freed_memory`` as the tool sets it); a hook in every rank (this module, loaded
through the config's ``custom_imports``) reads the PSS (proportional set size: shared pages divided among the
processes sharing them) of the rank and of each of its workers from ``/proc/PID/smaps_rollup`` every 20 iterations
and keeps the largest total per epoch. Printed: each epoch's peak per rank, and the growth from the first epoch to
the last (the target: none beyond noise).

Then ``tools/dist_test.sh`` with the same processes and workers runs on the big annotation and on a 200-sample one;
the difference of the total PSS of a rank and its workers, divided by the annotation's in-memory size (mmengine's
serialized buffer), counts the copies of the annotation they hold together (target: one; PSS splits the shared
buffer among the rank and its workers).

Run: ``python benchmarks/bench_memory_training.py [--samples 20000] [--workers 4] [--epochs 3] [--procs 2]``
(Linux; about 10 minutes on 2 cores).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

# beside this file: on sys.path as the script's folder in the driver, on PYTHONPATH (main's env) in the ranks
from bench_memory import annotation_bytes, mib, pss_bytes, write_annotations

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(HERE)
EVERY = 20  # iterations between two PSS readings

CONFIG = '''
default_scope = 'pyskl'
custom_imports = dict(imports=['bench_memory_training'], allow_failed_imports=False)
model = dict(
    type='RecognizerGCN',
    backbone=dict(type='STGCN', base_channels=16, num_stages=2, inflate_stages=[], down_stages=[],
                  graph_cfg=dict(layout='coco', mode='spatial')),
    cls_head=dict(type='GCNHead', num_classes=60, in_channels=16))
pipeline = [
    dict(type='PreNormalize2D'), dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSample', clip_len=16), dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2), dict(type='PackActionInputs')]
train_dataloader = dict(
    batch_size=32, num_workers={workers}, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='PoseDataset', ann_file={ann_file!r}, pipeline=pipeline, split='train'))
test_dataloader = dict(
    batch_size=32, num_workers={workers}, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='PoseDataset', ann_file={ann_file!r}, pipeline=pipeline, split='train', test_mode=True))
test_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy'])
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs={epochs})
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval={epochs}), logger=dict(type='LoggerHook',
                     interval=100))
custom_hooks = [dict(type='PSSProbeHook', out={probe!r})]
'''


# -- in the ranks: the probe hook ---------------------------------------------------------------------------------
def children(pid: int) -> list:
    """The processes whose parent is ``pid`` (the dataloader workers of a rank)."""
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as f:
                    if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found


def _register_probe():
    from mmengine.dist import get_rank
    from mmengine.hooks import Hook

    from pyskl.registry import HOOKS

    @HOOKS.register_module()
    class PSSProbeHook(Hook):
        """Every ``EVERY`` iterations, the PSS of this rank and of its workers; one JSON line per epoch."""

        def __init__(self, out):
            self.out, self.peak = out, None

        def _read(self, runner):
            main = pss_bytes(os.getpid())
            workers = sum(pss_bytes(pid) for pid in children(os.getpid()))
            if self.peak is None or main + workers > self.peak['total']:
                self.peak = dict(total=main + workers, main=main, workers=workers)

        def _write(self, runner, phase, dataset):
            while hasattr(dataset, 'dataset'):
                dataset = dataset.dataset
            record = dict(self.peak, phase=phase, rank=get_rank(), epoch=runner.epoch,
                          annotation=int(annotation_bytes(dataset)))
            with open(self.out, 'a') as f:
                f.write(json.dumps(record) + '\n')
            self.peak = None

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            if batch_idx % EVERY == 0:
                self._read(runner)

        def after_train_epoch(self, runner):
            self._read(runner)
            self._write(runner, 'train', runner.train_dataloader.dataset)

        def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            if batch_idx % EVERY == 0:
                self._read(runner)

        def after_test_epoch(self, runner, metrics=None):
            self._read(runner)
            self._write(runner, 'test', runner.test_dataloader.dataset)


if __name__ != '__main__':  # imported by the ranks through custom_imports
    _register_probe()


# -- the driver -------------------------------------------------------------------------------------------------
def run(command, env):
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f'{" ".join(command)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return time.perf_counter() - start


def read_probe(path, phase):
    with open(path) as f:
        return [r for r in map(json.loads, f) if r['phase'] == phase]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--samples', type=int, default=20000)
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--procs', type=int, default=2)
    args = parser.parse_args()
    if not osp.exists('/proc/self/smaps_rollup'):
        sys.exit('bench_memory_training.py reads /proc/PID/smaps_rollup (Linux 4.14+)')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable,
               PYTHONPATH=os.pathsep.join([HERE, REPO, os.environ.get('PYTHONPATH', '')]))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        big = write_annotations(osp.join(tmp, 'big'), args.samples, k400=False)['dense']
        small = write_annotations(osp.join(tmp, 'small'), 200, k400=False)['dense']
        print(f'{args.samples} samples written in {time.perf_counter() - start:.0f} s ({mib(osp.getsize(big))}); '
              f'{args.procs} processes x {args.workers} workers; load average {os.getloadavg()[0]:.1f}')

        configs, probes = {}, {}
        for name, ann in (('big', big), ('small', small)):
            probes[name] = osp.join(tmp, f'{name}.jsonl')
            configs[name] = osp.join(tmp, f'{name}_config.py')
            with open(configs[name], 'w') as f:
                f.write(CONFIG.format(workers=args.workers, ann_file=ann, epochs=args.epochs, probe=probes[name]))

        work = osp.join(tmp, 'work')
        seconds = run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), configs['big'], str(args.procs),
                       '--work-dir', work, '--seed', '0'], env)
        train = read_probe(probes['big'], 'train')
        annotation = train[0]['annotation']
        print(f'training: {seconds:.0f} s; annotation in memory (serialized, per rank) {mib(annotation)}')
        print(f'{"epoch":>5}{"rank":>6}{"total PSS":>12}{"rank":>10}{"workers":>10}')
        for r in sorted(train, key=lambda r: (r['epoch'], r['rank'])):
            print(f'{r["epoch"] + 1:>5}{r["rank"]:>6}{mib(r["total"]):>12}{mib(r["main"]):>10}'
                  f'{mib(r["workers"]):>10}')
        for rank in range(args.procs):
            mine = sorted((r for r in train if r['rank'] == rank), key=lambda r: r['epoch'])
            growth = mine[-1]['total'] - mine[0]['total']
            print(f'rank {rank}: epoch {mine[0]["epoch"] + 1} -> {mine[-1]["epoch"] + 1}: {growth / 2**20:+.0f} MiB '
                  f'({100 * growth / mine[0]["total"]:+.1f} %)')

        checkpoint = osp.join(work, f'epoch_{args.epochs}.pth')
        for name in ('big', 'small'):
            run(['bash', osp.join(REPO, 'tools', 'dist_test.sh'), configs[name], checkpoint, str(args.procs),
                 '--work-dir', osp.join(tmp, f'test_{name}')], env)
        tests = {name: {r['rank']: r for r in read_probe(probes[name], 'test')} for name in ('big', 'small')}
        for rank in range(args.procs):
            big_r, small_r = tests['big'][rank], tests['small'][rank]
            copies = (big_r['total'] - small_r['total']) / annotation
            print(f'testing, rank {rank}: PSS {mib(big_r["main"])} + workers {mib(big_r["workers"])} (200 samples: '
                  f'{mib(small_r["main"])} + {mib(small_r["workers"])}): the rank and its {args.workers} workers '
                  f'hold {copies:.2f} copies of the annotation')


if __name__ == '__main__':
    main()
