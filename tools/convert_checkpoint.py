"""Convert a checkpoint between MMAction2 1.x and PYSKL key names:
``python tools/convert_checkpoint.py IN OUT [--src auto|mmaction2|pyskl] [--dst pyskl|mmaction2] [--family FAMILY]
[--config CONFIG]``.

IN may be a flat state dict, an mmcv-1.x or an mmengine checkpoint; its layout is read from its keys unless
``--src`` names it, and OUT gets the other layout unless ``--dst`` names one. OUT is written atomically as
``{'state_dict': ..., 'meta': {...}}``. With ``--config`` (a pyskl config) the pyskl-side weights must fit the
config's model exactly: missing or unexpected keys and shape differences are refused, by name. PYSKL's own
checkpoints need no conversion: pyskl loads them as they are.
"""
import argparse
import os
import sys


def parse_args(argv=None):
    from pyskl.utils.cli import DefaultsHelpFormatter
    from pyskl.utils.convert import FAMILIES, LAYOUTS
    parser = argparse.ArgumentParser(description='Convert checkpoint keys between MMAction2 1.x and PYSKL',
                                     formatter_class=DefaultsHelpFormatter)
    parser.add_argument('input', help='checkpoint to convert')
    parser.add_argument('output', help='where to write the converted checkpoint')
    parser.add_argument('--src', choices=('auto', ) + LAYOUTS, default='auto',
                        help="key layout of the input; 'auto' reads it from the keys (the GCN head: PYSKL's "
                        "cls_head.fc_cls, MMAction2's cls_head.fc)")
    parser.add_argument('--dst', choices=LAYOUTS, default=None,
                        help='key layout of the output (default: the other one)')
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
    meta = converted['meta']
    detected = ' (read from its keys)' if args.src == 'auto' else ''
    checked = f', checked against {args.config}' if model is not None else ''
    print(f'{args.input} ({meta["converted_from"]}{detected}, {meta["family"]}) -> {args.output} ({meta["layout"]}): '
          f'{len(converted["state_dict"])} tensors{checked}')


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
