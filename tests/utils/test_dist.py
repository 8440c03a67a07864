"""init_distributed: gloo on a CPU-only machine, and the process group destroyed at exit, before the interpreter
tears down gloo's threads (left to finalisation they now and then abort a rank that succeeded)."""
import socket
import subprocess
import sys

from tests.conftest import REPO_ROOT

SCRIPT = '''
import atexit
import torch
import torch.distributed as dist
from pyskl.utils.dist import init_distributed

atexit.register(lambda: print('initialised at exit:', dist.is_initialized()))  # runs after handlers added later
print('backend:', init_distributed('pytorch'))
tensor = torch.ones(2)
dist.all_reduce(tensor)
print('sum:', tensor.tolist())
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_the_process_group_is_destroyed_at_exit():
    env = dict(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()),
               CUDA_VISIBLE_DEVICES='', PYTHONPATH=str(REPO_ROOT), PATH='/usr/bin:/bin')
    proc = subprocess.run([sys.executable, '-c', SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines() == ['backend: gloo', 'sum: [1.0, 1.0]', 'initialised at exit: False']
