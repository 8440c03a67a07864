"""Samples/s of every GCN backbone (+ head) at PYSKL's NTU-60 3D joint configuration.

Forward in inference mode and forward+backward in train mode, batch 16, T=100, M=2, V=25, C=3, median of repeats
after warm-up. Run: ``python benchmarks/bench_models.py [--threads 2] [--models STGCN STGCN++ ...] [--profile 15]``.
"""
import argparse

import torch

from pyskl.models.blocks.spectral import use_dft
from pyskl.registry import MODELS
from pyskl.utils import register_all_modules
from pyskl.utils.analysis import cpu_times, median_seconds, steal_share
from pyskl.utils.memory import keep_freed_memory

NTU = dict(layout='nturgb+d', mode='spatial')
MODEL_ZOO = {
    'STGCN': dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial')),
    'STGCN++': dict(type='STGCN', gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn', graph_cfg=NTU),
    'AAGCN': dict(type='AAGCN', graph_cfg=NTU),
    'CTRGCN': dict(type='CTRGCN', graph_cfg=NTU),
    'MSG3D': dict(type='MSG3D', graph_cfg=dict(layout='nturgb+d', mode='binary_adj')),
    'DGSTGCN': dict(type='DGSTGCN', gcn_ratio=0.125, gcn_ctr='T', gcn_ada='T',
                    tcn_ms_cfg=[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'],
                    graph_cfg=dict(layout='nturgb+d', mode='random', num_filter=8, init_off=.04, init_std=.02)),
}
HEAD_CHANNELS = {'MSG3D': 384}
# fwd+bwd samples/s targets on a 2-core machine (issue 4); DG-STGCN has none
TRAIN_TARGETS = {'STGCN': 4.0, 'STGCN++': 3.5, 'AAGCN': 3.8, 'CTRGCN': 4.6, 'MSG3D': 0.8}


def build(name):
    backbone = MODEL_ZOO[name]
    head = dict(type='GCNHead', num_classes=60, in_channels=HEAD_CHANNELS.get(name, 256))
    return MODELS.build(dict(type='RecognizerGCN', backbone=backbone, cls_head=head))


def step_functions(model, batch, frames):
    """``(forward, train_step)`` of ``model.cls_head(model.backbone(x))`` on one random batch: the forward in
    inference mode, the train step a cross-entropy forward+backward that clears the gradients after itself."""
    x = torch.randn(batch, 2, frames, 25, 3)
    labels = torch.randint(0, 60, (batch, ))

    def forward():
        with torch.inference_mode():
            model.cls_head(model.backbone(x))

    def train_step():
        loss = torch.nn.functional.cross_entropy(model.cls_head(model.backbone(x)), labels)
        loss.backward()
        model.zero_grad(set_to_none=True)

    return forward, train_step


def time_model(model, batch, frames, warmup, repeats, profile_rows=0, label=''):
    """Samples/s of ``model.cls_head(model.backbone(x))``: forward in inference mode, forward+backward in train
    mode."""
    forward, train_step = step_functions(model, batch, frames)
    model.eval()
    t_fwd = median_seconds(forward, warmup, repeats)[0]
    model.train()
    t_train = median_seconds(train_step, warmup, repeats)[0]
    if profile_rows:  # where a train step's time goes, by operator
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            train_step()
        print(f'{label or type(model.backbone).__name__}: one train step by operator\n'
              f'{prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=profile_rows)}')
    return batch / t_fwd, batch / t_train


def bench(name, batch, frames, warmup, repeats, profile_rows=0):
    before = cpu_times()
    fwd, train = time_model(build(name), batch, frames, warmup, repeats, profile_rows, name)
    return fwd, train, steal_share(before, cpu_times())


def add_setting_args(parser, repeats=5):
    """The benchmarks' shared setting: threads, batch, frames, warm-up and repeats (PYSKL's NTU-60 defaults)."""
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--frames', type=int, default=100)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', default=list(MODEL_ZOO))
    add_setting_args(parser)
    parser.add_argument('--profile', type=int, default=0, metavar='ROWS',
                        help='also print the ROWS most expensive operators of one train step (torch.profiler)')
    parser.add_argument('--no-keep-memory', action='store_true',
                        help="leave glibc's malloc as it is (see pyskl.utils.memory; tools/train.py tunes it)")
    parser.add_argument('--dft', choices=['auto', 'never', 'always'], default='auto',
                        help="temporal convs through the DFT over time: 'auto' where cheaper (the default), 'never' "
                        '(F.conv2d only, for comparison); see pyskl.models.blocks.spectral')
    args = parser.parse_args()
    kept = not args.no_keep_memory and keep_freed_memory()
    torch.set_num_threads(args.threads)
    register_all_modules()
    print(f'torch {torch.__version__}, {args.threads} threads, batch {args.batch}, T={args.frames}, M=2, V=25, C=3, '
          f'freed memory kept: {kept}, DFT temporal convs: {args.dft}')
    # steal: CPU time the hypervisor took while the model was timed (a shared VM's figures drop with it)
    print(f'{"model":10s} {"fwd samples/s":>14s} {"fwd+bwd samples/s":>18s} {"target":>7s} {"ratio":>6s} {"steal":>6s}')
    for name in args.models:
        try:
            with use_dft(args.dft):
                fwd, train, steal = bench(name, args.batch, args.frames, args.warmup, args.repeats, args.profile)
        except KeyError as e:
            print(f'{name:10s} not available: {e}')
            continue
        target = TRAIN_TARGETS.get(name)
        versus = f'{target:7.1f} {train / target:5.2f}x' if target else f'{"-":>7s} {"-":>6s}'
        stolen = f'{steal:6.1%}' if steal is not None else f'{"-":>6s}'
        print(f'{name:10s} {fwd:14.2f} {train:18.2f} {versus} {stolen}')


if __name__ == '__main__':
    main()
