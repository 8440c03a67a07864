"""Skeleton layouts and the adjacency matrices GCNs aggregate over.

A layout says which joints exist and how they connect: ``num_node``, ``inward`` edges ``(child, parent)`` pointing
towards ``center``, the ``bones`` that ``JointToBone`` subtracts, the ``left``/``right`` joints that ``Flip`` swaps,
and for ``PreNormalize3D`` the joint it centres on (``body_center``) and the ``spine`` and ``shoulders`` pairs it
aligns with z and x. Built-in layouts are PYSKL's (``nturgb+d``, ``coco``, ``openpose``, ``handmp``); any other
skeleton is given as a dict in the config, e.g. ``dict(num_node=20, inward=[(1, 0), ...], center=1)``, and checked
when it is built (indices in range, no self or repeated edges, every joint reaching the centre through ``inward``).

Convention (PYSKL's): ``A[k, v, w]`` weighs what joint ``w`` receives from joint ``v``; an edge ``(i, j)`` sets
``A[j, i] = 1``. Modes: ``spatial`` (identity, inward, outward; each column-normalised), ``stgcn_spatial`` (the
original ST-GCN partition by hop distance to the centre), ``binary_adj`` (MS-G3D), ``random`` (DG-STGCN).
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

Edge = Tuple[int, int]


@dataclass(frozen=True)
class Layout:
    name: str
    num_node: int
    inward: Tuple[Edge, ...]
    center: int
    bones: Tuple[Edge, ...]
    left: Tuple[int, ...] = field(default=())
    right: Tuple[int, ...] = field(default=())
    body_center: Optional[int] = None  # the joint PreNormalize3D centres on (None: ``center``)
    spine: Optional[Edge] = None  # (lower, upper): PreNormalize3D turns lower -> upper onto +z
    shoulders: Optional[Edge] = None  # (right, left): PreNormalize3D turns left -> right onto +x

    @property
    def outward(self) -> Tuple[Edge, ...]:
        return tuple((j, i) for i, j in self.inward)


_NTU_INWARD_1BASED = [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10),
                      (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 8),
                      (23, 8), (24, 12), (25, 12)]

BUILTIN_LAYOUTS = {
    'nturgb+d': dict(
        num_node=25, center=20,
        # PreNormalize3D's NTU constants (PYSKL's defaults): centre on the spine middle, align base -> middle of the
        # spine with z and left -> right shoulder with x.
        body_center=1, spine=(0, 1), shoulders=(8, 4),
        inward=[(i - 1, j - 1) for i, j in _NTU_INWARD_1BASED],
        # PYSKL's bone pairs: the two hand tips (21, 23) point to the thumbs (22, 24), not to the wrists.
        bones=[(0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6), (8, 20), (9, 8), (10, 9), (11, 10),
               (12, 0), (13, 12), (14, 13), (15, 14), (16, 0), (17, 16), (18, 17), (19, 18), (21, 22), (20, 20),
               (22, 7), (23, 24), (24, 11)],
        left=[4, 5, 6, 7, 12, 13, 14, 15, 21, 22], right=[8, 9, 10, 11, 16, 17, 18, 19, 23, 24]),
    'coco': dict(
        num_node=17, center=0,
        inward=[(15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5), (10, 8), (8, 6), (5, 0),
                (6, 0), (1, 0), (3, 1), (2, 0), (4, 2)],
        # PYSKL's bone pairs: hips point to the nose, unlike the graph where they hang from the shoulders.
        bones=[(0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 0), (6, 0), (7, 5), (8, 6), (9, 7), (10, 8), (11, 0),
               (12, 0), (13, 11), (14, 12), (15, 13), (16, 14)],
        left=[1, 3, 5, 7, 9, 11, 13, 15], right=[2, 4, 6, 8, 10, 12, 14, 16]),
    'openpose': dict(
        num_node=18, center=1,
        inward=[(4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5), (8, 2), (5, 1), (2, 1),
                (0, 1), (15, 0), (14, 0), (17, 15), (16, 14)],
        bones=[(0, 0), (1, 0), (2, 1), (3, 2), (4, 3), (5, 1), (6, 5), (7, 6), (8, 2), (9, 8), (10, 9), (11, 5),
               (12, 11), (13, 12), (14, 0), (15, 0), (16, 14), (17, 15)],
        left=[5, 6, 7, 11, 12, 13, 15, 17], right=[2, 3, 4, 8, 9, 10, 14, 16]),
    'handmp': dict(
        num_node=21, center=0,
        inward=[(1, 0), (2, 1), (3, 2), (4, 3), (5, 0), (6, 5), (7, 6), (8, 7), (9, 0), (10, 9), (11, 10), (12, 11),
                (13, 0), (14, 13), (15, 14), (16, 15), (17, 0), (18, 17), (19, 18), (20, 19)],
        bones=[(0, 0), (1, 0), (2, 1), (3, 2), (4, 3), (5, 0), (6, 5), (7, 6), (8, 7), (9, 0), (10, 9), (11, 10),
               (12, 11), (13, 0), (14, 13), (15, 14), (16, 15), (17, 0), (18, 17), (19, 18), (20, 19)]),
}


LAYOUT_KEYS = ('num_node', 'inward', 'center', 'bones', 'left', 'right', 'name', 'body_center', 'spine', 'shoulders')


def _joint(value, num_node: int, what: str, name: str) -> int:
    joint = int(value)
    if not 0 <= joint < num_node:
        raise ValueError(f'Layout {name!r}: {what} {joint} is outside 0..{num_node - 1}')
    return joint


def _pair(value, num_node: int, what: str, name: str) -> Edge:
    if value is None or len(value) != 2:
        raise ValueError(f'Layout {name!r}: {what} must be a pair of joints (i, j), got {value!r}')
    i, j = int(value[0]), int(value[1])
    if not (0 <= i < num_node and 0 <= j < num_node):
        raise ValueError(f'Layout {name!r}: {what} {(i, j)} names a joint outside 0..{num_node - 1}')
    return i, j


def _check_edges(edges: Sequence, num_node: int, what: str, name: str) -> Tuple[Edge, ...]:
    return tuple(_pair(edge, num_node, f'{what} entry', name) for edge in edges)


def _check_inward(inward: Tuple[Edge, ...], num_node: int, center: int, name: str) -> None:
    """No self or repeated edges, and every joint reaches ``center`` by following its edges child -> parent."""
    seen = set()
    for i, j in inward:
        if i == j:
            raise ValueError(f'Layout {name!r}: inward edge {(i, j)} joins joint {i} to itself')
        if frozenset((i, j)) in seen:
            raise ValueError(f'Layout {name!r}: the edge between joints {i} and {j} appears twice in inward')
        seen.add(frozenset((i, j)))
    reached, frontier = {center}, [center]
    while frontier:  # walk outwards from the centre: a child is reached once its parent is
        parents = set(frontier)
        frontier = [i for i, j in inward if j in parents and i not in reached]
        reached.update(frontier)
    cut_off = sorted(set(range(num_node)) - reached)
    if cut_off:
        raise ValueError(f'Layout {name!r}: joints {cut_off} do not reach the centre {center} through the inward '
                         'edges (child, parent): connect them, or check that their edges point towards the centre')


def _check_bones(bones: Tuple[Edge, ...], name: str) -> None:
    children = [i for i, _ in bones]
    twice = sorted({i for i in children if children.count(i) > 1})
    if twice:
        raise ValueError(f'Layout {name!r}: joints {twice} start more than one bone (child, parent); a joint has one '
                         'bone (give `bones` explicitly when `inward` gives a joint two parents)')


def _check_sides(left: Tuple[int, ...], right: Tuple[int, ...], name: str) -> None:
    if len(left) != len(right):
        raise ValueError(f'Layout {name!r}: left and right joint lists differ in length ({len(left)} vs {len(right)})')
    both = left + right
    repeated = sorted({j for j in both if both.count(j) > 1})
    if repeated:
        raise ValueError(f'Layout {name!r}: joints {repeated} appear more than once in left/right')


def get_layout(layout: Union[str, dict, Layout]) -> Layout:
    """Resolve a layout name or a custom layout dict, checking it.

    A custom dict needs ``num_node``, ``inward`` (``(child, parent)`` edges) and ``center``; ``bones`` default to the
    inward edges plus ``(center, center)``; ``left``/``right`` (joints swapped by a horizontal flip) default to none;
    ``body_center`` (the joint ``PreNormalize3D`` centres on) defaults to ``center``; ``spine`` ``(lower, upper)``
    and ``shoulders`` ``(right, left)`` are the pairs ``PreNormalize3D`` aligns with z and x (none by default).
    """
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, str):
        if layout not in BUILTIN_LAYOUTS:
            raise ValueError(f'Unknown skeleton layout {layout!r}; built-in layouts are {sorted(BUILTIN_LAYOUTS)}, '
                             'or pass a dict(num_node=..., inward=[(child, parent), ...], center=...)')
        spec, name = BUILTIN_LAYOUTS[layout], layout
    elif isinstance(layout, dict):
        missing = {'num_node', 'inward', 'center'} - set(layout)
        if missing:
            raise ValueError(f'A custom layout needs num_node, inward and center; missing {sorted(missing)}')
        unknown = sorted(set(layout) - set(LAYOUT_KEYS))
        if unknown:
            raise ValueError(f'A custom layout has unknown keys {unknown}; the keys are {list(LAYOUT_KEYS)}')
        spec, name = layout, layout.get('name', 'custom')
    else:
        raise TypeError(f'layout must be a name or a dict, got {type(layout).__name__}')

    num_node = int(spec['num_node'])
    if num_node < 1:
        raise ValueError(f'Layout {name!r}: num_node must be positive, got {num_node}')
    center = _joint(spec['center'], num_node, 'center', name)
    inward = _check_edges(spec['inward'], num_node, 'inward', name)
    _check_inward(inward, num_node, center, name)
    bones = spec.get('bones')
    bones = _check_edges(bones, num_node, 'bones', name) if bones is not None else tuple(
        sorted(inward + ((center, center), )))
    _check_bones(bones, name)
    left = tuple(_joint(i, num_node, 'left joint', name) for i in spec.get('left', ()))
    right = tuple(_joint(i, num_node, 'right joint', name) for i in spec.get('right', ()))
    _check_sides(left, right, name)
    body_center = _joint(spec.get('body_center', center), num_node, 'body_center', name)
    spine, shoulders = (None if spec.get(key) is None else _pair(spec[key], num_node, key, name)
                        for key in ('spine', 'shoulders'))
    for key, pair in (('spine', spine), ('shoulders', shoulders)):
        if pair is not None and pair[0] == pair[1]:
            raise ValueError(f'Layout {name!r}: {key} needs two different joints, got {pair}')
    return Layout(name, num_node, inward, center, bones, left, right, body_center, spine, shoulders)


def edge2mat(edges: Sequence[Edge], num_node: int) -> np.ndarray:
    """Adjacency with ``A[j, i] = 1`` for every edge ``(i, j)``."""
    A = np.zeros((num_node, num_node))
    for i, j in edges:
        A[j, i] = 1
    return A


def normalize_digraph(A: np.ndarray, dim: int = 0) -> np.ndarray:
    """``A @ diag(1 / degree)``, degrees summed along ``dim``; zero-degree columns stay zero."""
    degree = A.sum(dim)
    inv = np.zeros_like(degree, dtype=np.float64)
    np.divide(1.0, degree, out=inv, where=degree > 0)
    return A @ np.diag(inv)


def get_hop_distance(num_node: int, edges: Sequence[Edge], max_hop: int = 1) -> np.ndarray:
    """Hop distance between joints (``inf`` beyond ``max_hop``), over the undirected edges."""
    A = np.eye(num_node)
    for i, j in edges:
        A[i, j] = A[j, i] = 1
    hop_dis = np.full((num_node, num_node), np.inf)
    reach = [np.linalg.matrix_power(A, d) > 0 for d in range(max_hop + 1)]
    for d in range(max_hop, -1, -1):
        hop_dis[reach[d]] = d
    return hop_dis


def k_adjacency(A: np.ndarray, k: int, with_self: bool = False, self_factor: float = 1) -> np.ndarray:
    """Joints exactly ``k`` hops apart (MS-G3D's multi-scale adjacency)."""
    eye = np.eye(len(A), dtype=A.dtype)
    if k == 0:
        return eye
    Ak = np.minimum(np.linalg.matrix_power(A + eye, k), 1) - np.minimum(np.linalg.matrix_power(A + eye, k - 1), 1)
    if with_self:
        Ak = Ak + self_factor * eye
    return Ak


class Graph:
    """Adjacency ``A`` (numpy, ``[K, V, V]``) of a layout under an aggregation mode, as PYSKL's ``Graph``.

    Args:
        layout: a built-in layout name or a custom layout dict (see :func:`get_layout`).
        mode: ``spatial`` | ``stgcn_spatial`` | ``binary_adj`` | ``random``.
        max_hop: neighbourhood radius for ``stgcn_spatial``.
        nx_node, num_filter, init_std, init_off: ``random`` mode: ``num_filter`` subsets of
            ``randn * init_std + init_off`` over ``V * nx_node`` nodes.
    """

    modes = ('spatial', 'stgcn_spatial', 'binary_adj', 'random')

    def __init__(self, layout='coco', mode='spatial', max_hop=1, nx_node=1, num_filter=3, init_std=0.02,
                 init_off=0.04):
        self.layout = get_layout(layout)
        if mode not in self.modes:
            raise ValueError(f'Unknown graph mode {mode!r}; choose one of {self.modes}')
        if nx_node != 1 and mode != 'random':
            raise ValueError('nx_node > 1 is only supported by the random mode')
        self.mode, self.max_hop, self.nx_node = mode, max_hop, nx_node
        self.num_filter, self.init_std, self.init_off = num_filter, init_std, init_off
        self.num_node = self.layout.num_node
        self.inward, self.outward, self.center = self.layout.inward, self.layout.outward, self.layout.center
        self.hop_dis = get_hop_distance(self.num_node, self.inward, max_hop)
        self.A = getattr(self, mode)()

    def spatial(self) -> np.ndarray:
        V = self.num_node
        self_link = np.eye(V)
        inward = normalize_digraph(edge2mat(self.inward, V))
        outward = normalize_digraph(edge2mat(self.outward, V))
        return np.stack((self_link, inward, outward))

    def stgcn_spatial(self) -> np.ndarray:
        hop_dis = self.hop_dis
        adj = (hop_dis <= self.max_hop).astype(np.float64)
        norm_adj = normalize_digraph(adj)
        to_center = hop_dis[:, self.center]
        # entry (j, i) is "close" when j is at least as far from the centre as i ...
        close_mask = to_center[:, None] >= to_center[None, :]
        A = []
        for hop in range(self.max_hop + 1):
            at_hop = hop_dis == hop
            A.append(np.where(at_hop & close_mask, norm_adj, 0.))
            if hop > 0:  # ... and "further" otherwise; hop 0 (self links) has no further part
                A.append(np.where(at_hop & ~close_mask, norm_adj, 0.))
        return np.stack(A)

    def binary_adj(self) -> np.ndarray:
        return edge2mat(self.inward + self.outward, self.num_node)[None]

    def random(self) -> np.ndarray:
        n = self.num_node * self.nx_node
        return np.random.randn(self.num_filter, n, n) * self.init_std + self.init_off

    def __repr__(self):
        return f'Graph(layout={self.layout.name!r}, mode={self.mode!r}, A={tuple(self.A.shape)})'


def layout_from(graph_or_layout: Union[str, dict, Layout, Optional[List]]) -> Layout:
    """Accept a layout name/dict or a ``graph_cfg``-like dict that has a ``layout`` key."""
    if isinstance(graph_or_layout, dict) and 'layout' in graph_or_layout:
        return get_layout(graph_or_layout['layout'])
    return get_layout(graph_or_layout)
