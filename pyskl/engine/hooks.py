"""Hooks pyskl adds to mmengine's Runner."""
import os.path as osp

from mmengine.dataset import pseudo_collate
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.runner import find_latest_checkpoint

from pyskl.datasets.checks import AnnotationError
from pyskl.registry import HOOKS
from pyskl.utils.checkpoint import CheckpointError, compare_state_dict, describe_key_problems, get_state_dict
from pyskl.utils.dist import unwrap_model
from pyskl.utils.seeding import derived_seed, seed_everything


def _ann_file(dataset) -> str:
    while not hasattr(dataset, 'ann_file') and hasattr(dataset, 'dataset'):  # RepeatDataset and friends
        dataset = dataset.dataset
    return getattr(dataset, 'ann_file', '<dataset>')


def inner_datasets(dataset):
    """The datasets inside ``dataset`` and its wrappers (``RepeatDataset.dataset``, ``ConcatDataset.datasets``)."""
    yield dataset
    if hasattr(dataset, 'dataset'):
        yield from inner_datasets(dataset.dataset)
    for inner in getattr(dataset, 'datasets', None) or ():
        yield from inner_datasets(inner)


@HOOKS.register_module()
class InputCheckHook(Hook):
    """Before training or testing, run the first sample through the pipeline and the model's input check, so a
    skeleton that does not fit the model fails at once, naming the annotation file and the sample."""

    priority = 'VERY_HIGH'

    def _check(self, runner, dataloader):
        model = unwrap_model(runner.model)
        if not hasattr(model, 'check_inputs'):
            return
        dataset = dataloader.dataset
        if len(dataset) == 0:
            raise AnnotationError(f'{_ann_file(dataset)}: the dataset is empty')
        # through the data preprocessor, as a batch would go: deferred heatmaps are rendered there
        batch = model.data_preprocessor(pseudo_collate([dataset[0]]), False)
        try:
            model.check_inputs(batch['inputs'], batch['data_samples'])
        except ValueError as e:  # the load-time checks made every sample share this V and C
            raise AnnotationError(f'{_ann_file(dataset)}: {e}') from None

    def before_train(self, runner):
        self._check(runner, runner.train_dataloader)

    def before_test(self, runner):
        self._check(runner, runner.test_dataloader)


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseed the main process and the training dataloader's workers at the start of every epoch from (seed, epoch,
    rank[, worker]) (``pyskl/utils/seeding.py``): the same seed gives the same augmentations and dropout masks in
    every epoch whether the run was resumed or not, and whether the workers persist or not."""

    priority = 'VERY_HIGH'  # before anything draws a random number in the epoch

    def before_train_epoch(self, runner):
        if runner.seed is None:
            return
        seeds = [d.epoch_seeds for d in inner_datasets(runner.train_dataloader.dataset) if hasattr(d, 'epoch_seeds')]
        if not seeds:  # another dataset: the main process is still reseeded, as EpochSeeds.start_epoch does
            seed_everything(derived_seed(runner.seed, runner.epoch, get_rank()))
        for epoch_seeds in seeds:
            epoch_seeds.start_epoch(runner.seed, get_rank(), runner.epoch)


@HOOKS.register_module()
class StrictLoadHook(Hook):
    """Refuse a ``load_from`` / ``--resume`` checkpoint whose weights do not fit the model (missing, unexpected or
    mis-shaped keys), as ``tools/test.py`` does, instead of training on from a partial load. ``tools/train.py
    --no-strict-load`` (``strict_load = False``) leaves it out: the matching weights load and the rest is logged."""

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint):
        model = unwrap_model(runner.model)
        problems = compare_state_dict(model, get_state_dict(checkpoint))
        if not any(problems):
            return
        raise CheckpointError(f'Checkpoint {self._filename(runner)} does not match {type(model).__name__}: '
                              f'{describe_key_problems(*problems)}. To load only the matching weights (e.g. to '
                              'fine-tune with another head), pass --no-strict-load (strict_load = False in the config)')

    @staticmethod
    def _filename(runner) -> str:
        if runner._resume and runner._load_from is None:
            return find_latest_checkpoint(runner.work_dir) or osp.join(runner.work_dir, '<latest>')
        return runner._load_from
