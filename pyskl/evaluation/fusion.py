"""Late fusion of separately trained streams (joint, bone, joint motion, bone motion), as PYSKL's READMEs report it.

PYSKL shipped no ensemble script; its READMEs fuse the ``tools/test.py --out`` pickles (one score vector per test
sample, in split order) by a weighted sum, then argmax: 2s = J:B 1:1, 4s = J:B:JM:BM 2:2:1:1. Two modes:

* ``'prob'`` (default): the vectors are the clips' averaged softmax probabilities (``average_clips='prob'``, the
  test default) and are fused as ``sum_s w_s * p_s``. Each row is checked to be a probability vector.
* ``'score'``: the vectors are logits (``--average-clips score``) and are fused as they are, ``sum_s w_s * z_s``.
  Logits are unbounded and their scale differs between models, so a stream with larger logits counts for more
  than its weight says; the same weights do not mean the same thing in the two modes.
"""
import itertools
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from pyskl.utils.errors import InputNotFoundError, UserError
from .functional import mean_class_accuracy, top_k_accuracy

MODES = ('prob', 'score')
DEFAULT_GRID = (0, 1, 2, 3)
PROB_ATOL = 1e-3


class FusionError(UserError, ValueError):
    """Score files that cannot be fused (or scored against the split), with the files named."""


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles lists of numpy arrays and nothing else: a score file is data, never code. (``_codecs.encode``
    rebuilds the array bytes of protocol 2, which PYSKL's ``mmcv.dump`` wrote.)"""

    ALLOWED = {('_codecs', 'encode'), ('numpy', 'ndarray'), ('numpy', 'dtype')} | {
        (f'numpy.{core}.{module}', name) for core in ('core', '_core')
        for module, name in (('multiarray', '_reconstruct'), ('multiarray', 'scalar'), ('numeric', '_frombuffer'))}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED or (module.startswith('numpy') and name.endswith('DType')):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'{module}.{name} is not allowed in a score file')


def load_scores(filename: str) -> np.ndarray:
    """``[N, K]`` float64 scores from a ``tools/test.py --out`` pickle (a list of ``[K]`` vectors, or one array)."""
    if not osp.isfile(filename):
        raise InputNotFoundError(f'score file {filename} does not exist')
    try:
        with open(filename, 'rb') as f:
            content = _ArrayUnpickler(f).load()
    except Exception as e:  # noqa: BLE001 - re-raised with the file named
        raise FusionError(f'{filename} is not a score pickle written by tools/test.py --out: '
                          f'{type(e).__name__}: {e}') from e
    try:
        scores = np.stack([np.asarray(s, dtype=np.float64).reshape(-1) for s in content]) \
            if isinstance(content, (list, tuple)) else np.asarray(content, dtype=np.float64)
    except (ValueError, TypeError) as e:
        raise FusionError(f'{filename}: the score vectors do not form an [N, K] array ({e})') from e
    if scores.ndim != 2 or scores.shape[0] == 0:
        raise FusionError(f'{filename}: expected [N, K] scores (one vector per sample), got shape {scores.shape}')
    if not np.isfinite(scores).all():
        raise FusionError(f'{filename}: {int((~np.isfinite(scores)).sum())} scores are NaN or infinite')
    return scores


def check_streams(scores: Sequence[np.ndarray], names: Sequence[str], num_samples: Optional[int] = None,
                  what: str = 'the split') -> None:
    """Refuse streams of different lengths or class counts, or whose length is not the split's sample count."""
    lengths = {name: len(s) for name, s in zip(names, scores)}
    if len(set(lengths.values())) > 1:
        raise FusionError(f'score files hold different numbers of samples: {_listing(lengths)}')
    classes = {name: s.shape[1] for name, s in zip(names, scores)}
    if len(set(classes.values())) > 1:
        raise FusionError(f'score vectors have different class counts: {_listing(classes)}')
    if num_samples is not None and len(scores[0]) != num_samples:
        raise FusionError(f'{", ".join(names)} hold {len(scores[0])} samples but {what} has {num_samples}: were they '
                          'tested on another split?')


def _listing(values: Dict[str, int]) -> str:
    return ', '.join(f'{name}: {value}' for name, value in values.items())


def check_probabilities(scores: np.ndarray, name: str) -> None:
    """Refuse (in ``'prob'`` mode) vectors that are not probability distributions."""
    sums = scores.sum(axis=1)
    if (scores < -PROB_ATOL).any() or not np.allclose(sums, 1, atol=PROB_ATOL):
        raise FusionError(f'{name} does not hold probabilities (row sums {sums.min():.4g} .. {sums.max():.4g}, '
                          f'min {scores.min():.4g}): it was tested with --average-clips score or None; fuse it '
                          "with --mode score, or test it again with the default average_clips='prob'")


def fuse(scores: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """``sum_s w_s * scores_s``."""
    if len(weights) != len(scores):
        raise FusionError(f'{len(weights)} weights for {len(scores)} score files')
    return sum(float(w) * s for w, s in zip(weights, scores))


def evaluate(scores: np.ndarray, labels: np.ndarray, topk: int = 5) -> Dict[str, float]:
    """``top1``, ``top{k}`` (k = min(topk, classes)) and ``mean_class`` accuracy."""
    k = min(topk, scores.shape[1])
    top1, topk_acc = top_k_accuracy(scores, labels, (1, k))
    return {'top1': top1, f'top{k}': topk_acc, 'mean_class': mean_class_accuracy(scores, labels)}


def weight_grid(num_streams: int, grid: Sequence[float] = DEFAULT_GRID) -> List[Tuple[float, ...]]:
    """Every combination of ``grid`` values, without all-zero and without multiples of an earlier combination
    (``(2, 2)`` fuses exactly like ``(1, 1)``)."""
    seen, combos = set(), []
    for combo in itertools.product(grid, repeat=num_streams):
        total = sum(combo)
        if total <= 0 or min(combo) < 0:
            continue
        direction = tuple(round(w / total, 9) for w in combo)
        if direction not in seen:
            seen.add(direction)
            combos.append(tuple(combo))
    if not combos:
        raise FusionError(f'the weight grid {tuple(grid)} gives no usable weights (it needs a positive value)')
    return combos


def search_weights(scores: Sequence[np.ndarray], labels: np.ndarray,
                   grid: Sequence[float] = DEFAULT_GRID) -> Tuple[Tuple[float, ...], Dict[str, float]]:
    """The grid weights with the best top-1 on (held-out) ``scores``; ties go to the better mean class accuracy,
    then to the earlier combination. Returns ``(weights, metrics)``."""
    best = None
    for weights in weight_grid(len(scores), grid):
        metrics = evaluate(fuse(scores, weights), labels)
        rank = (metrics['top1'], metrics['mean_class'])
        if best is None or rank > best[0]:
            best = (rank, weights, metrics)
    return best[1], best[2]


def load_split_labels(ann_file: str, split: Optional[str]) -> np.ndarray:
    """The labels of ``split`` in the order PoseDataset (and so ``tools/test.py --out``) uses."""
    from pyskl.datasets.pose_dataset import PoseDataset  # only the tool needs the dataset code
    return PoseDataset(ann_file, split=split, test_mode=True).get_labels()


def load_streams(files: Sequence[str], mode: str, labels: np.ndarray, what: str) -> List[np.ndarray]:
    """Read and check the score files of one split."""
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    scores = [load_scores(f) for f in files]
    check_streams(scores, list(files), len(labels), what)
    if scores[0].shape[1] <= int(labels.max()):
        raise FusionError(f'{", ".join(files)} score {scores[0].shape[1]} classes but {what} has label '
                          f'{int(labels.max())}')
    if mode == 'prob':
        for name, s in zip(files, scores):
            check_probabilities(s, name)
    return scores


def weights_name(weights: Sequence[float]) -> str:
    return ':'.join(f'{w:g}' for w in weights)


def ensemble(score_files: Sequence[str], ann_file: str, split: Optional[str], weights: Optional[Sequence[float]] = None,
             mode: str = 'prob', search_files: Optional[Sequence[str]] = None, search_split: Optional[str] = None,
             grid: Sequence[float] = DEFAULT_GRID) -> dict:
    """Score each stream and the fusion on ``split``; with ``search_files`` (the same streams tested on
    ``search_split``) also pick weights on that split and score them on ``split``.

    Returns ``dict(rows=[(name, metrics), ...], weights=..., searched=None | dict(weights, metrics), fused=[N, K])``
    where ``fused`` is the last fusion of the table (the searched weights' when a search ran).
    """
    weights = tuple(weights) if weights is not None else (1, ) * len(score_files)
    if len(weights) != len(score_files):
        raise FusionError(f'{len(weights)} weights for {len(score_files)} score files ({", ".join(score_files)})')
    labels = load_split_labels(ann_file, split)
    scores = load_streams(score_files, mode, labels, f"split '{split}' of {ann_file}")
    rows = [(f'{name} (w={w:g})', evaluate(s, labels)) for name, w, s in zip(score_files, weights, scores)]
    fused = fuse(scores, weights)
    rows.append((f'fusion {weights_name(weights)} ({mode})', evaluate(fused, labels)))
    searched = None
    if search_files:
        if search_split is None:
            raise FusionError('--search-scores needs --search-split (the split they were tested on)')
        if len(search_files) != len(score_files):
            raise FusionError(f'{len(search_files)} --search-scores files for {len(score_files)} --scores files: give '
                              'the same streams in the same order')
        held_labels = load_split_labels(ann_file, search_split)
        held = load_streams(search_files, mode, held_labels, f"split '{search_split}' of {ann_file}")
        if held[0].shape[1] != scores[0].shape[1]:
            raise FusionError(f'--search-scores score {held[0].shape[1]} classes, --scores {scores[0].shape[1]}')
        best, held_metrics = search_weights(held, held_labels, grid)
        searched = dict(weights=best, metrics=held_metrics, split=search_split)
        fused = fuse(scores, best)
        rows.append((f'fusion {weights_name(best)} ({mode}, searched on {search_split})', evaluate(fused, labels)))
    return dict(rows=rows, weights=weights, searched=searched, split=split, num_samples=len(labels), fused=fused)


def format_table(rows: Sequence[Tuple[str, Dict[str, float]]]) -> str:
    """One line per row: the name, then each metric as a fraction (like tools/test.py)."""
    columns = list(rows[0][1])
    width = max(len(name) for name, _ in rows)
    lines = [f'{"stream":<{width}}  ' + '  '.join(f'{c:>10}' for c in columns)]
    lines += [f'{name:<{width}}  ' + '  '.join(f'{m[c]:>10.4f}' for c in columns) for name, m in rows]
    return '\n'.join(lines)


__all__ = ['FusionError', 'MODES', 'ensemble', 'evaluate', 'format_table', 'fuse', 'load_scores', 'search_weights',
           'weight_grid']
