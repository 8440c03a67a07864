"""Catch a misspelt ``type=`` or argument in a config before the Runner starts, and suggest the names that were meant.

:func:`check_config_types` looks every ``type`` up in the registries. :func:`check_config_keys` compares the keys of
each part the Runner builds (the model and its parts, the datasets and their transforms, samplers, metrics) with the
arguments its class takes, following ``**kwargs`` into the parent class when ``__init__`` hands them to
``super().__init__``; a class that keeps ``**kwargs`` for itself (e.g. a backbone passing them to its blocks) is not
checked. Messages name the part by its path and by the ``type`` the config wrote, not by the class behind it.
"""
import difflib
import inspect
import logging
import re
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

from .errors import ConfigError


def _all_registries():
    import mmengine.registry as root
    from mmengine.registry import Registry
    seen, stack = [], [r for r in vars(root).values() if isinstance(r, Registry)]
    while stack:
        reg = stack.pop()
        if any(reg is s for s in seen):
            continue
        seen.append(reg)
        stack.extend(reg._children.values())
    return seen


def registered_names() -> Set[str]:
    """Every name registered in mmengine's root registries and their children (pyskl's, mmcv's, ...)."""
    from .setup_env import register_all_modules
    register_all_modules(init_default_scope=False)
    names = set()
    for reg in _all_registries():
        reg.import_from_location()
        names.update(reg.module_dict)
    return names


def iter_types(node, path='cfg') -> Iterator[Tuple[str, str]]:
    """``(path, type)`` for every string ``type`` in a nested config."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield path, node['type']
        for key, value in node.items():
            yield from iter_types(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from iter_types(value, f'{path}[{i}]')


def check_config_types(cfg, filename: str = 'the config') -> None:
    """Raise :class:`ConfigError` listing close registered names for every ``type`` no registry knows."""
    known = registered_names()
    unknown = {}
    for path, name in iter_types(dict(cfg)):
        if name.split('.')[-1] not in known:  # also accept scoped names such as 'mmengine.SGD'
            unknown.setdefault(name, []).append(path)
    problems = []
    for name, paths in unknown.items():
        close = difflib.get_close_matches(name.split('.')[-1], known, n=5, cutoff=0.6)
        hint = f' Did you mean {", ".join(repr(c) for c in close)}?' if close else ''
        where = ', '.join(paths[:3]) + (f' and {len(paths) - 3} more' if len(paths) > 3 else '')
        problems.append(f'unknown type {name!r} (at {where}).{hint}')
    if problems:
        raise ConfigError(f'{filename}: ' + ' '.join(problems))


# ----------------------------------------------------------------------------------------------------------------
# Arguments
# ----------------------------------------------------------------------------------------------------------------
# Arguments the Runner passes itself when it builds a part, by registry name.
_INJECTED = {'data sampler': {'dataset'}, 'model': set(), 'dataset': set(), 'transform': set(), 'metric': set()}


def _super_call(init, kwargs_name: str) -> Optional[Set[str]]:
    """The keywords ``init`` names in its ``super().__init__(...)`` call when that call passes ``**kwargs_name`` on
    (read from the source), else ``None``."""
    try:
        source = inspect.getsource(init)
    except (OSError, TypeError):
        return None
    for match in re.finditer(r'super\([^)]*\)\.__init__\(', source):
        depth, end = 1, match.end()
        while end < len(source) and depth:
            depth += {'(': 1, ')': -1}.get(source[end], 0)
            end += 1
        call = source[match.end():end - 1]
        if re.search(r'\*\*\s*' + re.escape(kwargs_name) + r'\b', call):
            return set(re.findall(r'(?:^|[(,\s])(\w+)\s*=(?!=)', call))
    return None


def accepted_arguments(obj) -> Optional[Tuple[Set[str], Set[str]]]:
    """``(names, required)``: the keyword arguments ``obj`` (a class or function) takes and those without a default,
    or ``None`` when it takes arbitrary keywords that cannot be followed."""
    import torch.nn as nn
    if not inspect.isclass(obj):
        try:
            params = list(inspect.signature(obj).parameters.values())
        except (TypeError, ValueError):
            return None
        return _collect(params, set(), set(), set())
    names, required, fixed = set(), set(), set()
    for klass in obj.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        if klass in (object, nn.Module):  # take no other keyword (nn.Module refuses unexpected ones)
            return names, required
        try:
            params = list(inspect.signature(init).parameters.values())[1:]  # without self
        except (TypeError, ValueError):
            return None
        found = _collect(params, names, required, fixed)
        if found is not None:
            return found
        passed = _super_call(init, next(p.name for p in params if p.kind == p.VAR_KEYWORD))
        if passed is None:  # **kwargs kept for something else than the parent class
            return None
        fixed |= passed  # the subclass sets these itself: a config cannot give them
    return names, required


def _collect(params, names: Set[str], required: Set[str], fixed: Set[str]):
    """Add ``params`` (but not the ``fixed`` ones) to ``names`` / ``required``; ``None`` when they end in
    ``**kwargs`` (to be followed into the parent class)."""
    for p in params:
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in fixed:
            if p.default is p.empty and p.name not in names:
                required.add(p.name)
            names.add(p.name)
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    return names, required


SPLITS = ('train', 'val', 'test')


def dataset_configs(cfg, splits: Sequence[str] = SPLITS) -> Iterator[Tuple[str, dict]]:
    """``(path, dataset config)`` for the dataset of each split's dataloader and, depth first, the datasets its
    wrappers hold (``dataset``, ``datasets``: RepeatDataset, ConcatDataset and friends)."""

    def visit(node, path):
        if not isinstance(node, dict):
            return
        yield path, node
        yield from visit(node.get('dataset'), f'{path}.dataset')
        for i, inner in enumerate(node.get('datasets') or []):
            yield from visit(inner, f'{path}.datasets[{i}]')

    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if isinstance(loader, dict):
            yield from visit(loader.get('dataset'), f'{split}_dataloader.dataset')


def _built_parts(cfg: dict) -> Iterator[Tuple[str, dict, str]]:
    """``(path, part, registry)`` for the parts of a Runner config whose arguments are checked."""

    def model_parts(node, path):
        if isinstance(node, dict):
            if isinstance(node.get('type'), str):
                yield path, node, 'model'
            for key, value in node.items():
                if not str(key).endswith('_cfg'):  # conv_cfg, norm_cfg, init_cfg, graph_cfg: built by other means
                    yield from model_parts(value, f'{path}.{key}')
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                yield from model_parts(value, f'{path}[{i}]')

    yield from model_parts(cfg.get('model'), 'model')
    for split in SPLITS:
        for path, dataset in dataset_configs(cfg, (split, )):
            if isinstance(dataset.get('type'), str):
                yield path, dataset, 'dataset'
            for i, step in enumerate(dataset.get('pipeline') or []):
                if isinstance(step, dict) and isinstance(step.get('type'), str):
                    yield f'{path}.pipeline[{i}]', step, 'transform'
        loader = cfg.get(f'{split}_dataloader')
        if isinstance(loader, dict):
            sampler = loader.get('sampler')
            if isinstance(sampler, dict) and isinstance(sampler.get('type'), str):
                yield f'{split}_dataloader.sampler', sampler, 'data sampler'
        evaluator = cfg.get(f'{split}_evaluator')
        for i, metric in enumerate(evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]):
            if isinstance(metric, dict) and isinstance(metric.get('type'), str):
                yield f'{split}_evaluator' + (f'[{i}]' if isinstance(evaluator, (list, tuple)) else ''), metric, \
                    'metric'


def _registry(name: str):
    from pyskl import registry
    return {'model': registry.MODELS, 'dataset': registry.DATASETS, 'transform': registry.TRANSFORMS,
            'metric': registry.METRICS, 'data sampler': registry.DATA_SAMPLERS}[name]


def argument_problems(cfg) -> List[str]:
    """One message per built part whose keys its class does not take, or that lacks a required argument."""
    from .setup_env import register_all_modules
    register_all_modules(init_default_scope=False)
    problems = []
    seen: Dict[int, bool] = {}
    for path, part, registry_name in _built_parts(dict(cfg)):
        if id(part) in seen:  # test_dataloader = val_dataloader: one part, one message
            continue
        seen[id(part)] = True
        obj = _registry(registry_name).get(part['type'])
        if obj is None:  # an unknown type: check_config_types says so
            continue
        accepted = accepted_arguments(obj)
        if accepted is None:
            continue
        names, required = accepted
        names |= _INJECTED[registry_name]
        given = [key for key in part if key not in ('type', '_scope_')]
        unknown = [key for key in given if key not in names]
        missing = sorted(required - set(given) - _INJECTED[registry_name])
        if not unknown and not missing:
            continue
        what = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), sorted(names), n=3, cutoff=0.6)
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ''
            what.append(f'unknown key {key!r}{hint}')
        if missing:
            what.append(f'missing required key(s) {", ".join(map(repr, missing))}')
        takes = ', '.join(sorted(names - _INJECTED[registry_name]))
        problems.append(f"{path} (type={part['type']!r}): {'; '.join(what)}. {part['type']} takes: {takes}")
    return problems


def check_config_keys(cfg, filename: str = 'the config') -> None:
    """Raise :class:`ConfigError` naming each part's keys that its class does not take, with the close names."""
    problems = argument_problems(cfg)
    if problems:
        raise ConfigError(f'{filename}: ' + ' | '.join(problems))


# ----------------------------------------------------------------------------------------------------------------
# --cfg-options
# ----------------------------------------------------------------------------------------------------------------
# The top-level keys that mmengine's Runner (``from_cfg`` and after) and pyskl's tools read from a config.
RUNNER_KEYS = frozenset({
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg',
    'auto_scale_lr', 'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator', 'default_hooks',
    'custom_hooks', 'data_preprocessor', 'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name', 'activation_checkpointing', 'compile',
    'efficient_conv_bn_eval', 'find_unused_parameters', 'model_wrapper_cfg', 'sync_bn', 'custom_imports',
    'strict_load'})


def _holders(node, value, path='') -> Iterator[str]:
    """The paths in ``node`` whose value equals ``value``."""
    if path and node == value:
        yield path
        return
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _holders(child, value, f'{path}.{key}' if path else str(key))
    elif isinstance(node, (list, tuple)):
        for i, child in enumerate(node):
            yield from _holders(child, value, f'{path}[{i}]')


def check_cfg_options(cfg, options: dict, filename: str = 'the config') -> None:
    """Before ``options`` (``--cfg-options``) are merged into ``cfg``: refuse a top-level variable of the file that
    the parts have already copied by value (``ann_file``: the dataloaders hold the path itself, so setting it would
    change nothing), naming the keys to set instead; warn about other top-level keys that nothing reads."""
    from mmengine.logging import print_log
    for key in options:
        top = str(key).split('.')[0].split('[')[0]
        if top in RUNNER_KEYS:
            continue
        old = cfg.get(top)
        holders = []
        if old is not None and not isinstance(old, bool):
            others = {k: v for k, v in dict(cfg).items() if k != top}
            holders = list(_holders(others, old))
        if holders:
            suffix = str(key)[len(top):]
            keys = ' '.join(f'{holder}{suffix}={options[key]}' for holder in holders)
            raise ConfigError(f"--cfg-options {key}: '{top}' is a variable of {filename} that nothing reads once the "
                              f'file is loaded: the parts hold its value already, at {", ".join(holders)}. Set those '
                              f'keys instead: --cfg-options {keys}')
        print_log(f"--cfg-options {key}: '{top}' is not a key that the Runner or pyskl's tools read, so it changes "
                  'nothing unless your own code reads it', logger='current', level=logging.WARNING)
