"""tools/analysis/plot_curves.py on a tiny training run's work dir, the reading of resumed runs, and the TensorBoard
switch of the config."""
import json

import pytest
from mmengine.config import Config

from pyskl.utils.curves import read_curves

from tests.conftest import load_script

from .helpers import write_tiny_config

pytestmark = pytest.mark.usefixtures('one_thread')


def load_tool():
    return load_script('tools/analysis/plot_curves.py')


def train_tiny(tmp_path, **cfg_fields):
    from pyskl.apis.runner import train, train_config
    config = write_tiny_config(tmp_path, max_epochs=2)
    if cfg_fields:
        cfg = Config.fromfile(str(config))
        cfg.merge_from_dict(cfg_fields)
        cfg.dump(str(config))
    train(train_config(str(config), validate=True, seed=0))
    return tmp_path / 'work'


def test_curves_of_a_training_run(tmp_path, capsys):
    work = train_tiny(tmp_path)
    curves = load_tool().main([str(work)])
    assert (work / 'curves.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert 'wrote' in capsys.readouterr().out
    assert list(curves['loss']) == list(curves['lr']) == list(curves['val/top1_acc']) == [1, 2]
    assert curves['lr'][2] < curves['lr'][1]  # cosine annealing
    (log, ) = work.glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in log.read_text().splitlines()]
    val = [r for r in records if 'iter' not in r]
    assert [curves['val/top2_acc'][r['step']] for r in val] == [r['top2_acc'] for r in val]
    epoch_two = [r['loss'] for r in records if r.get('epoch') == 2]
    assert curves['loss'][2] == pytest.approx(sum(epoch_two) / len(epoch_two))


def test_a_resumed_run_replaces_the_epochs_it_logs_again(tmp_path):
    """A first run logs epochs 1 and 2 (2 partly, then dies); the resumed run logs 2 again and 3."""
    def write(stamp, lines):
        folder = tmp_path / stamp / 'vis_data'
        folder.mkdir(parents=True)
        (folder / 'scalars.json').write_text(''.join(json.dumps(line) + '\n' for line in lines))

    write('20260101_000000', [dict(epoch=1, iter=1, lr=0.1, loss=4.0), dict(epoch=1, iter=2, lr=0.1, loss=2.0),
                              dict(top1_acc=0.25, data_time=0.1, time=0.2, step=1),
                              dict(epoch=2, iter=3, lr=0.05, loss=9.0)])
    write('20260102_000000', [dict(epoch=2, iter=3, lr=0.05, loss=1.5), dict(epoch=2, iter=4, lr=0.04, loss=0.5),
                              dict(top1_acc=0.5, data_time=0.1, time=0.2, step=2),
                              dict(epoch=3, iter=5, lr=0.01, loss=0.25)])
    curves = read_curves(str(tmp_path))
    assert curves['loss'] == {1: 3.0, 2: 1.0, 3: 0.25}
    assert curves['lr'] == {1: 0.1, 2: 0.04, 3: 0.01}
    assert curves == dict(loss=curves['loss'], lr=curves['lr'], **{'val/top1_acc': {1: 0.25, 2: 0.5}})


def test_a_folder_without_a_scalar_log_is_one_clear_error(tmp_path):
    with pytest.raises(SystemExit, match='has no <timestamp>/vis_data/scalars.json'):
        load_tool().main([str(tmp_path)])


def test_the_tensorboard_switch_writes_event_files(tmp_path):
    pytest.importorskip('tensorboard', reason='tensorboard is not installed (pip install -e ".[tensorboard]")')
    visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend'),
                                                       dict(type='TensorboardVisBackend')])
    work = train_tiny(tmp_path, visualizer=visualizer)
    assert list(work.glob('*/vis_data/events.out.tfevents.*')) and list(work.glob('*/vis_data/scalars.json'))
