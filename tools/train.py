"""Train a recognizer: ``python tools/train.py CONFIG [options]`` (one process) or
``bash tools/dist_train.sh CONFIG N [options]`` (N processes; NCCL on GPUs, gloo on CPU)."""
import argparse
import os
import sys

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a skeleton action recognizer')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: the config\'s work_dir)')
    parser.add_argument('--validate', action='store_true', help='evaluate on the val split after every epoch')
    parser.add_argument('--test-best', action='store_true', help='after training, test the best checkpoint '
                        '(needs --validate); writes work_dir/best_pred.pkl')
    parser.add_argument('--test-last', action='store_true', help='after training, test the last weights; '
                        'writes work_dir/last_pred.pkl')
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
                        help='resume from CHECKPOINT, or with no value from the latest checkpoint in work_dir')
    parser.add_argument('--seed', type=int, default=None, help='random seed (default: random, shared by ranks)')
    parser.add_argument('--deterministic', action='store_true', help='deterministic cuDNN / torch algorithms')
    parser.add_argument('--compile', action='store_true', help='torch.compile the model (first steps are slow)')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (CUDA only)')
    lr = parser.add_mutually_exclusive_group()
    lr.add_argument('--no-scale-lr', dest='scale_lr', action='store_false',
                    help='keep the config\'s lr as written. By default the lr scales linearly with the total batch '
                    '(processes x batch_size) against the config\'s auto_scale_lr.base_batch_size, when it states one')
    lr.add_argument('--auto-scale-lr', dest='scale_lr', action='store_true',
                    help='the default now (kept so that PYSKL-style commands still run)')
    parser.set_defaults(scale_lr=True)
    parser.add_argument('--no-strict-load', dest='strict_load', action='store_false',
                        help='load a load_from / --resume checkpoint whose keys do not fit the model partially (e.g. '
                        'fine-tuning with another head); by default such a checkpoint is refused, listing the keys')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, key=value (e.g. train_dataloader.dataset.ann_file=X: the '
                        "config's top-level variables such as ann_file are copied into the parts when it is loaded)")
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default=None,
                        help='pytorch under torchrun (set by dist_train.sh), slurm under srun (slurm_train.sh), '
                        'none for one process')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from pyskl.utils.memory import keep_freed_memory
    keep_freed_memory()  # this process reuses its freed activations instead of page-faulting fresh ones each step
    from pyskl.apis.runner import train, train_config
    from pyskl.utils.dist import launched_by_torchrun
    launcher = args.launcher or ('pytorch' if launched_by_torchrun() else 'none')
    cfg = train_config(args.config, work_dir=args.work_dir, validate=args.validate, resume=args.resume,
                       seed=args.seed, deterministic=args.deterministic, cfg_options=args.cfg_options,
                       compile=args.compile, amp=args.amp, scale_lr=args.scale_lr, launcher=launcher,
                       strict_load=args.strict_load)
    train(cfg, test_best=args.test_best, test_last=args.test_last)


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from pyskl.utils.errors import run_tool
    sys.exit(run_tool(main))
