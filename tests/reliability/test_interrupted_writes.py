"""Interrupted writers leave the old file or none, never half a file: checkpoints (killed during a save, then
``--resume``), ``tools/test.py --out``, converted checkpoints, extracted-skeleton annotations and ensemble outputs
(a writer failing half-way through), and a big pickle whose writer is killed."""
import contextlib
import errno
import os
import pickle
import signal
import subprocess
import sys
import time

import pytest
import torch

import pyskl.utils.fileio as fileio
from tests.tools.helpers import python_tool, tool_env, wait_for

from .helpers import (REPO, FileProxy, proxied_temporaries, read_pickle, run_tool_here, tiny_with_checkpoint,
                      write_tiny_config)


def _temporaries(folder):
    return sorted(p.name for p in folder.rglob('.*.tmp'))


# -- a kill during a checkpoint save ---------------------------------------------------------------------------------
def test_a_kill_during_a_checkpoint_save_leaves_the_previous_checkpoint_and_resume_works(tmp_path):
    cfg = write_tiny_config(tmp_path, max_epochs=3, num_train=12)
    cfg.write_text(cfg.read_text() + "\ncustom_imports = dict(imports=['tests.reliability.slow_writes'])\n")
    work = tmp_path / 'work'
    env = dict(tool_env(), PYSKL_SLOW_WRITE='epoch_2.pth')
    log = open(tmp_path / 'killed.log', 'w')
    proc = subprocess.Popen([sys.executable, str(REPO / 'tools' / 'train.py'), str(cfg), '--seed', '0'], cwd=REPO,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: list(work.glob('.epoch_2.pth.*.tmp')) or proc.poll() is not None, 240,
                 'the save of epoch_2.pth to start', poll=0.02)
        assert proc.poll() is None, (tmp_path / 'killed.log').read_text()[-3000:]
        time.sleep(0.2)  # well inside the write: it takes > 1 s
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
    assert (work / 'epoch_1.pth').exists() and not (work / 'epoch_2.pth').exists()
    assert (work / 'last_checkpoint').read_text().strip().endswith('epoch_1.pth')
    torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=False)  # whole

    resumed = python_tool('train.py', cfg, '--seed', '0', '--resume')
    text = resumed.stdout + resumed.stderr
    assert 'resumed epoch: 1, iter: 3' in text, text[-3000:]
    final = torch.load(work / 'epoch_3.pth', map_location='cpu', weights_only=False)
    assert final['meta']['epoch'] == 3


# -- writers failing half-way ----------------------------------------------------------------------------------------
class _HalfWriter(FileProxy):
    """A file whose writes stop half-way with 'No space left on device'."""

    def write(self, data):
        self._file.write(bytes(data)[:max(1, len(data) // 2)])
        raise OSError(errno.ENOSPC, 'No space left on device (injected)')


@contextlib.contextmanager
def failing_writes_of(monkeypatch, name):
    """Every atomic write of a file called ``name`` fails half-way through."""
    mkstemp, fdopen, doomed = proxied_temporaries(lambda prefix: prefix == f'.{name}.', _HalfWriter)
    with monkeypatch.context() as patch:
        patch.setattr(fileio.tempfile, 'mkstemp', mkstemp)
        patch.setattr(fileio.os, 'fdopen', fdopen)
        yield doomed


def _check_interrupted(monkeypatch, target, write, old=b'the old file'):
    """``write()`` with failing writes leaves ``target`` as it was (``old``, or absent), and no temporary file."""
    for before in (old, None):
        if before is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(before)
        with failing_writes_of(monkeypatch, target.name) as doomed:
            with pytest.raises(OSError, match='injected'):
                write()
        assert doomed, f'nothing wrote {target.name} through atomic_write'
        assert (target.read_bytes() if target.exists() else None) == before
        assert not _temporaries(target.parent)
    write()  # and without the fault the file is written
    assert target.exists() and target.read_bytes() != old


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    return tiny_with_checkpoint(tmp_path_factory.mktemp('writers'))[:3]


def test_test_out_is_the_old_file_or_none(trained, tmp_path, monkeypatch, capsys):
    tmp, cfg, ckpt = trained
    out = tmp_path / 'result.pkl'

    def write():
        copy = tmp_path / f'test_out_{len(list(tmp_path.glob("*_config.py")))}_config.py'
        copy.write_text(cfg.read_text())
        status, _, err = run_tool_here('test.py', copy, ckpt, '--out', out, '--work-dir', tmp_path / 'w',
                                       capsys=capsys)
        assert status == 0, err[-2000:]

    _check_interrupted(monkeypatch, out, write)
    assert len(read_pickle(out)) == 7


def test_a_converted_checkpoint_is_the_old_file_or_none(trained, tmp_path, monkeypatch):
    from pyskl.utils.convert import convert_checkpoint
    out = tmp_path / 'mmaction2.pth'
    _check_interrupted(monkeypatch, out, lambda: convert_checkpoint(str(trained[2]), str(out), src='pyskl',
                                                                    dst='mmaction2', family='stgcn'))
    assert 'state_dict' in torch.load(out, weights_only=True)


def test_an_extracted_annotation_is_the_old_file_or_none(tmp_path, monkeypatch):
    from pyskl.extraction import extract_skeletons, parse_video_list
    from tests.tools.spots import BrightSpots, moving_spot, write_spots_video
    listing = tmp_path / 'videos.txt'
    listing.write_text(''.join(f'{write_spots_video(tmp_path / f"v{i}.mp4", moving_spot(5 + i))} {i}\n'
                               for i in range(2)))
    out = tmp_path / 'skeletons.pkl'
    _check_interrupted(monkeypatch, out, lambda: extract_skeletons(parse_video_list(str(listing)), str(out),
                                                                   BrightSpots, progress=False))
    assert [a['frame_dir'] for a in read_pickle(out)] == ['v0', 'v1']


def test_an_ensemble_output_is_the_old_file_or_none(trained, tmp_path, monkeypatch, capsys):
    import numpy as np
    tmp = trained[0]
    scores = tmp_path / 'scores.pkl'
    with open(scores, 'wb') as f:
        pickle.dump([np.full(3, 1 / 3, np.float32)] * 7, f)
    out = tmp_path / 'fused.pkl'

    def write():
        status, _, err = run_tool_here('ensemble.py', '--scores', scores, scores, '--ann', tmp / 'tiny.pkl',
                                       '--split', 'val', '--out', out, capsys=capsys)
        assert status == 0, err

    _check_interrupted(monkeypatch, out, write)
    fused = read_pickle(out)
    assert len(fused) == 7 and np.allclose(fused[0], 2 / 3)


# -- a kill while a big pickle is written ----------------------------------------------------------------------------
WRITER = '''
import sys
import numpy as np
from pyskl.utils.fileio import dump_pickle
dump_pickle([np.ones(1 << 18, np.float64) + i for i in range(128)], sys.argv[1])  # 256 MiB in 2 MiB pieces
'''


@pytest.mark.parametrize('old', [b'the old scores', None])
def test_a_writer_killed_mid_write_leaves_the_old_file_or_none(tmp_path, old):
    out = tmp_path / 'big.pkl'
    if old is not None:
        out.write_bytes(old)
    proc = subprocess.Popen([sys.executable, '-c', WRITER, str(out)], cwd=REPO, env=tool_env())
    try:
        wait_for(lambda: any(p.stat().st_size > 1 << 20 for p in tmp_path.glob('.big.pkl.*.tmp'))
                 or proc.poll() is not None, 120, 'the write to start', poll=0.02)
        assert proc.poll() is None, 'the writer finished before it could be killed'
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (out.read_bytes() if out.exists() else None) == old
    # SIGKILL leaves the temporary file (nothing can clean up); it is hidden and never taken for the output.
    assert all(name.startswith('.big.pkl.') for name in _temporaries(tmp_path))
