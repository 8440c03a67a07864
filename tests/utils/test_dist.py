"""init_distributed: gloo on a CPU-only machine, and the process group destroyed at exit, before the interpreter
tears down gloo's threads (left to finalisation they now and then abort a rank that succeeded). A finished
Runner's DDP wrapper lives on in reference cycles and holds the group too: it is collected first."""
import socket
import subprocess
import sys

from tests.conftest import REPO_ROOT

SCRIPT = '''
import atexit
import weakref
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from pyskl.utils.dist import init_distributed

# registered first, so it runs after the handlers init_distributed adds
atexit.register(lambda: print('at exit: initialised', dist.is_initialized(), '- DDP alive', ddp() is not None))
print('backend:', init_distributed('pytorch'))
cycle = {'ddp': DistributedDataParallel(torch.nn.Linear(2, 2))}
cycle['self'] = cycle  # as a finished Runner keeps its wrapped model: unreachable, but not freed
ddp = weakref.ref(cycle['ddp'])
tensor = torch.ones(2)
dist.all_reduce(tensor)
print('sum:', tensor.tolist())
del cycle
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_the_process_group_and_what_holds_it_are_freed_at_exit():
    env = dict(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()),
               CUDA_VISIBLE_DEVICES='', PYTHONPATH=str(REPO_ROOT), PATH='/usr/bin:/bin')
    proc = subprocess.run([sys.executable, '-c', SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines() == ['backend: gloo', 'sum: [1.0, 1.0]',
                                        'at exit: initialised False - DDP alive False']
