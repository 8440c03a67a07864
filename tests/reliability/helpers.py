"""Running the command-line tools in the test process (seconds faster than a subprocess each), corrupting the tiny
dataset of ``tests/tools/helpers.py``, and faults injected into ``pyskl.utils.fileio.atomic_write``'s files."""
import logging
import os
import pickle
import sys
import tempfile

import torch
from mmengine.config import Config

from pyskl.registry import MODELS
from pyskl.utils.errors import run_tool
from tests.conftest import load_script
from tests.tools.helpers import REPO, write_tiny_config  # noqa: F401 (re-exported)


def run_tool_here(path: str, *args, capsys):
    """``python tools/<path> args`` as its ``__main__`` runs it: ``(exit status, stdout, stderr)``."""
    capsys.readouterr()
    try:
        status = run_tool(load_script(f'tools/{path}').main, [str(a) for a in args])
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


def tiny_with_checkpoint(tmp):
    """The tiny config in ``tmp`` (NTU-25 3D skeletons, 3 classes, splits 'train' (12) and 'val' (7)), and a
    checkpoint of its freshly built model: ``(tmp, config file, checkpoint, the data)``."""
    cfg_file = write_tiny_config(tmp)
    ckpt = tmp / 'init.pth'
    torch.save(MODELS.build(Config.fromfile(cfg_file).model).state_dict(), ckpt)
    return tmp, cfg_file, ckpt, read_pickle(tmp / 'tiny.pkl')


# -- fault injection into atomic writes ------------------------------------------------------------------------------
class FileProxy:
    """A file object that passes everything to ``file``; a subclass replaces ``write`` to inject a fault."""

    def __init__(self, file):
        self._file = file

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._file.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._file, name)


def proxied_temporaries(is_target, proxy):
    """Replacements for ``tempfile.mkstemp`` and ``os.fdopen`` (as they are now) under which the temporary files whose
    ``mkstemp`` prefix passes ``is_target`` (``atomic_write`` of ``<name>`` uses ``.<name>.``) open as
    ``proxy(file)``; and the set of those files' descriptors. Patching the two in is the caller's business."""
    real_mkstemp, real_fdopen, targets = tempfile.mkstemp, os.fdopen, set()

    def mkstemp(*args, prefix='', **kwargs):
        fd, path = real_mkstemp(*args, prefix=prefix, **kwargs)
        if is_target(prefix):
            targets.add(fd)
        return fd, path

    def fdopen(fd, *args, **kwargs):
        file = real_fdopen(fd, *args, **kwargs)
        return proxy(file) if fd in targets else file

    return mkstemp, fdopen, targets
