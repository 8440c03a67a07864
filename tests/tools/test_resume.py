"""--resume continues a killed run from its last checkpoint instead of starting over."""
import os
import signal
import subprocess
import sys

import torch

from .helpers import REPO, python_tool, tool_env, wait_for, write_tiny_config


def test_resume_after_kill_mid_epoch(tmp_path):
    # 240 samples, batch 2: 120 iterations per epoch (about a second even on a fast machine), so that the kill lands
    # in the middle of epoch 2.
    cfg = write_tiny_config(tmp_path, max_epochs=3, batch_size=2, num_train=240)
    work = tmp_path / 'work'
    log = open(tmp_path / 'first_run.log', 'w')
    # unbuffered, so that the log shows epoch 2's first iteration when it happens, not a buffer later
    proc = subprocess.Popen([sys.executable, str(REPO / 'tools' / 'train.py'), str(cfg), '--seed', '0'], cwd=REPO,
                            env=dict(tool_env(), PYTHONUNBUFFERED='1'), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_for(lambda: (work / 'epoch_1.pth').exists() or proc.poll() is not None, 240, 'epoch_1.pth')
        assert proc.poll() is None, 'training ended before it could be killed: make the epochs longer'
        wait_for(lambda: 'Epoch(train) [2][' in (tmp_path / 'first_run.log').read_text(), 60, 'epoch 2 to start',
                 poll=0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
    assert not (work / 'epoch_2.pth').exists(), 'killed too late: epoch 2 had finished'

    resumed = python_tool('train.py', cfg, '--seed', '0', '--resume')
    text = resumed.stdout + resumed.stderr
    assert 'resumed epoch: 1, iter: 120' in text, text[-3000:]
    assert 'Epoch(train) [1][' not in text, 'the resumed run trained epoch 1 again'
    final = torch.load(work / 'epoch_3.pth', map_location='cpu', weights_only=False)
    assert final['meta']['epoch'] == 3 and final['meta']['iter'] == 360
