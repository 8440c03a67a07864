"""Writing outputs so that a crash never leaves half a file behind."""
import contextlib
import os
import os.path as osp
import pickle
import tempfile


@contextlib.contextmanager
def atomic_write(filename: str, mode: str = 'wb'):
    """Open a temporary file beside ``filename``; on success it replaces ``filename`` in one rename."""
    filename = osp.abspath(filename)
    os.makedirs(osp.dirname(filename), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(filename)}.', suffix='.tmp', dir=osp.dirname(filename))
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes owner-only files; give the usual permissions
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dump_pickle(obj, filename: str, protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
    """Pickle ``obj`` to ``filename`` atomically (``protocol=4`` for files that PYSKL's Python 3.7 must read)."""
    with atomic_write(filename, 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)


def _register_atomic_local_backend():
    """Make mmengine's local file backend write atomically, so a run killed while saving a checkpoint leaves the
    previous file intact instead of a truncated one that ``--resume`` would trip over."""
    from mmengine.fileio.backends import LocalBackend, register_backend

    class AtomicLocalBackend(LocalBackend):

        def put(self, obj: bytes, filepath) -> None:
            with atomic_write(str(filepath), 'wb') as f:
                f.write(obj)

        def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
            self.put(obj.encode(encoding), filepath)

    register_backend('local', AtomicLocalBackend, force=True, prefixes='')


_register_atomic_local_backend()
