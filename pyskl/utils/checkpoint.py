"""Reading checkpoints of every generation PYSKL users have, and loading them with a clear account of the keys.

Accepted layouts: a flat ``state_dict`` (``demo/hagrid.pth``), an mmcv-1.x checkpoint (``meta``, ``state_dict``,
``optimizer``; keys maybe prefixed ``module.``) and an mmengine checkpoint (also ``message_hub``, schedulers, ...).

Files are read with ``torch.load(weights_only=True)``. mmengine checkpoints also pickle a few harmless engine and
numpy objects (``HistoryBuffer``, numpy scalars and arrays in the message hub and meta); those classes, and only those,
are allowed while our loader reads a file. The loader is registered as mmengine's local-file scheme, so the Runner's
``resume`` and ``load_from`` go through it too.
"""
import contextlib
import logging
import pickle
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Iterable, List, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

from .errors import InputNotFoundError, UserError


class CheckpointError(UserError, RuntimeError):
    """A checkpoint that cannot be read or does not fit the model."""


def _engine_safe_globals() -> list:
    """Classes mmengine and mmcv-1.x checkpoints pickle besides tensors: the message hub's ``HistoryBuffer`` and the
    numpy objects it (and the meta of older checkpoints) carries."""
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = [HistoryBuffer, np.ndarray, np.dtype]
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    allowed += [_reconstruct, scalar]
    allowed += [type(np.dtype(t)) for t in ('float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64',
                                            'uint8', 'bool')]
    return allowed


@contextlib.contextmanager
def engine_safe_globals():
    """Allow the engine's own harmless classes in ``torch.load(weights_only=True)`` within this block only."""
    with torch.serialization.safe_globals(_engine_safe_globals()):
        yield


def read_checkpoint(filename: str, map_location='cpu', trusted: bool = False) -> dict:
    """Read a local checkpoint file; errors name the file and say what is wrong.

    The file is first read with ``weights_only=True`` (plus :func:`engine_safe_globals`), which covers flat state
    dicts, PYSKL's mmcv-1.x checkpoints and published weights. mmengine *training* checkpoints also pickle the message
    hub's ``HistoryBuffer`` with its methods, which no weights-only reader can rebuild; such a file is read with
    ``weights_only=False`` only when ``trusted`` (the user named it: ``--resume``, ``load_from``, a checkpoint
    argument), and never otherwise.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise InputNotFoundError(f'Checkpoint {filename} does not exist')
    try:
        with engine_safe_globals():
            checkpoint = torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        if not trusted:
            raise CheckpointError(f'Checkpoint {filename} pickles Python objects beyond weights '
                                  f'({str(e).splitlines()[0][:200]}); load it as a trusted file only if you trust '
                                  'where it came from') from e
        print_log(f'{filename} holds more than weights (an mmengine training checkpoint); reading it fully because '
                  'you named it', logger='current', level=logging.DEBUG)
        checkpoint = _load_trusted(filename, map_location)
    except Exception as e:  # noqa: BLE001 - re-raised with the file named
        raise CheckpointError(f'Cannot read checkpoint {filename}: {type(e).__name__}: {str(e).splitlines()[0]}. '
                              'It is not a PyTorch checkpoint or it is corrupt.') from e
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'Checkpoint {filename} holds a {type(checkpoint).__name__}, not a dict of weights')
    return checkpoint


def _load_trusted(filename, map_location):
    try:
        return torch.load(filename, map_location=map_location, weights_only=False)
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(f'Cannot read checkpoint {filename}: {type(e).__name__}: {e}') from e


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename, map_location):
    """mmengine's local-file scheme (resume and ``load_from``): the user named these files, so they are trusted."""
    return read_checkpoint(filename, map_location, trusted=True)


def get_state_dict(checkpoint: dict, revise_keys: Iterable[Tuple[str, str]] = ((r'^module\.', ''), )) -> OrderedDict:
    """The model weights of any accepted layout, with DDP's ``module.`` prefix removed."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        raise CheckpointError(f"The checkpoint's state_dict is a {type(state_dict).__name__}, not a dict")
    for pattern, repl in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, repl, k), v) for k, v in state_dict.items())
    return state_dict


def compare_state_dict(model: nn.Module, state_dict: Dict[str, torch.Tensor]) -> Tuple[List, List, List]:
    """``(missing, unexpected, shape_mismatch)`` of ``state_dict`` against ``model``'s own keys."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    mismatch = [(k, tuple(state_dict[k].shape), tuple(own[k].shape)) for k in own
                if k in state_dict and hasattr(state_dict[k], 'shape') and state_dict[k].shape != own[k].shape]
    return missing, unexpected, mismatch


def describe_key_problems(missing, unexpected, mismatch, limit=20) -> str:
    """The missing, unexpected and mis-shaped keys, by name (the first ``limit`` of each)."""

    def listing(items):
        shown = ', '.join(str(i) for i in items[:limit])
        return shown + (f', ... ({len(items) - limit} more)' if len(items) > limit else '')

    parts = []
    if missing:
        parts.append(f'missing keys ({len(missing)}): {listing(missing)}')
    if unexpected:
        parts.append(f'unexpected keys ({len(unexpected)}): {listing(unexpected)}')
    if mismatch:
        parts.append('shape mismatches (key, checkpoint, model): ' + listing(mismatch))
    return '; '.join(parts)


def load_state_dict(model: nn.Module, state_dict: Dict[str, torch.Tensor], strict: bool = True,
                    source: str = 'the state_dict', logger='current') -> Tuple[List, List, List]:
    """Load weights; with ``strict`` any missing, unexpected or mis-shaped key is an error that lists them by name.
    Without ``strict`` the matching keys load and the rest is logged."""
    missing, unexpected, mismatch = compare_state_dict(model, state_dict)
    if (missing or unexpected or mismatch) and strict:
        raise CheckpointError(f'{source} does not match {type(model).__name__}: '
                              f'{describe_key_problems(missing, unexpected, mismatch)}')
    bad = {k for k, _, _ in mismatch}
    model.load_state_dict({k: v for k, v in state_dict.items() if k not in bad}, strict=False)
    if missing or unexpected or mismatch:
        print_log(f'Loaded {source} partially: {describe_key_problems(missing, unexpected, mismatch)}', logger=logger,
                  level=logging.WARNING)
    return missing, unexpected, mismatch


def load_checkpoint(model: nn.Module, filename: str, strict: bool = True, map_location='cpu',
                    revise_keys: Iterable[Tuple[str, str]] = ((r'^module\.', ''), ), logger='current',
                    trusted: bool = True) -> dict:
    """Load a checkpoint file (flat, mmcv-1.x or mmengine) into ``model``; returns the whole checkpoint dict.

    ``trusted`` (default: the caller names this file) allows reading mmengine training checkpoints; see
    :func:`read_checkpoint`."""
    checkpoint = read_checkpoint(filename, map_location, trusted=trusted)
    state_dict = get_state_dict(checkpoint, revise_keys)
    load_state_dict(model, state_dict, strict=strict, source=f'Checkpoint {filename}', logger=logger)
    return checkpoint


def save_checkpoint_atomic(obj, filename: str) -> None:
    """``torch.save`` to a temporary file beside ``filename``, then rename: readers never see half a file."""
    from .fileio import atomic_write
    with atomic_write(filename, 'wb') as f:
        torch.save(obj, f)


__all__ = [
    'CheckpointError', 'read_checkpoint', 'get_state_dict', 'compare_state_dict', 'load_state_dict',
    'load_checkpoint', 'engine_safe_globals', 'save_checkpoint_atomic', 'describe_key_problems'
]
