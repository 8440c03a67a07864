"""pyskl's registries: children of mmengine's root registries, scope ``pyskl``.

Configs name their parts by ``type=``; with ``default_scope='pyskl'`` the Runner looks here first and falls back to
mmengine's roots (optimizers, schedulers, hooks, loops, RepeatDataset, ...).
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, scope='pyskl', locations=['pyskl.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS, scope='pyskl', locations=['pyskl.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, scope='pyskl', locations=['pyskl.datasets.transforms'])
MODELS = Registry('model', parent=MMENGINE_MODELS, scope='pyskl', locations=['pyskl.models'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='pyskl', locations=['pyskl.engine'])
METRICS = Registry('metric', parent=MMENGINE_METRICS, scope='pyskl', locations=['pyskl.evaluation'])

__all__ = ['DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'METRICS', 'HOOKS']
