"""RGBPoseConv3D's initial checkpoint from a trained rgb_only and pose_only model (PYSKL's merge_pretrain.ipynb):
``python tools/merge_rgbpose_pretrain.py RGB_CKPT POSE_CKPT OUT [--config CONFIG] [--seed N]``.

The two single-stream models become the RGB and pose pathways and heads; the convs that read lateral features get
zero weights for them, and the laterals start from the model's initialisation (drawn with ``--seed``), so OUT loads
strictly into the config's model (its ``load_from``).
"""
import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(REPO, 'configs', 'rgbpose_conv3d', 'rgbpose_conv3d.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Merge rgb_only and pose_only checkpoints into RGBPoseConv3D')
    parser.add_argument('rgb_checkpoint', help='a trained configs/rgbpose_conv3d/rgb_only.py model')
    parser.add_argument('pose_checkpoint', help='a trained configs/rgbpose_conv3d/pose_only.py model')
    parser.add_argument('output', help='where to write the RGBPoseConv3D checkpoint')
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='the RGBPoseConv3D config (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the laterals\' initialisation')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch

    from pyskl.apis import init_recognizer
    from pyskl.models.recognizers.mm_recognizer3d import merge_stream_checkpoints
    from pyskl.utils import CheckpointError
    torch.manual_seed(args.seed)
    model = init_recognizer(args.config, device='cpu', fuse_bn=False)  # the model's own keys, BatchNorms included
    try:
        merged = merge_stream_checkpoints(args.rgb_checkpoint, args.pose_checkpoint, args.output, model)
    except (CheckpointError, FileNotFoundError) as e:
        sys.exit(f'merge_rgbpose_pretrain: {e}')
    print(f'{args.output}: {len(merged.state_dict)} tensors; zero-padded lateral inputs of {len(merged.padded)} '
          f'convs; {len(merged.initialised)} lateral tensors initialised (seed {args.seed})')
    return merged


if __name__ == '__main__':
    sys.path.insert(0, REPO)
    main()
