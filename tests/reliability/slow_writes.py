"""Fault injection for the kill-during-save test, imported by a config's ``custom_imports``: the atomic writes of the
file named by ``$PYSKL_SLOW_WRITE`` go through in small chunks with pauses, so that a test can kill the process
while that checkpoint is being written. Only the temporary files of ``pyskl.utils.fileio.atomic_write`` are slowed:
if checkpoints were not written through it, the test would see no temporary file and fail."""
import os
import tempfile
import time

CHUNK = 4096
_slow, _mkstemp, _fdopen = set(), tempfile.mkstemp, os.fdopen


class _SlowFile:

    def __init__(self, file):
        self._file = file

    def write(self, data):
        data = memoryview(data).cast('B')
        for start in range(0, len(data), CHUNK):
            self._file.write(data[start:start + CHUNK])
            self._file.flush()
            time.sleep(0.05)
        return len(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._file.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._file, name)


def _slow_mkstemp(*args, prefix='', **kwargs):
    fd, path = _mkstemp(*args, prefix=prefix, **kwargs)
    if prefix == f".{os.environ.get('PYSKL_SLOW_WRITE')}.":
        _slow.add(fd)
    return fd, path


def _slow_fdopen(fd, *args, **kwargs):
    file = _fdopen(fd, *args, **kwargs)
    return _SlowFile(file) if fd in _slow else file


tempfile.mkstemp = _slow_mkstemp
os.fdopen = _slow_fdopen
