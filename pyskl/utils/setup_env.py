"""Registering pyskl's modules with mmengine."""
import importlib


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers something, and (optionally) make ``pyskl`` mmengine's default scope so
    that ``type='STGCN'`` in a config resolves to pyskl's class."""
    for name in ('pyskl.datasets', 'pyskl.models', 'pyskl.evaluation', 'pyskl.engine'):
        importlib.import_module(name)
    if init_default_scope:
        from mmengine.registry import DefaultScope
        never_created = DefaultScope.get_current_instance() is None or not DefaultScope.check_instance_created('pyskl')
        if never_created:
            DefaultScope.get_instance('pyskl', scope_name='pyskl')
