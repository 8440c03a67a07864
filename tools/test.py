"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]`` (one process) or
``bash tools/dist_test.sh CONFIG CHECKPOINT N [options]`` (N processes; NCCL on GPUs, gloo on CPU)."""
import argparse
import os
import sys

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a skeleton action recognizer')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (flat state_dict, mmcv-1.x or mmengine checkpoint)')
    parser.add_argument('--out', help='write the per-sample scores (PYSKL format: a list of score vectors in '
                        'dataset order) to this .pkl; a confusion-matrix picture goes beside it')
    parser.add_argument('--eval', nargs='+', default=['top_k_accuracy', 'mean_class_accuracy'],
                        help='metrics: top_k_accuracy, mean_class_accuracy')
    parser.add_argument('--average-clips', choices=['score', 'prob', 'None'], default=None,
                        help='how the clips of a sample are combined (default: the config\'s, else prob)')
    parser.add_argument('--work-dir', help='where logs go (default: the config\'s work_dir)')
    parser.add_argument('--compile', action='store_true', help='torch.compile the model')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, key=value (e.g. test_dataloader.dataset.ann_file=X: the '
                        "config's top-level variables such as ann_file are copied into the parts when it is loaded)")
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default=None,
                        help='pytorch under torchrun (set by dist_test.sh), slurm under srun (slurm_test.sh), '
                        'none for one process')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from pyskl.utils.memory import keep_freed_memory
    keep_freed_memory()  # this process reuses its freed activations instead of page-faulting fresh ones each step
    from pyskl.apis.runner import format_metrics, is_main_process, test, test_config
    from pyskl.utils.dist import launched_by_torchrun
    launcher = args.launcher or ('pytorch' if launched_by_torchrun() else 'none')
    cfg = test_config(args.config, out=args.out, metrics=args.eval, average_clips=args.average_clips,
                      work_dir=args.work_dir, cfg_options=args.cfg_options, compile=args.compile, launcher=launcher)
    metrics = test(cfg, args.checkpoint)
    if is_main_process():
        print('\n'.join(format_metrics(metrics)))
        if args.out:
            print(f'scores written to {args.out}')
    return metrics


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from pyskl.utils.errors import run_tool
    sys.exit(run_tool(main))
