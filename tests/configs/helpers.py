"""What the config tests share: the configs parsed once, their datasets and pipelines, plain values to compare with
PYSKL's dicts, and the config generators of tools/misc."""
from functools import lru_cache

from mmengine.config import Config

from tests.conftest import REPO_ROOT, load_script

CONFIG_DIR = REPO_ROOT / 'configs'


@lru_cache(maxsize=None)
def load_config(rel):
    """``configs/<rel>``, parsed once per session: the tests share it, so none may change it (edit a copy)."""
    return Config.fromfile(str(CONFIG_DIR / rel))


def inner_dataset(loader):
    """A dataloader's dataset, inside its RepeatDataset if it has one."""
    dataset = loader['dataset']
    return dataset['dataset'] if dataset['type'] == 'RepeatDataset' else dataset


def pipelines(cfg):
    return {phase: inner_dataset(cfg[f'{phase}_dataloader'])['pipeline'] for phase in ('train', 'val', 'test')}


def as_plain(value):
    """Tuples -> lists, ConfigDict -> dict, so configs compare with PYSKL's dicts by value."""
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    return value


def load_generator(family):
    """``tools/misc/generate_<family>_configs.py`` as a module."""
    return load_script(f'tools/misc/generate_{family}_configs.py')
