"""Inference speed of configs' recognizers, BatchNorms folded and not, in one run:
``python tools/analysis/bench_inference.py CONFIG [CONFIG ...] [--batch 16] [--frames 100] [--threads N]
[--warmup 3] [--repeats 10]``.

Times each recognizer's forward (one clip per sample, ``[batch, 1, M, T, V, C]`` random input, V and C from the
config, M=2) in inference mode, as built (unfused) and with ``pyskl.models.fuse_bn`` applied (fused, what
``init_recognizer`` gives by default). The two alternate repeat by repeat, so that a busy machine slows both alike;
samples/s come from the medians (and from the fastest runs, steadier on a busy machine). Also prints how many
BatchNorms the fold removed and the largest logit difference it makes.
"""
import argparse
import os
import statistics
import sys


def parse_args(argv=None):
    from pyskl.utils.cli import DefaultsHelpFormatter
    parser = argparse.ArgumentParser(description='Samples/s of skeleton recognizers in inference mode, BatchNorms '
                                     'folded and not', formatter_class=DefaultsHelpFormatter)
    parser.add_argument('configs', nargs='+', metavar='config', help='config file(s)')
    parser.add_argument('--batch', type=int, default=16, help='samples per forward')
    parser.add_argument('--frames', type=int, default=100, help='T of each clip')
    parser.add_argument('--persons', type=int, default=2, help='M of each clip')
    parser.add_argument('--threads', type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument('--warmup', type=int, default=3, help='untimed forwards of each first')
    parser.add_argument('--repeats', type=int, default=10, help='timed forwards of each (the median is reported)')
    parser.add_argument('--device', default=None, help='cpu or cuda[:i] (default: the first GPU, else the CPU)')
    return parser.parse_args(argv)


def bench(config, args):
    import copy

    import torch
    from pyskl.apis import init_recognizer
    from pyskl.models.fuse_bn import count_batchnorms, fuse_bn
    from pyskl.utils.analysis import alternate, cpu_times, gcn_input_shape, steal_share
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    model = init_recognizer(config, device=device, fuse_bn=False)
    fused = fuse_bn(copy.deepcopy(model))
    shape = gcn_input_shape(model, frames=args.frames, num_person=args.persons)
    inputs = torch.randn((args.batch, 1) + shape, device=device)
    sync = torch.cuda.synchronize if torch.device(device).type == 'cuda' else (lambda: None)

    def forward(recognizer):
        def run():
            with torch.inference_mode():
                out = recognizer(inputs, mode='tensor')
            sync()
            return out
        return run

    with torch.inference_mode():
        logits = model(inputs, mode='tensor')
        diff, scale = float((fused(inputs, mode='tensor') - logits).abs().max()), float(logits.abs().max())
    before = cpu_times()
    plain_times, fused_times = alternate([forward(model), forward(fused)], args.warmup, args.repeats)
    steal = steal_share(before, cpu_times())
    t_plain, t_fused = statistics.median(plain_times), statistics.median(fused_times)
    best_plain, best_fused = min(plain_times), min(fused_times)
    where = torch.cuda.get_device_name(device) if device.startswith('cuda') else \
        f'cpu, {torch.get_num_threads()} threads'
    M, T, V, C = shape
    print(f'config: {config}')
    print(f'input: [batch, clips, M, T, V, C] = [{args.batch}, 1, {M}, {T}, {V}, {C}] on {where}')
    print(f'samples/s: {args.batch / t_plain:.2f} unfused, {args.batch / t_fused:.2f} fused ({t_plain / t_fused:.2f}x; '
          f'medians of {args.repeats} repeats after {args.warmup} warm-up)')
    print(f'fastest run: {args.batch / best_plain:.2f} unfused, {args.batch / best_fused:.2f} fused '
          f'({best_plain / best_fused:.2f}x)' + (f'; CPU time stolen by the hypervisor: {steal:.1%}' if steal else ''))
    print(f'BatchNorms: {count_batchnorms(model)} -> {count_batchnorms(fused)}; max |logit difference| {diff:.1e} '
          f'(logits up to {scale:.3g})')
    return dict(samples_per_second=args.batch / t_plain, fused_samples_per_second=args.batch / t_fused,
                seconds=t_plain, fused_seconds=t_fused, max_diff=diff)


def main(argv=None):
    args = parse_args(argv)
    import torch
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    results = [bench(config, args) for config in args.configs]
    return results[0] if len(results) == 1 else results


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main()
