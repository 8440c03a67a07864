"""Export a recognizer to ONNX and check it with onnxruntime:
``python tools/deployment/export_onnx.py CONFIG CHECKPOINT OUT.onnx [--clips N] [--shape ...] [--simplify]
[--legacy]``.

The graph takes ``inputs`` ``[N, clips, M, T, V, C]`` for a GCN (N dynamic; clips, M and T as the config's test
pipeline makes them, V and C from the model), ``[N, views, C, T, H, W]`` for a PoseC3D 3D CNN (``--shape`` sets one
sample's shape), and returns ``scores`` ``[N, num_classes]``, the clips combined as the config's
``test_cfg.average_clips`` says: what ``tools/test.py --out`` and ``pyskl.apis.inference_recognizer`` give for the
same sample. BatchNorms are folded into the convs first (``--no-fuse-bn`` keeps them). After writing, onnxruntime
and PyTorch run the same random batch and must agree within ``--atol``. Needs ``pip install -e ".[onnx]"``.
"""
import argparse
import os
import sys


def parse_args(argv=None):
    from pyskl.utils.cli import DefaultsHelpFormatter
    parser = argparse.ArgumentParser(description='Export a skeleton recognizer to ONNX, checked with onnxruntime',
                                     formatter_class=DefaultsHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint (flat state dict, mmcv-1.x or mmengine)')
    parser.add_argument('out', help='the .onnx file to write')
    parser.add_argument('--clips', type=int, default=None,
                        help="clips per sample (default: the test pipeline's num_clips)")
    parser.add_argument('--shape', type=int, nargs='+', default=None, metavar='N',
                        help='one sample\'s input shape instead of the test pipeline\'s: clips M T V C for a GCN, '
                        'views C T H W for a 3D CNN')
    parser.add_argument('--simplify', action='store_true', help='run onnx-simplifier (pip install onnxsim)')
    parser.add_argument('--legacy', action='store_true',
                        help="torch's TorchScript-based exporter instead of the torch.export-based one (faster to "
                        'export, deprecated by torch; cannot export MS-G3D with a dynamic batch nor the 3D CNNs)')
    parser.add_argument('--opset', type=int, default=None, help="ONNX opset (default: the exporter's)")
    parser.add_argument('--no-fuse-bn', action='store_true', help='keep the BatchNorms as separate nodes')
    parser.add_argument('--atol', type=float, default=1e-4, help='largest onnxruntime - PyTorch difference allowed')
    parser.add_argument('--no-check', action='store_true', help='skip the onnxruntime check')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from pyskl.apis import init_recognizer
    from pyskl.apis.export import check_onnx, export_onnx, onnx_session, sample_input_shape
    model = init_recognizer(args.config, args.checkpoint, device='cpu', fuse_bn=not args.no_fuse_bn)
    shape = tuple(args.shape) if args.shape else sample_input_shape(model, args.clips)
    data = export_onnx(model, args.out, shape, opset=args.opset, legacy=args.legacy, simplify=args.simplify)
    print(f'wrote {args.out} ({len(data) / 2**20:.1f} MB): inputs [N, {", ".join(map(str, shape))}] '
          f'-> scores [N, {model.cls_head.num_classes}], N dynamic')
    diff = None
    if not args.no_check:
        diff = check_onnx(model, onnx_session(data), shape, atol=args.atol)
        print(f'onnxruntime matches PyTorch: max |difference| {diff:.2e} (<= {args.atol})')
    return dict(shape=shape, max_diff=diff)


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main()
