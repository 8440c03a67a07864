"""mmengine metrics reporting PYSKL's accuracy keys (``top1_acc``, ``top5_acc``, ``mean_class_accuracy``)."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from pyskl.registry import METRICS
from pyskl.utils import atomic_write, dump_pickle
from .functional import confusion_matrix, mean_class_accuracy, top_k_accuracy

# The names ``tools/test.py --eval`` accepts.
KNOWN_METRICS = ('top_k_accuracy', 'mean_class_accuracy')
# PYSKL's RGBPose score mixes (rgb weight, pose weight), reported as ``RGBPose_{name}_{metric}``
RGBPOSE_MIXES = {'1:1': (1, 1), '2:1': (2, 1), '1:2': (1, 2)}


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def check_sample_indices(indices: np.ndarray) -> None:
    """Every index ``0 .. N-1`` exactly once, or an error that says which are repeated or missing."""
    counts = np.bincount(indices, minlength=len(indices)) if len(indices) else np.zeros(0, dtype=np.int64)
    repeated = np.flatnonzero(counts > 1)
    missing = np.flatnonzero(counts[:len(indices)] == 0)
    if len(repeated) or len(missing):
        raise ValueError(f'each test sample must be scored exactly once, but of {len(indices)} results sample_idx '
                         f'{repeated[:10].tolist()} appear more than once and {missing[:10].tolist()} are missing '
                         '(first 10 each)')


def save_confusion_matrix(counts: np.ndarray, filename: str, classes: Optional[Sequence[str]] = None) -> None:
    """Plot the row-normalised ``counts`` (``[true, pred]``) as a PNG and keep the raw counts as ``.npy`` beside it.

    Both files are written atomically. Tick labels shrink with the class count so 60-120 classes stay legible.
    """
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt

    num_classes = len(counts)
    with np.errstate(invalid='ignore', divide='ignore'):
        recall = np.nan_to_num(counts / counts.sum(axis=1, keepdims=True))
    if classes is not None and len(classes) == num_classes:
        names = list(classes)
    else:
        names = [str(i) for i in range(num_classes)]
    small = num_classes <= 30
    # 0.12 in per class at 100 dpi gives 120 classes 17 px rows for 6 pt (8 px) labels; bigger images only cost
    # rendering time (seconds for 120 classes).
    side = min(6.0 + 0.12 * num_classes, 40.0)
    font, dpi = (9, 150) if small else (6, 100)
    fig, ax = plt.subplots(figsize=(side, side))
    image = ax.imshow(recall, cmap='Blues', vmin=0, vmax=1, interpolation='none')
    ax.set_xticks(range(num_classes))
    ax.set_yticks(range(num_classes))
    ax.set_xticklabels(names, rotation=90, fontsize=font)
    ax.set_yticklabels(names, fontsize=font)
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    ax.set_title('Confusion matrix (each row normalised to 1)')
    if small:  # cell values are only readable for small matrices
        for true, pred in zip(*np.nonzero(counts)):
            ax.text(pred, true, f'{recall[true, pred]:.2f}', ha='center', va='center', fontsize=font,
                    color='white' if recall[true, pred] > 0.5 else 'black')
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    try:
        with atomic_write(filename, 'wb') as f:
            fig.savefig(f, format='png', dpi=dpi)
    finally:
        plt.close(fig)
    with atomic_write(osp.splitext(filename)[0] + '.npy', 'wb') as f:
        np.save(f, counts)


def _stack_streams(per_sample: List) -> Dict[str, np.ndarray]:
    """``[N, K]`` scores of each stream from the samples' ``{stream: [K]}``; every sample must have the same
    streams."""
    names = list(per_sample[0]) if isinstance(per_sample[0], dict) else []
    if any(not isinstance(s, dict) or list(s) != names for s in per_sample):
        raise ValueError(f'the samples do not all carry scores of the same streams {names} (pred_scores)')
    return {name: np.stack([s[name] for s in per_sample]) for name in names}


@METRICS.register_module()
class AccMetric(BaseMetric):
    """Top-k accuracy and mean class accuracy over the whole test set, in dataset order.

    A model that scores several streams (RGBPose: ``pred_scores = dict(rgb=..., pose=...)`` on each sample) gets the
    keys of each stream prefixed by its name (``rgb_top1_acc``, ...) and, for ``rgb`` + ``pose``, PYSKL's score
    mixes ``RGBPose_1:1_top1_acc``, ``RGBPose_2:1_...`` and ``RGBPose_1:2_...`` (``2:1`` = 2 x rgb + pose), as
    PYSKL's ``BaseDataset.evaluate`` names them.

    Args:
        metric_list (str | sequence[str]): Any of ``'top_k_accuracy'`` and ``'mean_class_accuracy'`` (the names
            ``tools/test.py --eval`` takes). Not called ``metrics``: mmengine's Runner reads an evaluator dict with a
            ``metrics`` key as an ``Evaluator`` config.
        topk (int | sequence[int]): The ``k`` of each ``top{k}_acc`` key.
        out_file (str, optional): Write PYSKL's ``--out`` pickle here: a list with one float score vector per
            sample (a dict of them per stream for several streams), in dataset order.
        confusion_matrix (str, optional): PNG path for a plot of the row-normalised confusion matrix (of the
            streams' sum for several streams: RGBPose's 1:1 mix); the raw counts are saved beside it as ``.npy``.
        classes (sequence[str], optional): Class names for the plot; defaults to the dataset's ``classes``.
        collect_device (str): Where results are gathered across ranks (``'cpu'`` or ``'gpu'``).
        prefix (str, optional): Prefix of the reported keys; none by default, to keep PYSKL's names.
    """
    default_prefix = ''  # PYSKL's keys carry no prefix ('' also silences BaseMetric's warning about a missing one)

    def __init__(self,
                 metric_list: Union[str, Sequence[str]] = ('top_k_accuracy', 'mean_class_accuracy'),
                 topk: Union[int, Sequence[int]] = (1, 5),
                 out_file: Optional[str] = None,
                 confusion_matrix: Optional[str] = None,
                 classes: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.metric_list = self._check_metrics(metric_list)
        self.topk = self._check_topk(topk)
        self.out_file = out_file
        self.confusion_matrix = confusion_matrix
        self.classes = list(classes) if classes is not None else None

    @staticmethod
    def _check_metrics(metrics) -> List[str]:
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = [m for m in metrics if m not in KNOWN_METRICS]
        if unknown:
            raise KeyError(f'unknown metric(s) {unknown}; known metrics: {list(KNOWN_METRICS)}')
        return metrics

    @staticmethod
    def _check_topk(topk) -> tuple:
        topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not topk or not all(isinstance(k, int) and k >= 1 for k in topk):
            raise ValueError(f'topk must be a positive int or a sequence of them, got {topk}')
        return topk

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Keep each sample's ``sample_idx``, score vector and label.

        Samples arrive as ``ActionDataSample`` or (through mmengine's ``Evaluator``) as its ``to_dict()``, where
        metainfo and data fields share one namespace; ``get`` reads both.
        """
        for sample in data_samples:
            sample_idx = sample.get('sample_idx')
            if sample_idx is None:
                raise KeyError('a data sample has no sample_idx in its metainfo; AccMetric needs it to put results '
                               'in dataset order (PackActionInputs keeps it by default)')
            label = _to_numpy(sample.get('gt_label')).reshape(-1)
            if label.size != 1:
                raise ValueError(f'sample_idx {sample_idx}: gt_label must hold one class index, got {label}')
            streams = sample.get('pred_scores')
            if streams is not None:
                score = {name: _to_numpy(value).astype(np.float32).reshape(-1) for name, value in streams.items()}
            else:
                score = _to_numpy(sample.get('pred_score')).astype(np.float32).reshape(-1)
            self.results.append(dict(sample_idx=int(sample_idx), pred_score=score, gt_label=int(label[0])))

    def _accuracies(self, scores: np.ndarray, labels: np.ndarray) -> Dict[str, float]:
        metrics = {}
        if 'top_k_accuracy' in self.metric_list:
            for k, acc in zip(self.topk, top_k_accuracy(scores, labels, self.topk)):
                metrics[f'top{k}_acc'] = acc
        if 'mean_class_accuracy' in self.metric_list:
            metrics['mean_class_accuracy'] = mean_class_accuracy(scores, labels)
        return metrics

    def _stream_accuracies(self, streams: Dict[str, np.ndarray], labels: np.ndarray) -> Dict[str, float]:
        """Each stream's keys prefixed by its name, then PYSKL's RGBPose mixes."""
        metrics = {}
        for name, scores in streams.items():
            metrics.update({f'{name}_{k}': v for k, v in self._accuracies(scores, labels).items()})
        if set(streams) == {'rgb', 'pose'}:
            for mix, (rgb, pose) in RGBPOSE_MIXES.items():
                fused = rgb * streams['rgb'] + pose * streams['pose']
                metrics.update({f'RGBPose_{mix}_{k}': v for k, v in self._accuracies(fused, labels).items()})
        return metrics

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Sort by ``sample_idx`` and compute PYSKL's keys; write ``out_file`` / the confusion matrix if asked."""
        if not results:
            raise ValueError('AccMetric received no results to evaluate')
        results = sorted(results, key=lambda r: r['sample_idx'])
        check_sample_indices(np.array([r['sample_idx'] for r in results], dtype=np.int64))
        labels = np.array([r['gt_label'] for r in results], dtype=np.int64)
        if any(isinstance(r['pred_score'], dict) for r in results):
            streams = _stack_streams([r['pred_score'] for r in results])
            metrics = self._stream_accuracies(streams, labels)
            scores = sum(streams.values())
            dumped = [{name: s[i] for name, s in streams.items()} for i in range(len(labels))]
        else:
            scores = np.stack([r['pred_score'] for r in results])
            metrics = self._accuracies(scores, labels)
            dumped = list(scores)

        if self.out_file:
            dump_pickle(dumped, self.out_file)
        if self.confusion_matrix:
            classes = self.classes or (self.dataset_meta or {}).get('classes')
            num_classes = max(scores.shape[1], int(labels.max()) + 1, len(classes) if classes else 0)
            counts = confusion_matrix(scores.argmax(axis=1), labels, num_classes=num_classes)
            save_confusion_matrix(counts, self.confusion_matrix, classes)
        return metrics


__all__ = ['AccMetric', 'KNOWN_METRICS', 'RGBPOSE_MIXES', 'check_sample_indices', 'save_confusion_matrix']
