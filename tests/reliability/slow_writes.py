"""Fault injection for the kill-during-save test, imported by a config's ``custom_imports``: the atomic writes of the
file named by ``$PYSKL_SLOW_WRITE`` go through in small chunks with pauses, so that a test can kill the process
while that checkpoint is being written. Only the temporary files of ``pyskl.utils.fileio.atomic_write`` are slowed:
if checkpoints were not written through it, the test would see no temporary file and fail."""
import os
import tempfile
import time

from tests.reliability.helpers import FileProxy, proxied_temporaries

CHUNK = 4096


class _SlowFile(FileProxy):

    def write(self, data):
        data = memoryview(data).cast('B')
        for start in range(0, len(data), CHUNK):
            self._file.write(data[start:start + CHUNK])
            self._file.flush()
            time.sleep(0.05)
        return len(data)


def _is_slowed(prefix):
    return prefix == f".{os.environ.get('PYSKL_SLOW_WRITE')}."


tempfile.mkstemp, os.fdopen, _ = proxied_temporaries(_is_slowed, _SlowFile)
