"""VideoDataset: a list of videos and their labels (PYSKL's, from MMAction2), for RGB pipelines that decode the
videos themselves (``DecordInit`` + a sampler + ``DecordDecode``).

The list is a text file with one ``path label`` line per video (``path`` relative to ``data_prefix``; blank lines
and lines starting with ``#`` are skipped) or a JSON list of ``{"filename": ..., "label": ...}``. Everything wrong
with it, a missing video included, is reported at load time, naming the list and the line.
"""
import json
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset
from mmengine.fileio import list_from_file

from pyskl.registry import DATASETS

# at most this many missing videos are listed in the error
MAX_LISTED = 5


class VideoListError(ValueError):
    """Something is wrong with a video list; the message names the file and the line or entry."""


@DATASETS.register_module()
class VideoDataset(BaseDataset):
    """Videos named in a list file, with integer labels.

    Args:
        ann_file: the ``.txt`` list (``path label`` per line) or ``.json`` list.
        pipeline: transforms applied to each sample (``filename``, ``label``, ``modality``, ``start_index``,
            ``test_mode``).
        data_prefix: folder joined to each path (PYSKL's string, or mmengine's ``dict(video=...)``); a relative
            prefix is taken under ``data_root``.
        start_index: added to sampled frame indices; 0 for videos, whose frames count from 0.
        modality: passed to the pipeline (``'RGB'``).
        check_files: check at load time that every video exists.
        multi_class: PYSKL's multi-label lists (``path l1 l2 ...``); not supported (no multi-label metric here).
        **kwargs: other ``mmengine.dataset.BaseDataset`` arguments (``metainfo``, ``data_root``, ``test_mode``,
            ``indices``, ``lazy_init``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 data_prefix: Optional[Union[str, dict]] = None,
                 start_index: int = 0,
                 modality: str = 'RGB',
                 check_files: bool = True,
                 multi_class: bool = False,
                 **kwargs):
        if multi_class:
            raise ValueError('VideoDataset: multi-label video lists (multi_class=True) are not supported')
        self.start_index, self.modality, self.check_files = start_index, modality, check_files
        if isinstance(data_prefix, str):
            data_prefix = dict(video=data_prefix)
        super().__init__(ann_file=ann_file, data_prefix=dict(data_prefix or {}), pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'video list {self.ann_file} does not exist')
        entries = self._read_json() if self.ann_file.endswith('.json') else self._read_text()
        if not entries:
            raise VideoListError(f'{self.ann_file}: the list names no video')
        prefix = self.data_prefix.get('video', '')
        data_list = [dict(filename=osp.join(prefix, path), label=label) for path, label in entries]
        if self.check_files:
            missing = [info['filename'] for info in data_list if not osp.isfile(info['filename'])]
            if missing:
                listed = ', '.join(missing[:MAX_LISTED]) + (' ...' if len(missing) > MAX_LISTED else '')
                raise VideoListError(f'{self.ann_file}: {len(missing)} of its {len(data_list)} videos do not exist: '
                                     f'{listed}')
        return data_list

    def _read_text(self) -> List[tuple]:
        entries = []
        for number, line in enumerate(list_from_file(self.ann_file), 1):
            fields = line.split()
            if not fields or fields[0].startswith('#'):
                continue
            if len(fields) != 2:
                raise VideoListError(f"{self.ann_file}, line {number}: expected 'path label', got {line.strip()!r}")
            entries.append((fields[0], self._label(fields[1], f'line {number}')))
        return entries

    def _read_json(self) -> List[tuple]:
        with open(self.ann_file) as f:
            try:
                items = json.load(f)
            except json.JSONDecodeError as e:
                raise VideoListError(f'{self.ann_file}: not valid JSON: {e}') from e
        if not isinstance(items, list):
            raise VideoListError(f'{self.ann_file}: expected a JSON list of {{"filename", "label"}} objects')
        entries = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or 'filename' not in item or 'label' not in item:
                raise VideoListError(f'{self.ann_file}, entry {index}: expected {{"filename": ..., "label": ...}}, '
                                     f'got {item!r}')
            entries.append((item['filename'], self._label(item['label'], f'entry {index}')))
        return entries

    def _label(self, value, where: str) -> int:
        try:
            label = int(value)
        except (TypeError, ValueError):
            label = -1
        if label < 0 or str(value).strip() != str(label):
            raise VideoListError(f'{self.ann_file}, {where}: the label must be a non-negative integer, got {value!r}')
        return label

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info.update(modality=self.modality, start_index=self.start_index, test_mode=self.test_mode)
        return info


__all__ = ['VideoDataset', 'VideoListError']
