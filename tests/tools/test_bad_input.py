"""Bad input fails with a clear message (the file, the sample, what is wrong), a non-zero exit, and no output."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config

from pyskl.registry import MODELS

from .helpers import python_tool, write_tiny_config


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('bad')
    cfg_file = write_tiny_config(tmp)
    ckpt = tmp / 'init.pth'
    torch.save(MODELS.build(Config.fromfile(cfg_file).model).state_dict(), ckpt)
    with open(tmp / 'tiny.pkl', 'rb') as f:
        data = pickle.load(f)
    return tmp, cfg_file, ckpt, data


def _first_val(data):
    name = data['split']['val'][0]
    return name, next(a for a in data['annotations'] if a['frame_dir'] == name)


def corrupt_rank(data):
    name, anno = _first_val(data)
    anno['keypoint'] = anno['keypoint'][0]  # [T, V, C]
    return name, 'rank'


def corrupt_nan(data):
    name, anno = _first_val(data)
    anno['keypoint'][0, 1, 2, 0] = np.nan
    return name, 'nan'


def corrupt_inf(data):
    name, anno = _first_val(data)
    anno['keypoint'][0, 0, 0, 1] = np.inf
    return name, 'inf'


def corrupt_total_frames(data):
    name, anno = _first_val(data)
    anno['total_frames'] += 3
    return name, 'total_frames'


def corrupt_joints_for_layout(data):  # every sample has 17 joints: consistent, but not the model's nturgb+d graph
    for anno in data['annotations']:
        anno['keypoint'] = anno['keypoint'][:, :, :17]
    return data['split']['val'][0], 'V=17'


def corrupt_empty_split(data):
    data['split']['val'] = []
    return None, 'val'


CORRUPTIONS = [corrupt_rank, corrupt_nan, corrupt_inf, corrupt_total_frames, corrupt_joints_for_layout,
               corrupt_empty_split]


def _run_test_tool(tmp, cfg_file, ckpt, ann_file, out, extra=()):
    text = cfg_file.read_text().replace(str(tmp / 'tiny.pkl'), str(ann_file))
    cfg = tmp / f'{ann_file.stem}_config.py'
    cfg.write_text(text)
    return python_tool('test.py', cfg, ckpt, '--out', out, *extra, check=False)


@pytest.mark.parametrize('corrupt', CORRUPTIONS, ids=lambda f: f.__name__)
def test_bad_annotation_is_named_and_nothing_is_written(setup, tmp_path, corrupt):
    tmp, cfg_file, ckpt, data = setup
    data = pickle.loads(pickle.dumps(data))
    name, what = corrupt(data)
    ann_file = tmp_path / f'{corrupt.__name__}.pkl'
    with open(ann_file, 'wb') as f:
        pickle.dump(data, f)
    out = tmp_path / 'result.pkl'
    proc = _run_test_tool(tmp, cfg_file, ckpt, ann_file, out)
    assert proc.returncode != 0
    last_lines = '\n'.join(proc.stderr.strip().splitlines()[-3:])
    assert str(ann_file) in last_lines, last_lines
    if name is not None:
        assert name in last_lines, last_lines
    assert what.lower() in last_lines.lower(), last_lines
    assert not out.exists() and not list(tmp_path.glob('*confusion*'))


def test_missing_annotation_file(setup, tmp_path):
    tmp, cfg_file, ckpt, _ = setup
    missing = tmp_path / 'nowhere.pkl'
    proc = _run_test_tool(tmp, cfg_file, ckpt, missing, tmp_path / 'r.pkl')
    assert proc.returncode != 0 and str(missing) in proc.stderr.strip().splitlines()[-1]


def test_corrupt_annotation_file(setup, tmp_path):
    tmp, cfg_file, ckpt, _ = setup
    broken = tmp_path / 'broken.pkl'
    with open(tmp / 'tiny.pkl', 'rb') as f:
        broken.write_bytes(f.read()[:200])  # a truncated pickle
    proc = _run_test_tool(tmp, cfg_file, ckpt, broken, tmp_path / 'r.pkl')
    assert proc.returncode != 0 and str(broken) in proc.stderr.strip().splitlines()[-1]


def test_split_not_in_file(setup, tmp_path):
    tmp, cfg_file, ckpt, _ = setup
    proc = _run_test_tool(tmp, cfg_file, ckpt, tmp / 'tiny.pkl', tmp_path / 'r.pkl',
                          extra=['--cfg-options', 'test_dataloader.dataset.split=xsub_val'])
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode != 0 and 'xsub_val' in last and 'train' in last and 'val' in last, last
