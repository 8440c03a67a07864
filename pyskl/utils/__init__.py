from .checkpoint import (CheckpointError, compare_state_dict, engine_safe_globals, get_state_dict, load_checkpoint,
                         load_state_dict, read_checkpoint)
from .fileio import atomic_write, dump_pickle
from .setup_env import register_all_modules

__all__ = [
    'CheckpointError', 'compare_state_dict', 'engine_safe_globals', 'get_state_dict', 'load_checkpoint',
    'load_state_dict', 'read_checkpoint', 'atomic_write', 'dump_pickle', 'register_all_modules'
]
