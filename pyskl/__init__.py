"""pyskl: skeleton-based action recognition on mmengine."""
from .version import __version__

# Supported engine versions (inclusive lower bound, exclusive upper bound).
MMENGINE_RANGE = ('0.10.0', '1.0.0')
MMCV_RANGE = ('2.0.0', '2.3.0')


def _check_version(name, lower, upper):
    import importlib

    from packaging.version import Version  # shipped with pip/setuptools and a dependency of mmengine
    try:
        mod = importlib.import_module(name)
    except ImportError as e:  # pragma: no cover - import errors speak for themselves
        raise ImportError(f'pyskl needs {name} >= {lower}, < {upper}; it could not be imported: {e}') from e
    version = Version(mod.__version__)
    if not Version(lower) <= version < Version(upper):
        raise ImportError(f'pyskl supports {name} >= {lower}, < {upper}, but {name} {mod.__version__} is installed. '
                          f'Install a supported version, e.g. `pip install "{name}>={lower},<{upper}"`.')


_check_version('mmengine', *MMENGINE_RANGE)
_check_version('mmcv', *MMCV_RANGE)

__all__ = ['__version__']
