"""Random numbers that depend only on the seed, the epoch, the rank and the worker: not on how the run got there.

mmengine seeds every process once: each dataloader worker from (seed, rank, worker id) when it starts, the main
process when the Runner starts. Workers that do not persist therefore restart every epoch from the same seed and
repeat the same augmentations every epoch, and a resumed run draws other numbers than the run it continues (its
main process and workers start afresh in the middle). Here the main process and every worker are reseeded at the
start of every training epoch from ``(seed, epoch, rank[, worker])`` (``EpochSeedHook`` drives it), so epoch ``e``
draws the same augmentations, dropout masks and shuffles whether the run started at epoch 0 or was resumed at
``e``, and whether the workers persist or not; each worker still draws its own numbers, one after the other, so
repeated samples (``RepeatDataset``, ``class_prob``) get different augmentations. Python's ``random`` (PYSKL's
``RandomResizedCrop`` draws from it), NumPy's global generator and torch's are all reseeded.
"""
import multiprocessing
import multiprocessing.context
import random

import numpy as np
import torch


def derived_seed(*entropy: int) -> int:
    """A 32-bit seed mixed from the integers ``entropy`` (NumPy's ``SeedSequence``: nearby inputs give unrelated
    seeds)."""
    return int(np.random.SeedSequence([int(e) % 2**64 for e in entropy]).generate_state(1)[0])


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch's (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class EpochSeeds:
    """The current ``(seed, rank, epoch)`` of a training run, written by the main process and read by the dataloader
    workers of the dataset that holds this object (shared memory: persistent workers see each new epoch)."""

    def __init__(self):
        self._shared = None  # multiprocessing.RawArray('q', 3) once the run sets it, before any worker starts
        self._seeded_epoch = None  # the epoch this process last seeded itself for (each worker has its own copy)

    def start_epoch(self, seed: int, rank: int, epoch: int) -> None:
        """Main process, before the epoch's first batch is requested: publish the epoch and reseed this process."""
        if self._shared is None:
            self._shared = multiprocessing.RawArray('q', 3)
        self._shared[:] = [int(seed) % 2**63, rank, epoch]
        seed_everything(derived_seed(seed, epoch, rank))

    def reseed_worker(self) -> None:
        """In a dataloader worker, at each sample: reseed once per epoch from (seed, epoch, rank, worker)."""
        if self._shared is None:
            return
        info = torch.utils.data.get_worker_info()
        if info is None:  # the main process (num_workers=0) was seeded by start_epoch
            return
        seed, rank, epoch = self._shared[:]
        if epoch != self._seeded_epoch:
            seed_everything(derived_seed(seed, epoch, rank, info.id + 1))
            self._seeded_epoch = epoch

    def __getstate__(self):
        state = dict(self.__dict__)
        if state['_shared'] is not None and multiprocessing.context.get_spawning_popen() is None:
            state['_shared'] = list(state['_shared'])  # copied or pickled outside a process start: a snapshot
        return state


__all__ = ['EpochSeeds', 'derived_seed', 'seed_everything']
