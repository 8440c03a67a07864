"""keep_freed_memory: freed activations stay in the process (glibc), and user malloc settings win;
release_free_memory gives them back when asked (PoseDataset does once its annotations are packed)."""
import functools
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
if len(sys.argv) > 2:
    from pyskl.utils.memory import release_free_memory
    assert release_free_memory()
rss = int(open('/proc/self/statm').read().split()[1]) * 4096 >> 20
print(tuned, rss)
"""


@functools.lru_cache(maxsize=None)  # each probe starts Python and torch: run each once
def probe(mode, *more, **env):
    out = subprocess.run([sys.executable, '-c', PROBE, mode, *more], env={**os.environ, **env}, capture_output=True,
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


def test_release_free_memory_gives_the_kept_blocks_back():
    _, rss_kept = probe('tune')
    tuned, rss_released = probe('tune', 'release')
    assert tuned and rss_released < rss_kept - 200, (rss_released, rss_kept)
