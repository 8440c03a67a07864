"""Scaling out: two "nodes" on this machine (two torchrun launches with NNODES=2 on 127.0.0.1, gloo) train exactly as
one node with 2 processes (bit-identical weights) and test each sample exactly once; tools/slurm_train.sh and
slurm_test.sh under a stand-in ``srun`` (one task per "GPU", the variables Slurm sets) do the same."""
import os
import socket
import stat
import subprocess

import numpy as np
import pytest
import torch

from tests.reliability.helpers import read_pickle
from tests.tools.helpers import REPO, bash_tool, python_tool, tool_env, write_tiny_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def two_nodes(script, *args, timeout=900):
    """Run ``tools/<script> args`` as node 0 and node 1 of a 2-node job, side by side; returns node 0's output."""
    port = free_port()
    procs = [subprocess.Popen(['bash', str(REPO / 'tools' / script), *map(str, args)], cwd=REPO,
                              env=dict(tool_env(), NNODES='2', NODE_RANK=str(rank), MASTER_ADDR='127.0.0.1',
                                       MASTER_PORT=str(port)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in (0, 1)]
    outputs = [proc.communicate(timeout=timeout) for proc in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, f'{proc.args} failed:\n{out[-3000:]}\n{err[-5000:]}'
    return outputs[0][0]


def _weights(path):
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('nodes')
    cfg = write_tiny_config(tmp)
    reference = tmp / 'one_node'
    bash_tool('dist_train.sh', cfg, 2, '--work-dir', reference, '--seed', 0, '--deterministic', timeout=900)
    single = tmp / 'single.pkl'
    python_tool('test.py', cfg, reference / 'epoch_2.pth', '--out', single)
    return tmp, cfg, reference / 'epoch_2.pth', np.stack(read_pickle(single))


def test_two_nodes_train_like_one_and_test_each_sample_once(tiny):
    tmp, cfg, reference, single = tiny
    work = tmp / 'two_nodes'
    two_nodes('dist_train.sh', cfg, 1, '--work-dir', work, '--seed', 0, '--deterministic')
    ours, theirs = _weights(work / 'epoch_2.pth'), _weights(reference)
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in theirs)

    out = tmp / 'two_nodes.pkl'
    stdout = two_nodes('dist_test.sh', cfg, reference, 1, '--out', out)
    assert 'top1_acc' in stdout
    np.testing.assert_allclose(np.stack(read_pickle(out)), single, rtol=0, atol=1e-6)


FAKE_SRUN = '''#!/usr/bin/env bash
# A stand-in for Slurm's srun on one machine: starts --ntasks copies of the command with the variables Slurm sets.
ntasks=1
while [ $# -gt 0 ]; do
    case $1 in
        --ntasks=*) ntasks=${1#--ntasks=}; shift ;;
        -p) shift 2 ;;
        -*) shift ;;
        *) break ;;
    esac
done
pids=()
for ((i = 0; i < ntasks; i++)); do
    SLURM_PROCID=$i SLURM_NTASKS=$ntasks SLURM_LOCALID=$i SLURM_NODELIST=fakenode[1] "$@" &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
'''
FAKE_SCONTROL = '''#!/usr/bin/env bash
# scontrol show hostnames NODELIST: the first node is this machine
echo 127.0.0.1
'''


def test_slurm_scripts_run_one_task_per_gpu(tiny, tmp_path):
    _, cfg, reference, single = tiny
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('srun', FAKE_SRUN), ('scontrol', FAKE_SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    env = dict(tool_env(), PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', GPUS='2', GPUS_PER_NODE='2', GRES='',
               MASTER_PORT=str(free_port()))
    env.pop('MASTER_ADDR', None)
    work = tmp_path / 'work'
    train = subprocess.run(['bash', str(REPO / 'tools' / 'slurm_train.sh'), 'cpu', 'tiny', str(cfg), '--work-dir',
                            str(work), '--seed', '0', '--deterministic'], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=900)
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]
    ours, theirs = _weights(work / 'epoch_2.pth'), _weights(reference)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)  # 2 tasks = 2 torchrun processes

    out = tmp_path / 'slurm.pkl'
    env['MASTER_PORT'] = str(free_port())
    test = subprocess.run(['bash', str(REPO / 'tools' / 'slurm_test.sh'), 'cpu', 'tiny', str(cfg), str(reference),
                           '--out', str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
    np.testing.assert_allclose(np.stack(read_pickle(out)), single, rtol=0, atol=1e-6)
