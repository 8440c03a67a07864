"""Inference speed of a config's recognizer:
``python tools/analysis/bench_inference.py CONFIG [--batch 16] [--frames 100] [--threads N] [--warmup 3]
[--repeats 10]``.

Times the recognizer's forward (one clip per sample, ``[batch, 1, M, T, V, C]`` random input, V and C from the
config, M=2) in inference mode and prints samples/s from the median of the repeats after warm-up.
"""
import argparse
import os
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Samples/s of a skeleton recognizer in inference mode')
    parser.add_argument('config', help='config file')
    parser.add_argument('--batch', type=int, default=16, help='samples per forward')
    parser.add_argument('--frames', type=int, default=100, help='T of each clip')
    parser.add_argument('--persons', type=int, default=2, help='M of each clip')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch\'s)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed forwards first')
    parser.add_argument('--repeats', type=int, default=10, help='timed forwards (the median is reported)')
    parser.add_argument('--device', default=None, help='cpu or cuda[:i] (default: the first GPU, else the CPU)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch
    from pyskl.apis import init_recognizer
    from pyskl.utils.analysis import gcn_input_shape, inference_samples_per_second
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    model = init_recognizer(args.config, device=args.device)
    shape = gcn_input_shape(model, frames=args.frames, num_person=args.persons)
    speed, seconds = inference_samples_per_second(model, shape, args.batch, args.warmup, args.repeats)
    device = next(model.parameters()).device
    where = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'cpu, {torch.get_num_threads()} threads'
    M, T, V, C = shape
    print(f'config: {args.config}')
    print(f'input: [batch, clips, M, T, V, C] = [{args.batch}, 1, {M}, {T}, {V}, {C}] on {where}')
    print(f'samples/s: {speed:.2f} (median {seconds * 1000:.1f} ms per batch over {args.repeats} repeats after '
          f'{args.warmup} warm-up)')
    return dict(samples_per_second=speed, seconds=seconds)


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main()
