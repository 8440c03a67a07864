"""Starting torch.distributed the way the machine allows: NCCL on GPUs, gloo on a CPU-only machine.

mmengine's ``init_dist('pytorch')`` always calls ``torch.cuda.set_device`` and its Runner wraps DDP with
``device_ids=[rank]``; both fail without CUDA. We initialise the process group ourselves (the Runner then skips its
own init) and give the Runner a DDP wrapper config without device ids on CPU.
"""
import atexit
import gc
import os
from typing import Optional

import torch
import torch.distributed as dist


def launched_by_torchrun() -> bool:
    return all(k in os.environ for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'))


def slurm_environment(environ=os.environ) -> dict:
    """torchrun's variables from Slurm's, for a task started by ``srun`` (``tools/slurm_*.sh``): the rank, the world
    size, the rank on the node, and the first node of the allocation as the rendezvous (``MASTER_ADDR`` and
    ``MASTER_PORT`` are kept when set; the port defaults to 29500)."""
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID', 'SLURM_NODELIST') if k not in environ]
    if missing:
        raise RuntimeError(f'--launcher slurm needs the variables srun sets ({", ".join(missing)} are missing): '
                           'start through tools/slurm_train.sh / slurm_test.sh')
    master = environ.get('MASTER_ADDR')
    if not master:
        import subprocess
        try:
            nodes = subprocess.run(['scontrol', 'show', 'hostnames', environ['SLURM_NODELIST']], check=True,
                                   capture_output=True, text=True).stdout.split()
        except (OSError, subprocess.CalledProcessError) as e:
            raise RuntimeError(f"cannot list the nodes of {environ['SLURM_NODELIST']} with scontrol ({e}); set "
                               'MASTER_ADDR to the first node') from e
        master = nodes[0]
    return dict(RANK=environ['SLURM_PROCID'], WORLD_SIZE=environ['SLURM_NTASKS'],
                LOCAL_RANK=environ['SLURM_LOCALID'], MASTER_ADDR=master,
                MASTER_PORT=environ.get('MASTER_PORT') or '29500')


def init_distributed(launcher: str, backend: Optional[str] = None, timeout_s: int = 1800) -> str:
    """Initialise the process group for ``launcher`` ('none', 'pytorch' under torchrun or 'slurm' under srun);
    returns the backend in use ('' if none).

    Without CUDA the backend is gloo and the processes run on the CPU.
    """
    if launcher == 'none':
        return ''
    if launcher == 'slurm':
        os.environ.update(slurm_environment())
    elif launcher != 'pytorch':
        raise ValueError(f"launcher must be 'none', 'pytorch' (torchrun) or 'slurm' (srun), got {launcher!r}")
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
    atexit.register(destroy_distributed)
    return backend


def destroy_distributed():
    """Destroy the process group, if one is up, while the interpreter is whole. A rank that exits without it leaves
    gloo's worker threads to interpreter finalisation, which now and then aborts the process ("terminate called
    without an active exception", exit -6) after a run that succeeded; ``init_distributed`` registers it at exit.
    The finished Runner's DDP wrapper (kept in reference cycles) holds the group too: collect it first, so that the
    group is freed here and not during finalisation."""
    if dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


def ddp_wrapper_cfg(find_unused_parameters: bool = False) -> Optional[dict]:
    """The Runner's ``model_wrapper_cfg``: None on GPUs (mmengine's default, device_ids=[local rank]); on CPU a DDP
    wrapper without device ids."""
    if torch.cuda.is_available():
        return None
    return dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
                find_unused_parameters=find_unused_parameters)


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside a DDP (or other mmengine model wrapper) the Runner made, else ``model`` itself."""
    from mmengine.model import is_model_wrapper
    return model.module if is_model_wrapper(model) else model
