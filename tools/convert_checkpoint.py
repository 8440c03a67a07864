"""Convert a checkpoint between MMAction2 1.x and PYSKL key names:
``python tools/convert_checkpoint.py IN OUT --src mmaction2 --dst pyskl [--family stgcn] [--config CONFIG]``.

IN may be a flat state dict, an mmcv-1.x or an mmengine checkpoint; OUT is written atomically as
``{'state_dict': ..., 'meta': {...}}``. With ``--config`` (a pyskl config) the pyskl-side weights must fit the
config's model exactly: missing or unexpected keys and shape differences are refused, by name.
"""
import argparse
import os
import sys


def parse_args(argv=None):
    from pyskl.utils.convert import FAMILIES, LAYOUTS
    parser = argparse.ArgumentParser(description='Convert checkpoint keys between MMAction2 1.x and PYSKL')
    parser.add_argument('input', help='checkpoint to convert')
    parser.add_argument('output', help='where to write the converted checkpoint')
    parser.add_argument('--src', choices=LAYOUTS, default='mmaction2', help='key layout of the input')
    parser.add_argument('--dst', choices=LAYOUTS, default='pyskl', help='key layout of the output')
    parser.add_argument('--family', choices=FAMILIES, default=None,
                        help='model family (default: detected from the keys)')
    parser.add_argument('--config', default=None,
                        help='a pyskl config: check the pyskl-side weights against its model and load them strictly')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from pyskl.utils import CheckpointError
    from pyskl.utils.convert import convert_checkpoint
    model = None
    if args.config:
        from pyskl.apis import init_recognizer
        model = init_recognizer(args.config, device='cpu', fuse_bn=False)
    try:
        converted = convert_checkpoint(args.input, args.output, src=args.src, dst=args.dst, family=args.family,
                                       model=model)
    except (CheckpointError, FileNotFoundError, ValueError) as e:
        sys.exit(f'convert_checkpoint: {e}')
    checked = f', checked against {args.config}' if model is not None else ''
    print(f'{args.input} ({args.src}) -> {args.output} ({args.dst}): {len(converted)} tensors{checked}')


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
