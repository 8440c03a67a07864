"""Determinism: the same seed gives bit-identical checkpoints and metrics, and the same augmentations per sample and
epoch with 0, 1 or 2 dataloader workers, persistent or not, whether the run started at epoch 0 or resumed."""
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from pyskl.engine.hooks import EpochSeedHook
from tests.tools.helpers import write_tiny_dataset

from .helpers import read_pickle, run_tool_here, write_tiny_config


def _train(cfg, work, capsys):
    status, out, err = run_tool_here('train.py', cfg, '--work-dir', work, '--seed', 0, '--deterministic',
                                     '--validate', capsys=capsys)
    assert status == 0, err[-3000:]
    return torch.load(work / 'epoch_2.pth', map_location='cpu', weights_only=False), out


def _val_lines(log):
    return [line.split('Epoch(val)')[1] for line in log.splitlines() if 'Epoch(val) [' in line and 'top1_acc' in line]


def test_two_seeded_runs_give_bit_identical_checkpoints_and_metrics(tmp_path, capsys):
    cfg = write_tiny_config(tmp_path, max_epochs=2)
    runs = []
    for name in ('one', 'two'):  # configs of their own names: mmengine reuses a logger of the same name and second
        copy = tmp_path / f'{name}_config.py'
        copy.write_text(cfg.read_text())
        runs.append(_train(copy, tmp_path / name, capsys))
    (first, log1), (second, log2) = runs
    assert first['state_dict'].keys() == second['state_dict'].keys()
    for key, value in first['state_dict'].items():
        assert torch.equal(value, second['state_dict'][key]), key
    for (k1, a), (k2, b) in zip(first['optimizer']['state'].items(), second['optimizer']['state'].items()):
        assert k1 == k2 and all(torch.equal(a[n], b[n]) for n in a)
    assert _val_lines(log1) and [line.split('data_time')[0] for line in _val_lines(log1)] == \
        [line.split('data_time')[0] for line in _val_lines(log2)]


# -- augmentations per worker count ----------------------------------------------------------------------------------
class DrawRandom:
    """A transform that records a draw from each generator a PYSKL transform may use (RandomResizedCrop draws from
    Python's ``random``, the others from NumPy's global generator; torch's for good measure)."""

    def __call__(self, results):
        return dict(idx=results['sample_idx'], draws=(random.random(), float(np.random.rand()), float(torch.rand(1))))


def _loader(ann_file, workers, persistent):
    cfg = dict(batch_size=2, num_workers=workers, persistent_workers=persistent and workers > 0, collate_fn=list,
               sampler=dict(type='DefaultSampler', shuffle=True, seed=0),
               dataset=dict(type='RepeatDataset', times=2,
                            dataset=dict(type='PoseDataset', ann_file=str(ann_file), split='train',
                                         pipeline=[DrawRandom()])))
    return Runner.build_dataloader(cfg, seed=0)


def _epochs(loader, epochs):
    """{epoch: {sample index: [draws of each occurrence]}}, the epochs driven as the Runner drives them."""
    hook, seen = EpochSeedHook(), {}
    for epoch in epochs:
        loader.sampler.set_epoch(epoch)  # DistSamplerSeedHook
        hook.before_train_epoch(SimpleNamespace(seed=0, epoch=epoch, train_dataloader=loader))
        draws = {}
        for batch in loader:
            for sample in batch:
                draws.setdefault(sample['idx'], []).append(sample['draws'])
        seen[epoch] = draws
    return seen


@pytest.fixture(scope='module')
def ann_file(tmp_path_factory):
    return write_tiny_dataset(tmp_path_factory.mktemp('seeds') / 'tiny.pkl', num_train=9)


@pytest.mark.parametrize('workers, persistent', [(0, False), (1, True), (2, True), (2, False)])
def test_augmentations_are_reproducible_per_epoch_and_on_resume(ann_file, workers, persistent):
    first = _epochs(_loader(ann_file, workers, persistent), (0, 1))
    again = _epochs(_loader(ann_file, workers, persistent), (0, 1))
    resumed = _epochs(_loader(ann_file, workers, persistent), (1, ))  # a run resumed at epoch 1
    assert first == again and resumed[1] == first[1]
    assert sorted(first[0]) == list(range(9)) and all(len(d) == 2 for d in first[0].values())  # RepeatDataset x2
    all_draws = [d for epoch in first.values() for draws in epoch.values() for occurrence in draws for d in occurrence]
    assert len(set(all_draws)) == len(all_draws), 'two samples, occurrences or epochs drew the same numbers'


def test_the_main_process_is_reseeded_per_epoch(ann_file):
    """Dropout masks (torch) and num_workers=0 augmentations: epoch e draws the same after a resume."""
    loader = _loader(ann_file, 0, False)
    hook = EpochSeedHook()
    hook.before_train_epoch(SimpleNamespace(seed=3, epoch=5, train_dataloader=loader))
    first = torch.rand(4)
    torch.rand(100)
    hook.before_train_epoch(SimpleNamespace(seed=3, epoch=5, train_dataloader=loader))
    assert torch.equal(torch.rand(4), first)
    hook.before_train_epoch(SimpleNamespace(seed=3, epoch=6, train_dataloader=loader))
    assert not torch.equal(torch.rand(4), first)


def test_epoch_seeds_survive_a_copy_of_the_dataset(ann_file):
    """mmengine's get_subset deep-copies the dataset: the shared seed state becomes a snapshot, not an error."""
    loader = _loader(ann_file, 0, False)
    _epochs(loader, (2, ))
    inner = loader.dataset.dataset
    subset = inner.get_subset([0, 1])
    assert list(subset.epoch_seeds._shared) == [0, 0, 2] and len(subset) == 2
    assert read_pickle(ann_file)['split']['train'][:2] == [subset.get_data_info(i)['frame_dir'] for i in range(2)]
