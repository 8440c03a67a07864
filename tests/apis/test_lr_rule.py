"""The linear LR rule is the default: tools/train.py scales the config's lr by the total batch against the config's
``auto_scale_lr.base_batch_size`` (whatever its ``enable`` says), prints it, and keeps PYSKL's lr when told to."""
from pathlib import Path

import pytest
from mmengine.runner import Runner

from pyskl.apis.runner import lr_rule_message, train_config

from tests.conftest import load_script

from ..tools.helpers import write_tiny_config

REPO = Path(__file__).resolve().parents[2]
STGCNPP = str(REPO / 'configs/stgcn++/stgcn++_ntu60_xsub_3dkp/j.py')
QUICKSTART = str(REPO / 'configs/quickstart/stgcn++_synthetic_ntu3d_j.py')


def test_stock_configs_scale_by_default():
    cfg = train_config(STGCNPP, work_dir='unused')
    assert cfg.auto_scale_lr.enable and cfg.auto_scale_lr.base_batch_size == 128
    assert lr_rule_message(cfg, world_size=2) == (
        "LR: 0.1 is the config's lr for a total batch of 128; this run's total batch is 32 (2 process(es) x 16), so "
        "lr = 0.025 (linear scaling rule; --no-scale-lr keeps the config's lr)", False)


@pytest.mark.parametrize('opt_out', [dict(scale_lr=False), dict(cfg_options={'auto_scale_lr.enable': False})])
def test_an_explicit_opt_out_keeps_pyskl_lr_and_warns(opt_out):
    cfg = train_config(STGCNPP, work_dir='unused', **opt_out)
    assert not cfg.auto_scale_lr.enable
    message, warn = lr_rule_message(cfg, world_size=2)
    assert warn and 'rule is off (--no-scale-lr): it would give 0.025' in message
    assert lr_rule_message(cfg, world_size=8) == ('LR: 0.1 for a total batch of 128, as the config states', False)


def test_the_readme_quickstart_keeps_its_tuned_lr_on_two_processes():
    cfg = train_config(QUICKSTART, work_dir='unused')
    assert cfg.auto_scale_lr.enable and 'so lr = 0.1 ' in lr_rule_message(cfg, world_size=2)[0]
    assert 'so lr = 0.05 ' in lr_rule_message(cfg, world_size=1)[0]


def test_a_config_without_a_base_batch_is_left_alone(tmp_path):
    cfg = train_config(str(write_tiny_config(tmp_path)))
    assert 'auto_scale_lr' not in cfg and lr_rule_message(cfg, world_size=2) is None


def test_a_pyskl_style_disabled_line_is_scaled_by_the_runner(tmp_path):
    config = write_tiny_config(tmp_path, max_epochs=1, batch_size=4)
    with open(config, 'a') as f:
        f.write('auto_scale_lr = dict(enable=False, base_batch_size=16)\n')  # as PYSKL's configs write it
    cfg = train_config(str(config), seed=0)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.optim_wrapper.param_groups[0]['initial_lr'] == pytest.approx(0.05 * 4 / 16)


def test_train_tool_flags():
    parse_args = load_script('tools/train.py').parse_args
    assert parse_args(['c.py']).scale_lr and parse_args(['c.py', '--auto-scale-lr']).scale_lr
    assert not parse_args(['c.py', '--no-scale-lr']).scale_lr
    with pytest.raises(SystemExit):
        parse_args(['c.py', '--no-scale-lr', '--auto-scale-lr'])
