"""ClassSpecificDistributedSampler: per-class repeat counts, fractional subsets per epoch, RepeatDataset, sharding."""
import pickle
from collections import Counter

import numpy as np
import pytest
from mmengine.dataset import RepeatDataset

from pyskl.datasets import ClassSpecificDistributedSampler, PoseDataset
from pyskl.datasets import samplers as samplers_module
from pyskl.registry import DATA_SAMPLERS

# Labels of the 11 samples: class 0 at 0..3, class 1 at 4..5, class 2 at 6..10.
LABELS = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2]


@pytest.fixture
def dataset(tmp_path):
    annos = [dict(frame_dir=f'clip{i}', label=label, total_frames=2, keypoint=np.zeros((1, 2, 5, 3), np.float32))
             for i, label in enumerate(LABELS)]
    path = tmp_path / 'anno.pkl'
    path.write_bytes(pickle.dumps(annos))
    return PoseDataset(str(path), pipeline=[], class_prob={0: 1, 1: 2.5, 2: 0.4})


def counts_by_class(indices):
    counts = Counter(indices)
    return {c: sorted(counts[i] for i in range(len(LABELS)) if LABELS[i] == c) for c in (0, 1, 2)}


def test_integer_and_fractional_parts(dataset):
    sampler = ClassSpecificDistributedSampler(dataset, seed=3)
    indices = list(sampler)
    # class 0 once; class 1 (2 samples) 2.5x: both twice + int(0.5 * 2) = 1 once more; class 2 (5) 0.4x: 2 of them.
    assert len(indices) == len(sampler) == 4 + 5 + 2
    assert counts_by_class(indices) == {0: [1, 1, 1, 1], 1: [2, 3], 2: [0, 0, 0, 1, 1]}


def test_fractional_subset_is_redrawn_each_epoch_and_reproducible(dataset):
    sampler = ClassSpecificDistributedSampler(dataset, seed=0)
    drawn = []
    for epoch in range(8):
        sampler.set_epoch(epoch)
        drawn.append(frozenset(i for i in sampler if LABELS[i] == 2))
        assert len(drawn[-1]) == 2
    assert len(set(drawn)) > 1  # different subsets of class 2 across epochs
    sampler.set_epoch(5)
    again = [i for i in sampler if LABELS[i] == 2]
    assert frozenset(again) == drawn[5]
    other = ClassSpecificDistributedSampler(dataset, seed=0)
    other.set_epoch(5)
    assert list(other) == list(sampler)  # same seed and epoch: same order on every rank


def test_shuffle_off_keeps_class_blocks(dataset):
    indices = list(ClassSpecificDistributedSampler(dataset, shuffle=False, seed=0))
    assert indices[:4] == [0, 1, 2, 3] and indices[4:8] == [4, 5, 4, 5]
    shuffled = list(ClassSpecificDistributedSampler(dataset, shuffle=True, seed=0))
    assert sorted(shuffled) == sorted(indices) and shuffled != indices


def test_repeat_dataset_multiplies_the_rates(dataset):
    repeated = RepeatDataset(dataset, times=3)
    indices = list(ClassSpecificDistributedSampler(repeated, seed=1))
    # class 0: 3x; class 1: 7.5x -> 7 copies + 1 extra; class 2: 1.2x -> 1 copy + int(0.2 * 5) = 1 extra
    assert counts_by_class(indices) == {0: [3, 3, 3, 3], 1: [7, 8], 2: [1, 1, 1, 1, 2]}
    assert all(0 <= i < len(dataset) for i in indices)  # inner indices, valid for the RepeatDataset too


def test_class_prob_argument_overrides_and_list_form(dataset):
    indices = list(ClassSpecificDistributedSampler(dataset, class_prob=[0, 3], seed=0))
    assert counts_by_class(indices) == {0: [0, 0, 0, 0], 1: [3, 3], 2: [1, 1, 1, 1, 1]}  # unlisted class: once


def test_needs_class_prob(tmp_path, dataset):
    dataset.class_prob = None
    with pytest.raises(ValueError, match='needs class_prob'):
        ClassSpecificDistributedSampler(dataset)


@pytest.mark.parametrize('round_up', [True, False])
def test_sharding_across_ranks(dataset, monkeypatch, round_up):
    full = list(ClassSpecificDistributedSampler(dataset, seed=7, round_up=round_up))
    world_size = 3
    shards = []
    for rank in range(world_size):
        monkeypatch.setattr(samplers_module, 'get_dist_info', lambda rank=rank: (rank, world_size))
        sampler = ClassSpecificDistributedSampler(dataset, seed=7, round_up=round_up)
        shards.append(list(sampler))
        assert len(sampler) == len(shards[-1])
    if round_up:  # 11 indices padded to 12 by repeating the first one, then dealt round-robin
        assert [len(s) for s in shards] == [4, 4, 4]
        padded = full + full[:1]
    else:
        assert [len(s) for s in shards] == [4, 4, 3]
        padded = full
    dealt = [shards[i % world_size][i // world_size] for i in range(len(padded))]
    assert dealt == padded


def test_built_from_the_registry_like_the_runner_does(dataset):
    sampler = DATA_SAMPLERS.build(dict(type='ClassSpecificDistributedSampler'), default_args=dict(dataset=dataset,
                                                                                                  seed=0))
    assert isinstance(sampler, ClassSpecificDistributedSampler) and len(sampler) == 11


# ---------------------------------------------------------------------------------------------------------------
# Two real processes (gloo): the seed is drawn once and shared, and the ranks split one resampled epoch

def _write_labels(path):
    annos = [dict(frame_dir=f'clip{i}', label=label, total_frames=2, keypoint=np.zeros((1, 2, 5, 3), np.float32))
             for i, label in enumerate(LABELS)]
    path.write_bytes(pickle.dumps(annos))


def _repeated(ann_file):
    return RepeatDataset(PoseDataset(str(ann_file), pipeline=[], class_prob={0: 1, 1: 2.5, 2: 0.4}), times=3)


def _one_rank(rank, world_size, ann_file, port, out_dir):
    import os

    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world_size)
    try:
        sampler = ClassSpecificDistributedSampler(_repeated(ann_file))  # no seed: rank 0 draws it for all
        sampler.set_epoch(1)
        result = dict(seed=sampler.seed, indices=list(sampler), length=len(sampler))
        (out_dir / f'rank{rank}.pkl').write_bytes(pickle.dumps(result))
    finally:
        dist.destroy_process_group()


def test_two_processes_share_the_seed_and_split_one_epoch(tmp_path):
    import socket

    import torch.multiprocessing as mp
    ann_file = tmp_path / 'anno.pkl'
    _write_labels(ann_file)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    mp.spawn(_one_rank, args=(2, ann_file, port, tmp_path), nprocs=2)
    ranks = [pickle.loads((tmp_path / f'rank{r}.pkl').read_bytes()) for r in (0, 1)]
    assert ranks[0]['seed'] == ranks[1]['seed']

    single = ClassSpecificDistributedSampler(_repeated(ann_file), seed=ranks[0]['seed'])
    single.set_epoch(1)
    full = list(single)  # class 0: 4 samples x 3, class 1: 2 x 7.5, class 2: 5 x 1.2
    assert len(full) == 12 + 15 + 6
    padded = full + full[:len(full) % 2]
    assert [r['length'] for r in ranks] == [len(padded) // 2] * 2
    dealt = [ranks[i % 2]['indices'][i // 2] for i in range(len(padded))]
    assert dealt == padded
