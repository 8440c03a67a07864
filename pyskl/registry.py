"""pyskl's registries: children of mmengine's root registries, scope ``pyskl``.

Configs name their parts by ``type=``; with ``default_scope='pyskl'`` the Runner looks here first and falls back to
mmengine's roots (optimizers, schedulers, hooks, loops, RepeatDataset, ...).
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, scope='pyskl', locations=['pyskl.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS, scope='pyskl', locations=['pyskl.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, scope='pyskl', locations=['pyskl.datasets.transforms'])
MODELS = Registry('model', parent=MMENGINE_MODELS, scope='pyskl', locations=['pyskl.models'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='pyskl', locations=['pyskl.engine'])
METRICS = Registry('metric', parent=MMENGINE_METRICS, scope='pyskl', locations=['pyskl.evaluation'])

# Empty children: pyskl adds nothing to these, but with scope 'pyskl' the Runner looks for a child registry first
# and warns when there is none; these let its lookups fall through to mmengine's quietly.
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, scope='pyskl')
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, scope='pyskl')
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, scope='pyskl')
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope='pyskl')
OPTIM_WRAPPER_CONSTRUCTORS = Registry('optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                      scope='pyskl')
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, scope='pyskl')
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS, scope='pyskl')
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS, scope='pyskl')
LOG_PROCESSORS = Registry('log_processor', parent=MMENGINE_LOG_PROCESSORS, scope='pyskl')
WEIGHT_INITIALIZERS = Registry('weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS, scope='pyskl')

__all__ = [
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'METRICS', 'HOOKS', 'LOOPS', 'MODEL_WRAPPERS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'VISBACKENDS', 'VISUALIZERS',
    'LOG_PROCESSORS', 'WEIGHT_INITIALIZERS'
]
