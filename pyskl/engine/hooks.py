"""Hooks pyskl adds to mmengine's Runner."""
from mmengine.dataset import pseudo_collate
from mmengine.hooks import Hook

from pyskl.registry import HOOKS


def _ann_file(dataset) -> str:
    while not hasattr(dataset, 'ann_file') and hasattr(dataset, 'dataset'):  # RepeatDataset and friends
        dataset = dataset.dataset
    return getattr(dataset, 'ann_file', '<dataset>')


@HOOKS.register_module()
class InputCheckHook(Hook):
    """Before training or testing, run the first sample through the pipeline and the model's input check, so a
    skeleton that does not fit the model fails at once, naming the annotation file and the sample."""

    priority = 'VERY_HIGH'

    def _check(self, runner, dataloader):
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        if not hasattr(model, 'check_inputs'):
            return
        dataset = dataloader.dataset
        if len(dataset) == 0:
            raise ValueError(f'{_ann_file(dataset)}: the dataset is empty')
        # through the data preprocessor, as a batch would go: deferred heatmaps are rendered there
        batch = model.data_preprocessor(pseudo_collate([dataset[0]]), False)
        try:
            model.check_inputs(batch['inputs'], batch['data_samples'])
        except ValueError as e:
            raise ValueError(f'{_ann_file(dataset)}: {e}') from None

    def before_train(self, runner):
        self._check(runner, runner.train_dataloader)

    def before_test(self, runner):
        self._check(runner, runner.test_dataloader)
