"""Pieces the backbones share: the GCNs' stage plan, per-stage kwargs and data BatchNorm; pretrained loading; the
3D CNNs' frozen stages and channels-last input."""
import copy
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

EPS = 1e-4


def split_block_kwargs(kwargs: dict, owner: str) -> Tuple[dict, dict]:
    """Split ``gcn_*`` and ``tcn_*`` options (prefix removed); anything else is an error naming it."""
    gcn = {k[4:]: v for k, v in kwargs.items() if k.startswith('gcn_')}
    tcn = {k[4:]: v for k, v in kwargs.items() if k.startswith('tcn_')}
    other = sorted(k for k in kwargs if not k.startswith(('gcn_', 'tcn_')))
    if other:
        raise TypeError(f'{owner}: unexpected arguments {other}; block options must start with gcn_ or tcn_')
    return gcn, tcn


def layerwise_kwargs(kwargs: dict, num_stages: int) -> List[dict]:
    """One kwargs dict per stage; a tuple value of length ``num_stages`` is spread over the stages.
    ``tcn_dropout`` never applies to the first stage (PYSKL)."""
    per_stage = [copy.deepcopy(kwargs) for _ in range(num_stages)]
    for k, v in kwargs.items():
        if isinstance(v, tuple) and len(v) == num_stages:
            for i in range(num_stages):
                per_stage[i][k] = v[i]
    per_stage[0].pop('tcn_dropout', None)
    return per_stage


def stage_plan(in_channels: int, base_channels: int, ch_ratio: float, num_stages: int, inflate_stages: Sequence[int],
               down_stages: Sequence[int], kwargs: dict):
    """PYSKL's block plan: ``[(in, out, stride, residual)]`` and the kwargs of each block.

    Stage 1 is an input block (``in_channels -> base_channels``, no residual) that exists only when the widths
    differ; stages 2..num_stages follow, doubling width at ``inflate_stages`` and halving time at ``down_stages``.
    """
    per_stage = layerwise_kwargs(kwargs, num_stages)
    plan, block_kwargs = [], []
    if in_channels != base_channels:
        plan.append((in_channels, base_channels, 1, False))
        block_kwargs.append(per_stage[0])
    inflate_times, width = 0, base_channels
    for i in range(2, num_stages + 1):
        stride = 1 + (i in down_stages)
        inflate_times += i in inflate_stages
        out = int(base_channels * ch_ratio**inflate_times + EPS)
        plan.append((width, out, stride, True))
        block_kwargs.append(per_stage[i - 1])
        width = out
    return plan, block_kwargs


def build_data_bn(data_bn_type: str, num_person: int, in_channels: int, num_node: int) -> nn.Module:
    if data_bn_type == 'MVC':
        return nn.BatchNorm1d(num_person * in_channels * num_node)
    if data_bn_type == 'VC':
        return nn.BatchNorm1d(in_channels * num_node)
    return nn.Identity()


def check_input(owner: str, x: torch.Tensor, num_node: int, in_channels: int, num_person=None) -> None:
    """Refuse an input that is not ``[N, M, T, V, C]`` with the backbone's V and C (and M, when a per-person data BN
    fixes it) with a message naming the expected shape."""
    expected = (x.size(1) if num_person is None else num_person, num_node, in_channels)
    if x.dim() != 5 or (x.shape[1], ) + x.shape[3:] != expected:
        M = 'M' if num_person is None else f'M={num_person}'
        raise ValueError(f'{owner}: expected input [N, {M}, T, V={num_node}, C={in_channels}], got {tuple(x.shape)}')


def data_bn_forward(data_bn: nn.Module, data_bn_type: str, x: torch.Tensor) -> torch.Tensor:
    """``[N, M, T, V, C]`` -> normalised ``[N * M, C, T, V]``; the BN channels are ordered (M,) V, C."""
    N, M, T, V, C = x.shape
    x = x.permute(0, 1, 3, 4, 2).contiguous()
    if data_bn_type == 'MVC':
        x = data_bn(x.view(N, M * V * C, T))
    else:
        x = data_bn(x.view(N * M, V * C, T))
    return x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2).contiguous().view(N * M, C, T, V)


def load_pretrained(module: nn.Module, pretrained, strict: bool = False) -> None:
    """Load ``pretrained`` (a checkpoint path) into a backbone (non-strictly by default, reporting mismatched
    keys)."""
    if isinstance(pretrained, str):
        from pyskl.utils.checkpoint import load_checkpoint
        load_checkpoint(module, pretrained, strict=strict)


def freeze_and_norm_eval(model: nn.Module, frozen: Sequence[nn.Module], norm_eval: bool, mode: bool) -> None:
    """After ``model.train(mode)``: ``frozen`` modules stay in eval mode without gradients, and with ``norm_eval``
    every BatchNorm of a training model keeps its running statistics (the 3D CNNs' ``frozen_stages`` and
    ``norm_eval``)."""
    for module in frozen:
        module.eval()
        for param in module.parameters():
            param.requires_grad = False
    if mode and norm_eval:
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                m.eval()


def channels_last_on_cpu(x: torch.Tensor) -> torch.Tensor:
    """``x`` in channels-last memory on CPU: oneDNN's 3D convolutions (and the layers after them, which keep the
    format) train faster on it, with the same results to float rounding (eval outputs within ~1e-6). Measured on 2
    cores, a [4, 17, 16, 56, 56] training step: SlowOnly-R50 (PoseC3D) 1.2 -> 0.9 s, X3D-shallow 0.26 -> 0.15 s;
    C3D gains nothing and is left as is. (With one thread PyTorch runs 1x1x1 convs on a kernel of its own, which
    returns contiguous tensors; the results are the same.)"""
    return x.contiguous(memory_format=torch.channels_last_3d) if x.device.type == 'cpu' else x
