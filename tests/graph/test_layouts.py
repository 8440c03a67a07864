"""Layouts: the built-in ones, custom dicts and the checks that name what is wrong with them."""
import re
from pathlib import Path

import numpy as np
import pytest

from pyskl.graph import BUILTIN_LAYOUTS, Graph, get_layout

DOCS = Path(__file__).resolve().parents[2] / 'docs' / 'custom_data.md'
CHAIN = dict(num_node=4, inward=[(1, 0), (2, 1), (3, 1)], center=0)


def docs_layout(name: str) -> dict:
    """The ``name = dict(...)`` layout that docs/custom_data.md declares, evaluated."""
    text = DOCS.read_text()
    start = text.index(f'{name} = dict(') + len(f'{name} = ')
    depth = 0
    for end, char in enumerate(text[start:], start):
        depth += {'(': 1, ')': -1}.get(char, 0)
        if depth == 0 and char == ')':
            return eval(text[start:end + 1], {'dict': dict})
    raise AssertionError(f'unbalanced {name} in {DOCS}')


@pytest.mark.parametrize('name', sorted(BUILTIN_LAYOUTS))
def test_builtin_layouts_pass_the_checks(name):
    layout = get_layout(name)
    assert layout.body_center is not None and len(layout.left) == len(layout.right)


def test_ntu_layout_carries_pyskl_prenormalize_constants():
    ntu = get_layout('nturgb+d')
    assert (ntu.center, ntu.body_center, ntu.spine, ntu.shoulders) == (20, 1, (0, 1), (8, 4))


def test_custom_layout_defaults():
    layout = get_layout(CHAIN)
    assert layout.name == 'custom' and layout.body_center == 0 and layout.spine is None
    assert layout.bones == ((0, 0), (1, 0), (2, 1), (3, 1))


@pytest.mark.parametrize('name', ['kinect_v1', 'jhmdb'])
def test_the_docs_layouts_build_graphs_in_every_mode(name):
    spec = docs_layout(name)
    layout = get_layout(spec)
    for mode in Graph.modes:
        A = Graph(spec, mode).A
        assert A.shape[-1] == layout.num_node and np.isfinite(A).all()


def test_unconnected_joints_are_named():
    with pytest.raises(ValueError, match=r'joints \[3, 4\] do not reach the centre 0'):
        get_layout(dict(num_node=5, inward=[(1, 0), (2, 1), (4, 3)], center=0))


def test_an_edge_pointing_away_from_the_centre_cuts_its_child_off():
    # (0, 1) makes the centre the child: joint 1 and everything hanging from it cannot reach 0
    with pytest.raises(ValueError, match=r'joints \[1, 2\] do not reach the centre 0'):
        get_layout(dict(num_node=3, inward=[(0, 1), (2, 1)], center=0))


@pytest.mark.parametrize('change, message', [
    (dict(inward=[(1, 0), (2, 2), (3, 1)]), r'inward edge \(2, 2\) joins joint 2 to itself'),
    (dict(inward=[(1, 0), (2, 1), (3, 1), (1, 2)]), 'the edge between joints 1 and 2 appears twice'),
    (dict(inward=[(1, 0), (2, 1), (4, 1)]), r'inward entry \(4, 1\) names a joint outside 0..3'),
    (dict(center=4), 'center 4 is outside 0..3'),
    (dict(bones=[(1, 0), (1, 2), (3, 1)]), r'joints \[1\] start more than one bone'),
    (dict(left=[1, 2], right=[3, 1]), r'joints \[1\] appear more than once in left/right'),
    (dict(left=[2], right=[]), 'left and right joint lists differ in length'),
    (dict(spine=(1, 1)), 'spine needs two different joints'),
    (dict(shoulders=(2, 7)), r'shoulders \(2, 7\) names a joint outside 0..3'),
    (dict(centre=0), r"unknown keys \['centre'\]"),
])
def test_bad_custom_layouts_say_what_is_wrong(change, message):
    with pytest.raises(ValueError, match=message):
        get_layout(dict(CHAIN, name='mine', **change))


def test_error_names_the_layout():
    with pytest.raises(ValueError, match=re.escape("Layout 'mine'")):
        get_layout(dict(CHAIN, name='mine', center=9))
