"""Accuracy arithmetic on plain arrays: ``scores`` ``[N, K]``, integer ``labels`` ``[N]``."""
from typing import List, Optional, Sequence

import numpy as np


def _as_arrays(scores, labels):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if scores.ndim != 2 or scores.shape[0] != labels.shape[0]:
        raise ValueError(f'scores must be [N, K] and labels [N]; got {scores.shape} and {labels.shape}')
    return scores, labels


def top_k_accuracy(scores, labels, topk: Sequence[int] = (1, )) -> List[float]:
    """Fraction of samples whose label is among the ``k`` highest scores, for each ``k``.

    Ties are broken towards the lower class index (a stable sort of the negated scores).
    """
    scores, labels = _as_arrays(scores, labels)
    if len(labels) == 0:
        raise ValueError('top_k_accuracy needs at least one sample')
    order = np.argsort(-scores, axis=1, kind='stable')
    rank = np.argmax(order == labels[:, None], axis=1)  # position of the true label in the ranking
    return [float(np.mean(rank < k)) for k in topk]


def confusion_matrix(pred, labels, num_classes: Optional[int] = None, normalize: Optional[str] = None) -> np.ndarray:
    """``cm[true, pred]`` counts; ``normalize`` in {None, 'true', 'pred', 'all'}."""
    pred = np.asarray(pred).astype(np.int64).reshape(-1)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if num_classes is None:
        num_classes = int(max(pred.max(initial=-1), labels.max(initial=-1))) + 1
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (labels, pred), 1)
    if normalize is None:
        return cm
    if normalize not in ('true', 'pred', 'all'):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    axis = {'true': 1, 'pred': 0, 'all': None}[normalize]
    total = cm.sum(axis=axis, keepdims=axis is not None).astype(np.float64)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.nan_to_num(cm / total)


def mean_class_accuracy(scores, labels) -> float:
    """Mean per-class recall over the classes present in ``labels``.

    PYSKL averaged over the union of predicted and true classes, so a class that is only ever predicted counted as
    0 % and dragged the mean down; here only classes that occur in the ground truth count.
    """
    scores, labels = _as_arrays(scores, labels)
    if len(labels) == 0:
        raise ValueError('mean_class_accuracy needs at least one sample')
    pred = scores.argmax(axis=1)
    classes = np.unique(labels)
    recalls = [np.mean(pred[labels == c] == c) for c in classes]
    return float(np.mean(recalls))
