"""Keeping freed memory in the process between iterations (glibc only).

A training step allocates the same large activation buffers every iteration. glibc serves blocks above its mmap
threshold (at most 32 MiB) with fresh ``mmap`` pages and returns them to the OS on free, so every iteration
page-faults through all of its activations again, and trims the heap top likewise. On the 2-core VMs we measured,
that is 5-15 % of a CPU training step (``benchmarks/bench_models.py --no-keep-memory`` shows it). Our entry points
(``tools/train.py``, ``tools/test.py``, the benchmarks) call :func:`keep_freed_memory` for their own process;
importing pyskl changes nothing.
"""
import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_MAX = -1, -2, -4  # glibc's mallopt parameters (malloc.h)


def keep_freed_memory(top_pad: int = 256 << 20) -> bool:
    """Serve every allocation from the heap and never trim it, so freed activations are reused, not re-faulted.

    No-op (returns False) off Linux/glibc, or when the user tunes glibc malloc through ``MALLOC_*`` environment
    variables or ``GLIBC_TUNABLES``: theirs wins. The process's peak RSS is unchanged; memory freed after the peak
    stays with the process instead of going back to the OS.
    """
    if not sys.platform.startswith('linux') or any(k.startswith('MALLOC_') or k == 'GLIBC_TUNABLES'
                                                   for k in os.environ):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other libcs have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(_M_MMAP_MAX, 0) == 1
    ok &= mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1  # the largest value an int takes: never trim
    ok &= mallopt(_M_TOP_PAD, top_pad) == 1  # grow the heap in big steps
    return bool(ok)


def release_free_memory() -> bool:
    """Give the heap's free pages back to the OS now (glibc's ``malloc_trim(0)``); no-op (False) elsewhere.

    ``PoseDataset`` calls it once its annotations are packed into mmengine's serialized buffer: the unpickled file
    and the per-sample dicts it came from have just been freed, about twice the annotation's size, and without a trim
    (``keep_freed_memory`` turns automatic trimming off) the main process would keep those pages when the dataloader
    workers fork from it.
    """
    if not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # musl and other libcs
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return bool(trim(0))
