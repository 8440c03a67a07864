"""Training curves from a work dir's scalar log (``tools/analysis/plot_curves.py``).

mmengine's ``LocalVisBackend`` (the Runner's default) writes ``<work_dir>/<timestamp>/vis_data/scalars.json``, one JSON
object a line: training lines carry ``epoch``, ``iter``, ``lr``, ``loss`` (averaged over the logger's interval) and
the batch accuracies; validation lines carry the val metrics (``top1_acc``, ``top5_acc``, ``mean_class_accuracy``,
...) with ``step`` = the epoch. A resumed run starts a new timestamp folder and goes on counting; the folders are
read in order and a later record of an epoch replaces an earlier one.
"""
import glob
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional

from .fileio import atomic_write

VAL_TIMING_KEYS = ('data_time', 'time', 'step')


def scalar_logs(work_dir: str) -> List[str]:
    """The work dir's ``<timestamp>/vis_data/scalars.json`` files, oldest first."""
    found = sorted(glob.glob(osp.join(glob.escape(work_dir), '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(f'{work_dir} has no <timestamp>/vis_data/scalars.json: is it the work_dir of a '
                                'training run (mmengine writes the file as training logs)?')
    return found


def read_curves(work_dir: str) -> Dict[str, Dict[int, float]]:
    """Per-epoch curves: ``loss`` (the mean of the epoch's logged losses), ``lr`` (the last logged in the epoch) and
    every validation metric (``val/<name>``), each ``{epoch: value}``."""
    losses, lrs, val = defaultdict(dict), {}, defaultdict(dict)
    for path in scalar_logs(work_dir):
        seen_loss_epochs = set()
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f'{path}, line {number}: not JSON ({e})') from e
                if 'iter' in record and 'epoch' in record:  # a training record
                    epoch = int(record['epoch'])
                    if 'loss' in record:
                        if epoch not in seen_loss_epochs:  # this run logs the epoch again: its records replace
                            losses[epoch] = {}
                            seen_loss_epochs.add(epoch)
                        losses[epoch][int(record['iter'])] = float(record['loss'])
                    if 'lr' in record:
                        lrs[epoch] = float(record['lr'])
                elif 'step' in record:  # a validation record, step = epoch
                    for key, value in record.items():
                        if key not in VAL_TIMING_KEYS and isinstance(value, (int, float)):
                            val[f'val/{key}'][int(record['step'])] = float(value)
    curves = dict(loss={e: sum(v.values()) / len(v) for e, v in sorted(losses.items()) if v},
                  lr=dict(sorted(lrs.items())))
    curves.update((key, dict(sorted(values.items()))) for key, values in sorted(val.items()))
    return curves


def plot_curves(curves: Dict[str, Dict[int, float]], out_file: str, title: Optional[str] = None) -> None:
    """Loss, learning rate and validation metrics against the epoch, three panels, as a PNG (written atomically)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    metrics = [key for key in curves if key.startswith('val/') and curves[key]]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    panels = ((axes[0], ['loss'], 'training loss (epoch mean)'), (axes[1], ['lr'], 'learning rate (epoch end)'),
              (axes[2], metrics, 'validation'))
    for ax, keys, label in panels:
        for key in keys:
            epochs, values = list(curves[key]), list(curves[key].values())
            ax.plot(epochs, values, marker='o', markersize=3, label=key.replace('val/', ''))
        if not any(curves.get(key) for key in keys):
            ax.text(0.5, 0.5, 'not logged' + (' (train with --validate)' if ax is axes[2] else ''),
                    ha='center', va='center', transform=ax.transAxes)
        ax.set_xlabel('epoch')
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(label)
        ax.grid(alpha=0.3)
        if len(keys) > 1:
            ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_write(out_file, 'wb') as f:
        fig.savefig(f, format='png', dpi=100)
    plt.close(fig)


__all__ = ['scalar_logs', 'read_curves', 'plot_curves']
