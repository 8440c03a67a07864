"""The config checks: argument names of every built part, --cfg-options on variables the parts copied, and no false
alarm on any shipped config."""
import glob
import logging

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

from pyskl.registry import MODELS, TRANSFORMS
from pyskl.utils.config_check import accepted_arguments, argument_problems, check_cfg_options, check_config_keys
from pyskl.utils.errors import ConfigError
from tests.conftest import REPO_ROOT

QUICKSTART = str(REPO_ROOT / 'configs' / 'quickstart' / 'stgcn++_synthetic_ntu3d_j.py')


def test_no_shipped_config_has_an_unknown_or_missing_argument():
    configs = sorted(glob.glob(str(REPO_ROOT / 'configs' / '**' / '*.py'), recursive=True))
    assert len(configs) > 200
    bad = {}
    for path in configs:
        problems = argument_problems(Config.fromfile(path))
        if problems:
            bad[path] = problems
    assert bad == {}


def test_kwargs_are_followed_into_the_parent_class():
    names, required = accepted_arguments(MODELS.get('GCNHead'))  # GCNHead(**kwargs) -> SimpleHead
    assert {'num_classes', 'in_channels', 'dropout', 'label_smooth_eps'} <= names
    assert 'mode' not in names  # GCNHead sets mode itself: a config cannot
    assert required == {'num_classes', 'in_channels'}
    assert accepted_arguments(MODELS.get('STGCN')) is None  # its **kwargs go to its blocks: not checked


def test_an_alias_is_named_as_the_config_wrote_it():
    cfg = Config.fromfile(QUICKSTART)
    cfg.train_dataloader.dataset.pipeline[2]['clip_lne'] = 32
    (problem, ) = argument_problems(cfg)
    assert problem.startswith("train_dataloader.dataset.pipeline[2] (type='UniformSample'): unknown key 'clip_lne' "
                              "(did you mean 'clip_len'?)")
    assert issubclass(TRANSFORMS.get('UniformSample'), TRANSFORMS.get('UniformSampleFrames'))
    assert 'UniformSampleFrames' not in problem  # the class whose __init__ takes clip_len


def test_every_problem_is_in_one_error():
    cfg = Config.fromfile(QUICKSTART)
    cfg.model.cls_head['num_clases'] = cfg.model.cls_head.pop('num_classes')
    cfg.test_dataloader.sampler['shufle'] = False
    with pytest.raises(ConfigError) as info:
        check_config_keys(cfg, 'q.py')
    message = str(info.value)
    assert message.startswith('q.py: model.cls_head')
    assert "unknown key 'num_clases' (did you mean 'num_classes'" in message
    assert "test_dataloader.sampler (type='DefaultSampler'): unknown key 'shufle' (did you mean 'shuffle'" in message


def test_cfg_options_on_a_copied_variable_names_every_holder():
    cfg = Config.fromfile(QUICKSTART)
    with pytest.raises(ConfigError) as info:
        check_cfg_options(cfg, {'ann_file': 'x.pkl'}, 'q.py')
    message = str(info.value)
    for split in ('train', 'val', 'test'):
        assert f'{split}_dataloader.dataset.ann_file=x.pkl' in message
    with pytest.raises(ConfigError, match=r'train_dataloader\.dataset\.pipeline=\['):
        check_cfg_options(cfg, {'train_pipeline': [dict(type='PoseDecode')]}, 'q.py')


def test_cfg_options_the_runner_reads_or_new_keys_pass():
    cfg = Config.fromfile(QUICKSTART)
    records = []
    handler = type('Keep', (logging.Handler, ), {'emit': lambda self, record: records.append(record)})()
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        check_cfg_options(cfg, {'train_dataloader.dataset.ann_file': 'x.pkl', 'work_dir': 'w',
                                'train_cfg.max_epochs': 3}, 'q.py')
        assert not records
        check_cfg_options(cfg, {'my_setting': 1}, 'q.py')  # nothing reads it: said, not refused
    finally:
        logger.removeHandler(handler)
    assert len(records) == 1 and "'my_setting' is not a key that the Runner" in records[0].getMessage()
