"""PyTorch against onnxruntime on one GCN recognizer, in one run:
``python tools/deployment/bench_onnx.py CONFIG [--checkpoint CKPT] [--onnx MODEL.onnx] [--batch 16] [--frames 100]
[--persons 2] [--clips 1] [--threads 2] [--warmup 2] [--repeats 5]``.

Exports the config's model (BatchNorms folded; random weights without ``--checkpoint``) for inputs
``[N, clips, M, T, V, C]`` unless ``--onnx`` names an export, checks that onnxruntime gives PyTorch's scores, then
times both on the same random batch, alternating them so that a busy machine slows both alike, and prints
samples/s from the medians and the fastest runs. Needs ``pip install -e ".[onnx]"``.
"""
import argparse
import os
import statistics
import sys
import tempfile


def parse_args(argv=None):
    from pyskl.utils.cli import DefaultsHelpFormatter
    parser = argparse.ArgumentParser(description='Samples/s of PyTorch and onnxruntime on one recognizer',
                                     formatter_class=DefaultsHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('--checkpoint', help='weights (default: the random initial ones)')
    parser.add_argument('--onnx', help='an exported model of this config (default: export one to a temp file)')
    parser.add_argument('--batch', type=int, default=16, help='samples per forward')
    parser.add_argument('--frames', type=int, default=100, help='T of each clip')
    parser.add_argument('--persons', type=int, default=2, help='M of each clip')
    parser.add_argument('--clips', type=int, default=1, help='clips per sample')
    parser.add_argument('--threads', type=int, default=2, help='CPU threads of both runtimes')
    parser.add_argument('--warmup', type=int, default=2, help='untimed runs of each first')
    parser.add_argument('--repeats', type=int, default=5, help='timed runs of each (the median is reported)')
    parser.add_argument('--legacy', action='store_true', help="torch's TorchScript-based exporter")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch
    from pyskl.apis import init_recognizer
    from pyskl.apis.export import RecognizerScores, check_onnx, export_onnx, onnx_session
    from pyskl.utils.analysis import alternate, gcn_input_shape
    torch.set_num_threads(args.threads)
    model = init_recognizer(args.config, args.checkpoint, device='cpu')
    shape = (args.clips, ) + gcn_input_shape(model, frames=args.frames, num_person=args.persons)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_file = args.onnx or os.path.join(tmp, 'model.onnx')
        if not args.onnx:
            export_onnx(model, onnx_file, shape, legacy=args.legacy)
        session = onnx_session(onnx_file, threads=args.threads)
    diff = check_onnx(model, session, shape, batch=2)
    inputs = torch.randn((args.batch, ) + shape)
    scores = RecognizerScores(model).eval()

    def pytorch():
        with torch.inference_mode():
            scores(inputs)

    def onnxruntime():
        session.run(None, {'inputs': inputs.numpy()})

    torch_times, ort_times = alternate([pytorch, onnxruntime], args.warmup, args.repeats)
    t_torch, t_ort = statistics.median(torch_times), statistics.median(ort_times)
    print(f'config: {args.config}')
    print(f'input: [N, clips, M, T, V, C] = [{args.batch}, {", ".join(map(str, shape))}], {args.threads} threads, '
          f'onnxruntime - PyTorch max |difference| {diff:.1e}')
    print(f'PyTorch samples/s: {args.batch / t_torch:.2f} (fastest run {args.batch / min(torch_times):.2f})')
    print(f'onnxruntime samples/s: {args.batch / t_ort:.2f} ({t_torch / t_ort:.2f}x PyTorch; fastest run '
          f'{args.batch / min(ort_times):.2f}, {min(torch_times) / min(ort_times):.2f}x)')
    return dict(pytorch=args.batch / t_torch, onnxruntime=args.batch / t_ort, max_diff=diff)


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main()
