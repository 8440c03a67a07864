"""Kill and resume with 2 processes: the quickstart config trained by dist_train.sh, one rank killed with SIGKILL in
the middle of epoch 2, then ``--resume``: training continues from epoch_1.pth and ends with the same weights and the
same final metric as an uninterrupted run with the same seed and ``--deterministic``."""
import os
import re
import signal
import subprocess
from pathlib import Path

import torch

from pyskl.datasets.synthetic import label_map_path, write_synthetic_dataset
from tests.tools.helpers import REPO, bash_tool, tool_env, wait_for

CONFIG = REPO / 'configs' / 'quickstart' / 'stgcn++_synthetic_ntu3d_j.py'


def rank_pid(config: Path, rank: int):
    """The pid of the training process of ``rank`` (a torchrun worker running ``config``), or None."""
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / 'cmdline').read_bytes().split(b'\0')
            environ = (entry / 'environ').read_bytes().split(b'\0')
        except OSError:
            continue
        if str(config).encode() in cmdline and any(c.endswith(b'train.py') for c in cmdline) \
                and f'RANK={rank}'.encode() in environ:
            return int(entry.name)
    return None


def _args(data, work):
    ann, labels = data / 'ntu3d.pkl', label_map_path(str(data / 'ntu3d.pkl'))
    options = [f'{split}_dataloader.dataset.{key}={value}' for split in ('train', 'val', 'test')
               for key, value in (('ann_file', ann), ('label_map', labels))]
    return ['--work-dir', work, '--validate', '--seed', 0, '--deterministic', '--cfg-options',
            'train_cfg.max_epochs=3', 'param_scheduler.0.T_max=3', 'default_hooks.logger.interval=1', *options]


def _final_val(log_text):
    found = re.findall(r'Epoch\(val\) \[3\]\[\d+/\d+\]\s+top1_acc: ([0-9.]+)', log_text)
    assert found, log_text[-3000:]
    return found[-1]


def test_killing_one_rank_and_resuming_ends_like_an_uninterrupted_run(tmp_path):
    data = tmp_path / 'data'
    write_synthetic_dataset(str(data / 'ntu3d.pkl'), 'ntu3d', num_train=600, num_val=60, seed=0)
    whole = bash_tool('dist_train.sh', CONFIG, 2, *_args(data, tmp_path / 'whole'), timeout=1800)

    work = tmp_path / 'killed'
    log = open(tmp_path / 'killed.log', 'w')
    proc = subprocess.Popen(['bash', str(REPO / 'tools' / 'dist_train.sh'), str(CONFIG), '2',
                             *map(str, _args(data, work))], cwd=REPO, env=tool_env(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: (work / 'epoch_1.pth').exists() or proc.poll() is not None, 900, 'epoch_1.pth')
        wait_for(lambda: 'Epoch(train) [2][' in (tmp_path / 'killed.log').read_text() or proc.poll() is not None,
                  300, 'epoch 2 to start')
        assert proc.poll() is None, 'training ended before it could be killed'
        victim = rank_pid(CONFIG, 1)
        assert victim is not None, 'rank 1 not found'
        os.kill(victim, signal.SIGKILL)
        assert proc.wait(timeout=300) != 0  # torchrun stops the other rank and fails
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    assert not (work / 'epoch_2.pth').exists(), 'killed too late: epoch 2 had finished'

    resumed = bash_tool('dist_train.sh', CONFIG, 2, *_args(data, work), '--resume', timeout=1800)
    assert 'resumed epoch: 1' in resumed.stdout + resumed.stderr
    assert 'Epoch(train) [1][' not in resumed.stdout, 'the resumed run trained epoch 1 again'
    assert _final_val(resumed.stdout) == _final_val(whole.stdout)
    ours = torch.load(work / 'epoch_3.pth', map_location='cpu', weights_only=False)['state_dict']
    theirs = torch.load(tmp_path / 'whole' / 'epoch_3.pth', map_location='cpu', weights_only=False)['state_dict']
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
