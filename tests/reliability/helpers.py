"""Running the command-line tools in the test process (seconds faster than a subprocess each) and corrupting the tiny
dataset of ``tests/tools/helpers.py``."""
import importlib.util
import logging
import pickle
import sys
from pathlib import Path

from pyskl.utils.errors import run_tool
from tests.tools.helpers import REPO, write_tiny_config  # noqa: F401 (re-exported)

_TOOLS = {}


def tool_module(path: str):
    """``tools/<path>`` imported as a module (once)."""
    if path not in _TOOLS:
        spec = importlib.util.spec_from_file_location(f'pyskl_tool_{Path(path).stem}', REPO / 'tools' / path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _TOOLS[path] = module
    return _TOOLS[path]


def run_tool_here(path: str, *args, capsys):
    """``python tools/<path> args`` as its ``__main__`` runs it: ``(exit status, stdout, stderr)``."""
    capsys.readouterr()
    try:
        status = run_tool(tool_module(path).main, [str(a) for a in args])
    except SystemExit as exit:  # argparse and the tools that exit themselves
        status = exit.code
    finally:
        _detach_loggers_from(sys.stdout, sys.stderr)
    out, err = capsys.readouterr()
    return status, out, err


def _detach_loggers_from(*streams) -> None:
    """Point mmengine's console handlers that write to ``streams`` (capsys's, closed after the test) at the real
    stdout: the loggers outlive the run, and a later ``print_log`` would hit a closed file."""
    from mmengine.logging import MMLogger
    for logger in MMLogger._instance_dict.values():
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler and handler.stream in streams:
                handler.setStream(sys.__stdout__)


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ''


def read_pickle(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def write_pickle(path, content):
    with open(path, 'wb') as f:
        pickle.dump(content, f)
    return path
