"""keep_freed_memory: freed activations stay in the process (glibc), and user malloc settings win."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc malloc tuning is Linux-only')

# Allocate and free a 256 MiB tensor, then report (tuned?, RSS in MiB after the free).
PROBE = """
import sys, torch
from pyskl.utils.memory import keep_freed_memory
tuned = keep_freed_memory() if sys.argv[1] == 'tune' else False
x = torch.ones(64 << 20)
del x
rss = int(open('/proc/self/statm').read().split()[1]) * 4096 >> 20
print(tuned, rss)
"""


def probe(mode, **env):
    out = subprocess.run([sys.executable, '-c', PROBE, mode], env={**os.environ, **env}, capture_output=True,
                         text=True, check=True).stdout.split()
    return out[0] == 'True', int(out[1])


def test_freed_blocks_stay_in_the_process_only_when_tuned():
    tuned, rss_tuned = probe('tune')
    plain, rss_plain = probe('plain')
    assert tuned and not plain
    # glibc unmaps a freed 256 MiB block at once; tuned, the heap keeps it for the next iteration
    assert rss_tuned > rss_plain + 200, (rss_tuned, rss_plain)


def test_user_malloc_settings_win():
    tuned, _ = probe('tune', MALLOC_ARENA_MAX='2')
    assert not tuned
