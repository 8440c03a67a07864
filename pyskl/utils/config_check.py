"""Catch a misspelt ``type=`` in a config before the Runner starts, and suggest the names that were meant."""
import difflib
from typing import Iterator, Set, Tuple


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
    """Raise ``KeyError`` listing close registered names for every ``type`` no registry knows."""
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
        raise KeyError(f'{filename}: ' + ' '.join(problems))
