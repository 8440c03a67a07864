"""Converting state dicts between PYSKL's key names (ours) and MMAction2 1.x's re-implementation of the same models.

MMAction2 1.x (``mmaction/models/backbones/{stgcn,aagcn}.py``, ``projects/{ctrgcn,msg3d}``,
``resnet3d{,_slowonly}.py``, ``c3d.py``, ``x3d.py`` and ``heads/{gcn_head,i3d_head}.py``) kept PYSKL's module names
inside the backbones; what differs is the GCN head, whose classifier MMAction2 calls ``cls_head.fc`` where PYSKL says
``cls_head.fc_cls`` (I3DHead says ``fc_cls`` in both). The PoseC3D families are ``resnet3d`` (ResNet3d,
ResNet3dSlowOnly), ``c3d`` and ``x3d``. Every family still gets its
own explicit table below: a key that no row of its family describes is an error, never silently dropped or passed
through, so a checkpoint of another model (or another version) cannot slip into a wrong one.

A row is ``(PYSKL key, MMAction2 key)`` with placeholders that must appear in the same order on both sides:
``{i}`` an index, ``{p}`` a conv/linear parameter (``weight``/``bias``), ``{bn}`` a BatchNorm entry.
DG-STGCN has no MMAction2 counterpart.
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from .checkpoint import CheckpointError, get_state_dict, load_state_dict, read_checkpoint, save_checkpoint_atomic

LAYOUTS = ('pyskl', 'mmaction2')
PLACEHOLDERS = {
    'i': r'\d+',
    'p': r'weight|bias',
    'bn': r'weight|bias|running_mean|running_var|num_batches_tracked',
}


def same(*templates: str, prefix: str = 'backbone.') -> List[Tuple[str, str]]:
    """Rows whose key is the same in both layouts."""
    return [(prefix + t, prefix + t) for t in templates]


# GCNHead: PYSKL's classifier is ``fc_cls``; MMAction2 1.x renamed it ``fc``.
GCN_HEAD = [('cls_head.fc_cls.{p}', 'cls_head.fc.{p}')]

# ST-GCN and ST-GCN++ are one backbone class (STGCN) with different options, so one table serves both.
STGCN_KEYS = same(
    'data_bn.{bn}',
    # unit_gcn: A (a buffer, or a Parameter with gcn_adaptive='init'), PA ('importance'/'offset'), the 1x1 conv, BN
    'gcn.{i}.gcn.A', 'gcn.{i}.gcn.PA', 'gcn.{i}.gcn.conv.{p}', 'gcn.{i}.gcn.bn.{bn}',
    # its residual when gcn_with_res=True and the width changes (ST-GCN++)
    'gcn.{i}.gcn.down.0.{p}', 'gcn.{i}.gcn.down.1.{bn}',
    # unit_tcn (ST-GCN, kernel 9); mstcn ends with the same 'bn'
    'gcn.{i}.tcn.conv.{p}', 'gcn.{i}.tcn.bn.{bn}',
    # mstcn (ST-GCN++): dilated branches (1x1 conv, BN, ReLU, unit_tcn without BN), a max-pool branch, a 1x1 branch
    'gcn.{i}.tcn.branches.{i}.0.{p}', 'gcn.{i}.tcn.branches.{i}.1.{bn}', 'gcn.{i}.tcn.branches.{i}.3.conv.{p}',
    'gcn.{i}.tcn.branches.{i}.{p}', 'gcn.{i}.tcn.transform.0.{bn}', 'gcn.{i}.tcn.transform.2.{p}',
    # the block's residual (a strided 1x1 unit_tcn)
    'gcn.{i}.residual.conv.{p}', 'gcn.{i}.residual.bn.{bn}',
) + GCN_HEAD

# MMAction2's AAGCNBlock builds only unit_tcn, so an AAGCN trained with tcn_type='mstcn' has no counterpart there.
AAGCN_KEYS = same(
    'A', 'data_bn.{bn}',
    # unit_aagcn: learned A, alpha, per-subset conv_d / conv_a / conv_b, the three attentions, down, bn
    'gcn.{i}.gcn.A', 'gcn.{i}.gcn.alpha', 'gcn.{i}.gcn.conv_d.{i}.{p}', 'gcn.{i}.gcn.conv_a.{i}.{p}',
    'gcn.{i}.gcn.conv_b.{i}.{p}', 'gcn.{i}.gcn.conv_ta.{p}', 'gcn.{i}.gcn.conv_sa.{p}', 'gcn.{i}.gcn.fc1c.{p}',
    'gcn.{i}.gcn.fc2c.{p}', 'gcn.{i}.gcn.down.0.{p}', 'gcn.{i}.gcn.down.1.{bn}', 'gcn.{i}.gcn.bn.{bn}',
    'gcn.{i}.tcn.conv.{p}', 'gcn.{i}.tcn.bn.{bn}',
    'gcn.{i}.residual.conv.{p}', 'gcn.{i}.residual.bn.{bn}',
) + GCN_HEAD

# MS-G3D's MSTCN (also CTR-GCN's): dilated branches ending in a unit_tcn with BN, a max-pool branch ending in a BN
# (index 4), a strided 1x1 conv + BN branch, and an optional unit_tcn residual.
MSTCN_KEYS = ('branches.{i}.0.{p}', 'branches.{i}.1.{bn}', 'branches.{i}.3.conv.{p}', 'branches.{i}.3.bn.{bn}',
              'branches.{i}.4.{bn}', 'residual.conv.{p}', 'residual.bn.{bn}')

CTRGCN_KEYS = same(
    'A', 'data_bn.{bn}',
    # unit_ctrgcn: learned A, alpha, one CTRGC (conv1..conv4) per subset, down, bn
    'net.{i}.gcn1.A', 'net.{i}.gcn1.alpha', 'net.{i}.gcn1.convs.{i}.conv{i}.{p}',
    'net.{i}.gcn1.down.0.{p}', 'net.{i}.gcn1.down.1.{bn}', 'net.{i}.gcn1.bn.{bn}',
    *('net.{i}.tcn1.' + k for k in MSTCN_KEYS),
    'net.{i}.residual.conv.{p}', 'net.{i}.residual.bn.{bn}',
) + GCN_HEAD

MSG3D_KEYS = same(
    'A', 'data_bn.{bn}',
    # G3D pathway: MW_MSG3DBlock -> one MSG3DBlock per window size -> (in1x1 MLP,) unfold + ST_MSGCN, out_conv, out_bn
    'gcn3d{i}.gcn3d.{i}.in1x1.layers.0.{p}', 'gcn3d{i}.gcn3d.{i}.in1x1.layers.1.{bn}',
    'gcn3d{i}.gcn3d.{i}.gcn3d.1.A', 'gcn3d{i}.gcn3d.{i}.gcn3d.1.PA',
    'gcn3d{i}.gcn3d.{i}.gcn3d.1.mlp.layers.0.{p}', 'gcn3d{i}.gcn3d.{i}.gcn3d.1.mlp.layers.1.{bn}',
    'gcn3d{i}.gcn3d.{i}.out_conv.{p}', 'gcn3d{i}.gcn3d.{i}.out_bn.{bn}',
    # spatial pathway: MSGCN (A, PA, MLP) then two MSTCNs
    'sgcn{i}.0.A', 'sgcn{i}.0.PA', 'sgcn{i}.0.mlp.layers.0.{p}', 'sgcn{i}.0.mlp.layers.1.{bn}',
    *('sgcn{i}.{i}.' + k for k in MSTCN_KEYS),
    *('tcn{i}.' + k for k in MSTCN_KEYS),
) + GCN_HEAD

# PoseC3D's backbones are mmcv ConvModules ('conv' + 'bn') in both, with the same module names; I3DHead is 'fc_cls' in
# both. ResNet3d covers ResNet3dSlowOnly (MMAction2's non-local blocks have no PYSKL counterpart).
I3D_HEAD = [('cls_head.fc_cls.{p}', 'cls_head.fc_cls.{p}')]
RESNET3D_KEYS = same(
    'conv1.conv.{p}', 'conv1.bn.{bn}',
    'layer{i}.{i}.conv{i}.conv.{p}', 'layer{i}.{i}.conv{i}.bn.{bn}',
    'layer{i}.{i}.downsample.conv.{p}', 'layer{i}.{i}.downsample.bn.{bn}',
) + I3D_HEAD

# PYSKL's C3D always has BN and bias-free convs, and no fc6 / fc7: MMAction2's C3D without BN (its sports1m
# weights: conv biases) or with its fully connected layers has no PYSKL form, so only the weight rows exist.
C3D_KEYS = same(
    'conv{i}a.conv.weight', 'conv{i}a.bn.{bn}', 'conv{i}b.conv.weight', 'conv{i}b.bn.{bn}',
) + I3D_HEAD

# MMAction2's X3D always applies Swish and fixes base_channels = 24 and stage_blocks = (1, 2, 5, 3) * gamma_d; the
# names agree, so PYSKL's X3D-shallow (no Swish, (2, 5, 3)) converts, though MMAction2 computes it differently.
X3D_KEYS = same(
    'conv1_s.conv.weight', 'conv1_t.conv.weight', 'conv1_t.bn.{bn}',
    'layer{i}.{i}.downsample.conv.weight', 'layer{i}.{i}.downsample.bn.{bn}',
    'layer{i}.{i}.conv{i}.conv.weight', 'layer{i}.{i}.conv{i}.bn.{bn}',
    'layer{i}.{i}.se_module.fc{i}.{p}',
    'conv5.conv.weight', 'conv5.bn.{bn}',
) + I3D_HEAD

KEY_MAPS = {
    'stgcn': STGCN_KEYS,
    'stgcn++': STGCN_KEYS,
    'aagcn': AAGCN_KEYS,
    'ctrgcn': CTRGCN_KEYS,
    'msg3d': MSG3D_KEYS,
    'resnet3d': RESNET3D_KEYS,
    'c3d': C3D_KEYS,
    'x3d': X3D_KEYS,
}
NO_MMACTION2 = {'dgstgcn': 'DG-STGCN'}
FAMILIES = tuple(KEY_MAPS) + tuple(NO_MMACTION2)


class KeyRule:
    """One row of a key map, compiled: match a key of one layout and write it in the other."""

    def __init__(self, pyskl: str, mmaction2: str):
        self.templates = dict(pyskl=pyskl, mmaction2=mmaction2)
        names = {side: re.findall(r'\{(\w+)\}', t) for side, t in self.templates.items()}
        if names['pyskl'] != names['mmaction2']:
            raise ValueError(f'key map row {pyskl!r} / {mmaction2!r}: placeholders differ')
        self.patterns = {side: self._compile(t) for side, t in self.templates.items()}

    @staticmethod
    def _compile(template: str) -> re.Pattern:
        parts = re.split(r'\{(\w+)\}', template)  # literal, name, literal, name, ..., literal
        regex = ''.join(re.escape(p) if k % 2 == 0 else f'({PLACEHOLDERS[p]})' for k, p in enumerate(parts))
        return re.compile(regex + r'\Z')

    def convert(self, key: str, src: str, dst: str) -> Optional[str]:
        """``key`` (in layout ``src``) written in layout ``dst``, or None when this row does not describe it."""
        match = self.patterns[src].match(key)
        if match is None:
            return None
        values = iter(match.groups())
        return re.sub(r'\{(\w+)\}', lambda _: next(values), self.templates[dst])


def key_rules(family: str) -> List[KeyRule]:
    if family in NO_MMACTION2:
        raise CheckpointError(f'{NO_MMACTION2[family]} has no MMAction2 implementation, so there is no key map for '
                              'it: its checkpoints are PYSKL checkpoints already')
    if family not in KEY_MAPS:
        raise ValueError(f'unknown model family {family!r}; choose one of {FAMILIES}')
    return [KeyRule(*row) for row in KEY_MAPS[family]]


def detect_family(state_dict: Dict[str, torch.Tensor]) -> str:
    """The model family from the backbone's module names (the same in both layouts)."""
    keys = list(state_dict)

    def has(pattern):
        return any(re.match(pattern, k) for k in keys)

    if has(r'backbone\.net\.\d+\.gcn1\.'):
        return 'ctrgcn'
    if has(r'backbone\.(gcn3d|sgcn)\d+\.'):
        return 'msg3d'
    if has(r'backbone\.gcn\.\d+\.gcn\.conv_d\.'):
        return 'aagcn'
    if has(r'backbone\.gcn\.\d+\.gcn\.pre\.') or has(r'backbone\.gcn\.\d+\.tcn\.add_coeff'):
        return 'dgstgcn'
    if has(r'backbone\.gcn\.\d+\.gcn\.conv\.'):
        return 'stgcn++' if has(r'backbone\.gcn\.\d+\.tcn\.branches\.') else 'stgcn'
    if has(r'backbone\.conv1_[st]\.'):
        return 'x3d'
    if has(r'backbone\.conv\d[ab]\.'):
        return 'c3d'
    if has(r'backbone\.conv1\.conv\.') and has(r'backbone\.layer\d+\.'):
        return 'resnet3d'
    shown = ', '.join(keys[:8]) + (' ...' if len(keys) > 8 else '')
    raise CheckpointError(f'cannot tell the model family from the state_dict keys ({shown}); pass family= '
                          f'(--family) as one of {FAMILIES}')


def _described(rules: List[KeyRule], keys, layout: str) -> int:
    return sum(any(rule.patterns[layout].match(key) for rule in rules) for key in keys)


def detect_layout(state_dict: Dict[str, torch.Tensor], family: Optional[str] = None) -> Optional[str]:
    """The layout (``'pyskl'`` or ``'mmaction2'``) whose key map describes more of ``state_dict``'s keys (for the GCNs
    the head tells: ``cls_head.fc_cls`` is PYSKL's, ``cls_head.fc`` MMAction2's), or None where both describe the same
    keys (the 3D CNNs: the two layouts name every key alike)."""
    rules = key_rules(family or detect_family(state_dict))
    counts = {layout: _described(rules, state_dict, layout) for layout in LAYOUTS}
    if counts['pyskl'] == counts['mmaction2']:
        return None
    return max(counts, key=counts.get)


def other_layout(layout: str) -> str:
    return LAYOUTS[1 - LAYOUTS.index(layout)]


def _check_layouts(src: str, dst: str) -> None:
    for name, value in (('src', src), ('dst', dst)):
        if value not in LAYOUTS:
            raise ValueError(f'{name} must be one of {LAYOUTS}, got {value!r}')
    if src == dst:
        raise ValueError(f'src and dst are both {src!r}: nothing to convert')


def convert_state_dict(state_dict: Dict[str, torch.Tensor], src: str = 'mmaction2', dst: str = 'pyskl',
                       family: Optional[str] = None) -> 'OrderedDict[str, torch.Tensor]':
    """Rename every key of ``state_dict`` from layout ``src`` to ``dst`` (``'pyskl'`` or ``'mmaction2'``).

    ``family`` (see :data:`FAMILIES`) is detected from the keys when not given. Tensors are passed on as they are
    (no shape differs between the two layouts). Keys the family's map does not describe raise
    :class:`CheckpointError` listing them.
    """
    _check_layouts(src, dst)
    family = family or detect_family(state_dict)
    rules = key_rules(family)
    converted, unknown = OrderedDict(), []
    for key, value in state_dict.items():
        new_key = next((k for k in (r.convert(key, src, dst) for r in rules) if k is not None), None)
        if new_key is None:
            unknown.append(key)
        elif new_key in converted:
            raise CheckpointError(f'two keys of the {src} state_dict map to {new_key!r}')
        else:
            converted[new_key] = value
    if unknown:
        shown = ', '.join(unknown[:20]) + (f', ... ({len(unknown) - 20} more)' if len(unknown) > 20 else '')
        raise CheckpointError(f'{len(unknown)} key(s) of the {src} state_dict are not in the {family} key map '
                              f'(not a {family} model, or a variant {dst} cannot hold): {shown}')
    return converted


def in_model_order(state_dict: Dict[str, torch.Tensor], model: nn.Module) -> 'OrderedDict[str, torch.Tensor]':
    """``state_dict`` ordered like ``model.state_dict()`` (PYSKL's key order), keys the model lacks last."""
    order = {k: n for n, k in enumerate(model.state_dict())}
    return OrderedDict(sorted(state_dict.items(), key=lambda kv: order.get(kv[0], len(order))))


def resolve_layouts(state_dict: Dict[str, torch.Tensor], src: str, dst: Optional[str], family: str,
                    name: str = 'the checkpoint') -> Tuple[str, str]:
    """``(src, dst)`` with ``src='auto'`` read from the keys (:func:`detect_layout`) and ``dst=None`` the other
    layout; the errors say which option to pass."""
    if src == 'auto':
        detected = detect_layout(state_dict, family)
        if detected is None:
            if dst is None:
                raise CheckpointError(f'{name}: PYSKL and MMAction2 name every key of a {family} model alike, so '
                                      'there is nothing to convert (either loads it as it is); to rewrite it anyway '
                                      'pass --src and --dst')
            detected = other_layout(dst)
        elif dst == detected:
            raise CheckpointError(f'{name} is in {detected}\'s layout already ({family}; its head is named as '
                                  f'{detected} names it), so there is nothing to convert to {dst}'
                                  + (': pyskl loads it as it is' if dst == 'pyskl' else ''))
        src = detected
    dst = dst or other_layout(src)
    _check_layouts(src, dst)
    return src, dst


def convert_checkpoint(in_file: str, out_file: str, src: str = 'auto', dst: Optional[str] = None,
                       family: Optional[str] = None, model: Optional[nn.Module] = None) -> dict:
    """Read ``in_file`` (flat, mmcv-1.x or mmengine layout), convert its weights and write ``out_file`` atomically as
    ``{'state_dict': ..., 'meta': {...}}``.

    ``src='auto'`` reads the input's layout from its keys and ``dst=None`` writes the other one (see
    :func:`resolve_layouts`). ``model`` is the PYSKL model of the pyskl side (built from a pyskl config): the
    pyskl-side state dict (the output for ``dst='pyskl'``, the input for ``src='pyskl'``) must then match it exactly
    (no missing or unexpected key, no shape difference; the error names them), and is loaded into it strictly.
    Returns the checkpoint written: ``state_dict``, the converted weights, and ``meta``, which records
    ``converted_from``, ``layout``, ``family`` and ``source`` (the input's file name).
    """
    if src not in LAYOUTS + ('auto', ) or dst not in LAYOUTS + (None, ):
        raise ValueError(f"src must be 'auto' or one of {LAYOUTS} and dst None or one of them, got {src!r}, {dst!r}")
    state_dict = get_state_dict(read_checkpoint(in_file, trusted=True))
    family = family or detect_family(state_dict)
    src, dst = resolve_layouts(state_dict, src, dst, family, name=str(in_file))
    if model is not None and src == 'pyskl':
        load_state_dict(model, state_dict, strict=True, source=f'Checkpoint {in_file}')
    try:
        converted = convert_state_dict(state_dict, src, dst, family)
    except CheckpointError as e:
        raise CheckpointError(f'{in_file}: {e}') from e
    if model is not None and dst == 'pyskl':
        load_state_dict(model, converted, strict=True, source=f'{in_file} converted to pyskl keys')
        converted = in_model_order(converted, model)
    checkpoint = dict(state_dict=converted, meta=dict(converted_from=src, layout=dst, family=family,
                                                      source=osp.basename(in_file)))
    save_checkpoint_atomic(checkpoint, out_file)
    return checkpoint


__all__ = [
    'FAMILIES', 'KEY_MAPS', 'convert_state_dict', 'convert_checkpoint', 'detect_family', 'detect_layout',
    'in_model_order', 'resolve_layouts'
]
