"""Every checkpoint layout PYSKL users have loads the same weights: through ``load_checkpoint``, the ``load_from``
config key (mmengine's Runner) and ``tools/test.py CKPT``."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging.history_buffer import HistoryBuffer

from pyskl.registry import MODELS
from pyskl.utils import CheckpointError, load_checkpoint
from pyskl.utils.checkpoint import read_checkpoint

from ..tools.helpers import python_tool, write_tiny_config


def as_flat(state_dict):
    """A bare state dict, as ``torch.save(model.state_dict())`` writes (e.g. demo/hagrid.pth)."""
    return dict(state_dict)


def as_mmcv1(state_dict):
    """What PYSKL's mmcv-1.x runner saved: meta (numpy values included), state_dict, optimizer; here with the
    ``module.`` prefix that a DDP model's own state_dict carries."""
    meta = dict(mmcv_version='1.7.0', epoch=16, iter=1000, seed=np.int64(0), time='Sat Jan 1 00:00:00 2022',
                hook_msgs=dict(best_score=np.float64(0.91), last_ckpt='work_dirs/j/epoch_16.pth'))
    optimizer = dict(state={}, param_groups=[dict(lr=0.1, momentum=0.9, params=list(range(len(state_dict))))])
    return dict(meta=meta, state_dict={f'module.{k}': v for k, v in state_dict.items()}, optimizer=optimizer)


def as_mmengine(state_dict):
    """What mmengine's CheckpointHook saves: also the message hub with its HistoryBuffers and scheduler states."""
    loss = HistoryBuffer()
    loss.update(0.5)
    return dict(meta=dict(epoch=2, iter=10, seed=0, experiment_name='tiny', dataset_meta=None),
                state_dict=dict(state_dict), message_hub=dict(log_scalars={'train/loss': loss}, runtime_info={}),
                optimizer=dict(state={}, param_groups=[]), param_schedulers=[dict(last_epoch=10)])


LAYOUTS = dict(flat=as_flat, mmcv1=as_mmcv1, mmengine=as_mmengine)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The tiny config, and weights of a model of it that a fresh build (another seed) does not have."""
    cfg_file = write_tiny_config(tmp_path_factory.mktemp('ckpt'))
    cfg = Config.fromfile(cfg_file)
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    return cfg_file, cfg, {k: v.clone() for k, v in model.state_dict().items()}


def fresh_model(cfg):
    torch.manual_seed(2)
    return MODELS.build(cfg.model)


def assert_same_weights(model, state_dict):
    own = model.state_dict()
    assert list(own) == list(state_dict)
    for k, v in state_dict.items():
        assert torch.equal(own[k], v), k


@pytest.mark.parametrize('layout', list(LAYOUTS))
def test_load_checkpoint_reads_every_layout_strictly(layout, tiny, tmp_path):
    _, cfg, weights = tiny
    path = tmp_path / f'{layout}.pth'
    torch.save(LAYOUTS[layout](weights), path)
    model = fresh_model(cfg)
    checkpoint = load_checkpoint(model, str(path), strict=True)
    assert_same_weights(model, weights)
    if layout != 'flat':
        assert checkpoint['meta']['epoch'] in (16, 2)


def test_an_engine_checkpoint_is_read_fully_only_when_the_user_named_it(tiny, tmp_path):
    _, _, weights = tiny
    path = tmp_path / 'engine.pth'
    torch.save(as_mmengine(weights), path)
    with pytest.raises(CheckpointError, match='engine.pth.*trust'):
        read_checkpoint(str(path), trusted=False)
    assert isinstance(read_checkpoint(str(path), trusted=True)['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)
    # the layouts that hold only weights (and numpy values) never need that trust
    torch.save(as_mmcv1(weights), tmp_path / 'mmcv1.pth')
    assert read_checkpoint(str(tmp_path / 'mmcv1.pth'), trusted=False)['meta']['hook_msgs']['best_score'] == 0.91


@pytest.mark.parametrize('layout', ['flat', 'mmcv1'])
def test_load_from_in_a_config_loads_pyskl_checkpoints(layout, tiny, tmp_path):
    from mmengine.runner import Runner
    _, cfg, weights = tiny
    path = tmp_path / f'{layout}.pth'
    torch.save(LAYOUTS[layout](weights), path)
    cfg = cfg.copy()
    cfg.load_from, cfg.work_dir = str(path), str(tmp_path / 'work')
    cfg.experiment_name = f'load_from_{layout}'  # two runners in one second must not share one name
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    assert_same_weights(runner.model, weights)


def test_test_tool_scores_the_same_with_every_layout(tiny, tmp_path):
    cfg_file, _, weights = tiny
    scores = {}
    for layout, pack in LAYOUTS.items():
        path, out = tmp_path / f'{layout}.pth', tmp_path / f'{layout}.pkl'
        torch.save(pack(weights), path)
        proc = python_tool('test.py', cfg_file, path, '--out', out)
        assert 'top1_acc' in proc.stdout
        with open(out, 'rb') as f:
            scores[layout] = np.stack(pickle.load(f))
    np.testing.assert_array_equal(scores['mmcv1'], scores['flat'])
    np.testing.assert_array_equal(scores['mmengine'], scores['flat'])
