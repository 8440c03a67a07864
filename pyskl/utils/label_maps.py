"""Class names of the datasets PYSKL supports, by name (``'nturgbd_60'``) or from any label-map file.

The files are ``tools/data/label_map/<name>.txt`` in the repository (one class name per line, line i = label i, PYSKL's
files word for word). An installed wheel carries them as ``pyskl/label_map/<name>.txt`` (``setup.py`` maps that
package folder onto ``tools/data/label_map``), so a name resolves with or without a checkout.
"""
import os.path as osp
import re
from pathlib import Path
from typing import List, Optional, Sequence

from pyskl.utils.fileio import atomic_write

# name -> what it holds; the file is <name>.txt
LABEL_MAPS = {
    'nturgbd_60': 'NTU RGB+D 60 (the first 60 classes of NTU RGB+D 120)',
    'nturgbd_120': 'NTU RGB+D 120',
    'k400': 'Kinetics-400',
    'gym': 'FineGYM Gym99 (element names)',
    'ucf101': 'UCF101',
    'hmdb51': 'HMDB51',
    'diving48': 'Diving48',
    'gesture': "the gesture demo's 40 classes (Jester's 27, then HaGRID's 13; PYSKL's GestureDataset.label_names)",
}


# PYSKL's annotation files (tools/data/README.md) -> their label map: ntu60_3danno.pkl, ntu120_hrnet.pkl, k400_hrnet.pkl
ANNOTATION_LABEL_MAPS = (
    (r'ntu60_', 'nturgbd_60'),
    (r'ntu120_', 'nturgbd_120'),
    (r'k400_', 'k400'),
    (r'gym_', 'gym'),
    (r'ucf101_', 'ucf101'),
    (r'hmdb51_', 'hmdb51'),
    (r'diving48_', 'diving48'),
)


def label_map_of_annotation(ann_file: str) -> Optional[str]:
    """The shipped label map of one of PYSKL's annotation files, by its name (``.../ntu60_hrnet.pkl`` ->
    ``'nturgbd_60'``), or None."""
    name = osp.basename(str(ann_file))
    return next((label_map for prefix, label_map in ANNOTATION_LABEL_MAPS if re.match(prefix, name)), None)


def label_map_dir() -> Path:
    """The folder holding the shipped label maps: the wheel's package data, else the checkout's
    ``tools/data/label_map``."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / 'label_map', package.parent / 'tools' / 'data' / 'label_map'):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f'The shipped label maps are missing: neither {package / "label_map"} nor '
                            f'{package.parent / "tools/data/label_map"} exists; reinstall pyskl')


def label_map_path(name_or_path: str) -> str:
    """The file of a shipped label map (``'nturgbd_60'``, ``'k400'``, ...: see ``LABEL_MAPS``) or an existing file."""
    name_or_path = str(name_or_path)
    if name_or_path in LABEL_MAPS:
        return str(label_map_dir() / f'{name_or_path}.txt')
    if osp.isfile(name_or_path):
        return name_or_path
    raise FileNotFoundError(f'label map {name_or_path!r} is neither a file nor a shipped name '
                            f'({", ".join(LABEL_MAPS)})')


def read_label_map(path: str) -> List[str]:
    """The class names of a label-map file, line i = label i (names stripped, trailing blank lines dropped)."""
    with open(path, encoding='utf-8') as f:
        names = [line.strip() for line in f]
    while names and not names[-1]:
        names.pop()
    return names


def load_label_map(name_or_path: str, num_classes: Optional[int] = None) -> List[str]:
    """Class names of a shipped label map or a file (:func:`read_label_map`). With ``num_classes``, a file of
    another length is an error naming both counts."""
    path = label_map_path(name_or_path)
    names = read_label_map(path)
    if num_classes is not None and len(names) != num_classes:
        raise ValueError(f'label map {path} names {len(names)} classes but the model has {num_classes}')
    return names


def label_map_beside(ann_file: str) -> str:
    """The label map written beside an annotation file: ``<dir>/<name>_label_map.txt`` for ``<dir>/<name>.pkl``."""
    return f'{osp.splitext(ann_file)[0]}_label_map.txt'


def write_label_map(names: Sequence[str], path: str) -> None:
    """Write the class names one per line, atomically."""
    with atomic_write(path, 'w') as f:
        f.write(''.join(f'{name}\n' for name in names))


__all__ = ['LABEL_MAPS', 'label_map_beside', 'label_map_dir', 'label_map_of_annotation', 'label_map_path',
           'load_label_map', 'read_label_map', 'write_label_map']
