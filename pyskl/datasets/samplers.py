"""Class-specific resampling (PYSKL's ``ClassSpecificDistributedSampler``) as an mmengine data sampler.

Each class ``c`` is drawn ``class_prob[c]`` times per epoch: the integer part as full copies of the class's samples,
the fractional part as a random subset of them, re-drawn every epoch. Used by the NTU-120 PoseC3D configs
(``class_prob=[1] * 60 + [2] * 60`` doubles the classes that NTU-60 lacks).
"""
import math
from typing import Dict, Iterator, List, Optional, Sized

import numpy as np
import torch
from mmengine.dataset import RepeatDataset
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from pyskl.registry import DATA_SAMPLERS
from .pose_dataset import parse_class_prob


def _unwrap_repeat(dataset) -> tuple:
    """``(inner dataset, times)``: PYSKL multiplies every class's rate by ``RepeatDataset.times``."""
    if isinstance(dataset, RepeatDataset):
        return dataset.dataset, dataset.times
    return dataset, 1


def _labels_of(dataset) -> np.ndarray:
    if hasattr(dataset, 'get_labels'):  # PoseDataset: without unpacking every sample
        return np.asarray(dataset.get_labels(), dtype=np.int64)
    return np.array([dataset.get_cat_ids(i)[0] for i in range(len(dataset))], dtype=np.int64)


def _indices_by_class(labels: np.ndarray) -> Dict[int, np.ndarray]:
    """Sample indices of each class, classes in order of first appearance (PYSKL's draw order)."""
    classes, first = np.unique(labels, return_index=True)
    return {int(c): np.flatnonzero(labels == c) for c in classes[np.argsort(first)]}


@DATA_SAMPLERS.register_module()
class ClassSpecificDistributedSampler(Sampler):
    """Resample classes by ``class_prob``, shuffle, and shard across ranks like mmengine's ``DefaultSampler``.

    Args:
        dataset: The dataset (a ``PoseDataset`` or a ``RepeatDataset`` around one). Indices refer to the inner
            dataset, which ``RepeatDataset`` serves unchanged.
        class_prob (list | dict, optional): Multiplier per class (a list is indexed by label); classes not listed
            count once. Defaults to the dataset's ``class_prob``.
        shuffle (bool): Shuffle the resampled indices. Defaults to True.
        seed (int, optional): Base seed, identical on all ranks; ``None`` draws one and syncs it.
        round_up (bool): Pad with repeated indices so every rank gets the same number. Defaults to True.
    """

    def __init__(self,
                 dataset: Sized,
                 class_prob=None,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        inner, self.times = _unwrap_repeat(dataset)
        class_prob = class_prob if class_prob is not None else getattr(inner, 'class_prob', None)
        if class_prob is None:
            raise ValueError(f'{type(self).__name__} needs class_prob, as an argument or as the attribute of '
                             f'{type(inner).__name__} (PoseDataset(class_prob=...))')
        self.class_prob = parse_class_prob(class_prob)
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.round_up = round_up
        self.epoch = 0
        self._by_class = _indices_by_class(_labels_of(inner))
        self._size = sum(int(mul) * len(idx) + int(mul % 1 * len(idx)) for mul, idx in self._class_rates())
        if self._size == 0:
            raise ValueError(f'class_prob {self.class_prob} leaves no sample to draw')

    def _class_rates(self) -> List[tuple]:
        """``(multiplier × times, indices)`` per class; unlisted classes get ``times``."""
        return [(self.class_prob.get(c, 1.0) * self.times, idx) for c, idx in self._by_class.items()]

    def _resampled(self, generator: torch.Generator) -> np.ndarray:
        parts = []
        for mul, idx in self._class_rates():
            parts.extend([idx] * int(mul))
            # A permutation is drawn for every class, even when the remainder is 0, to follow PYSKL's RNG sequence.
            perm = torch.randperm(len(idx), generator=generator).numpy()
            parts.append(idx[perm[:int(mul % 1 * len(idx))]])
        return np.concatenate(parts)

    @property
    def total_size(self) -> int:
        return math.ceil(self._size / self.world_size) * self.world_size if self.round_up else self._size

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        indices = self._resampled(generator)
        if self.shuffle:
            indices = indices[torch.randperm(len(indices), generator=generator).numpy()]
        if self.round_up:
            indices = np.resize(indices, self.total_size)  # repeats from the start, like DefaultSampler
        return iter(indices[self.rank:self.total_size:self.world_size].tolist())

    def __len__(self) -> int:
        """Indices this rank yields per epoch."""
        if self.round_up:
            return self.total_size // self.world_size
        return len(range(self.rank, self._size, self.world_size))

    def set_epoch(self, epoch: int) -> None:
        """A new epoch re-draws the fractional subsets and the shuffle."""
        self.epoch = epoch


__all__ = ['ClassSpecificDistributedSampler']
