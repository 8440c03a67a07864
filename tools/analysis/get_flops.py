"""Parameters and FLOPs of a config's model:
``python tools/analysis/get_flops.py CONFIG [--shape T V C M] [--clips 1]``.

The input is ``[clips, M, T, V, C]`` (one sample); by default V comes from the config's graph layout, C from the
backbone's ``in_channels``, T=100 and M=2. FLOPs follow fvcore's convention (one multiply-add = one FLOP), via
``mmengine.analysis``.
"""
import argparse
import os
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Parameters and FLOPs of a skeleton recognizer')
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', nargs=4, type=int, metavar=('T', 'V', 'C', 'M'), default=None,
                        help='input frames, joints, channels, persons (default: 100, the graph, in_channels, 2)')
    parser.add_argument('--clips', type=int, default=1, help='clips per sample (FLOPs scale with it)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from pyskl.apis import init_recognizer
    from pyskl.utils.analysis import count_flops, gcn_input_shape, parameter_counts
    model = init_recognizer(args.config, device='cpu', fuse_bn=False)
    if args.shape is None:
        shape = gcn_input_shape(model)
    else:
        T, V, C, M = args.shape
        shape = (M, T, V, C)
    params = parameter_counts(model)
    flops = count_flops(model, shape, args.clips)
    M, T, V, C = shape
    print(f'config: {args.config}')
    print(f'input: [clips, M, T, V, C] = [{args.clips}, {M}, {T}, {V}, {C}]')
    print(f"params: total {params['total']:,} (backbone {params['backbone']:,}, head {params['head']:,})")
    print(f'GFLOPs: {flops / 1e9:.4f} ({flops:,} FLOPs per sample; one multiply-add = one FLOP)')
    return dict(params=params, flops=flops, shape=shape)


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main()
