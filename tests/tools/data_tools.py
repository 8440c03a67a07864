"""The tools/data command lines, loaded as modules so that tests call their ``main(argv)`` in this process (a new
interpreter per call would spend seconds importing torch)."""
import importlib.util

from .helpers import REPO


def data_tool(name: str):
    """``tools/data/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(f'data_tool_{name}', REPO / 'tools' / 'data' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_data_tool(capsys, name: str, *args):
    """``(exit status, stdout, stderr)`` of ``tools/data/<name>.py ARGS``."""
    status = data_tool(name).main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err
