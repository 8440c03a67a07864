"""Starting torch.distributed the way the machine allows: NCCL on GPUs, gloo on a CPU-only machine.

mmengine's ``init_dist('pytorch')`` always calls ``torch.cuda.set_device`` and its Runner wraps DDP with
``device_ids=[rank]``; both fail without CUDA. We initialise the process group ourselves (the Runner then skips its
own init) and give the Runner a DDP wrapper config without device ids on CPU.
"""
import os
from typing import Optional

import torch
import torch.distributed as dist


def launched_by_torchrun() -> bool:
    return all(k in os.environ for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'))


def init_distributed(launcher: str, backend: Optional[str] = None, timeout_s: int = 1800) -> str:
    """Initialise the process group for ``launcher`` ('none' or 'pytorch'); returns the backend in use ('' if none).

    Without CUDA the backend is gloo and the processes run on the CPU.
    """
    if launcher == 'none':
        return ''
    if launcher != 'pytorch':
        raise ValueError(f"launcher must be 'none' or 'pytorch' (torchrun), got {launcher!r}")
    if not launched_by_torchrun():
        raise RuntimeError('--launcher pytorch needs the environment torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, '
                           'MASTER_ADDR, MASTER_PORT): start through tools/dist_train.sh / dist_test.sh, or use '
                           '--launcher none for a single process')
    if dist.is_initialized():
        return dist.get_backend()
    use_cuda = torch.cuda.is_available()
    backend = backend or ('nccl' if use_cuda else 'gloo')
    if use_cuda:
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']) % torch.cuda.device_count())
    import datetime
    dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout_s))
    return backend


def ddp_wrapper_cfg(find_unused_parameters: bool = False) -> Optional[dict]:
    """The Runner's ``model_wrapper_cfg``: None on GPUs (mmengine's default, device_ids=[local rank]); on CPU a DDP
    wrapper without device ids."""
    if torch.cuda.is_available():
        return None
    return dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
                find_unused_parameters=find_unused_parameters)
