"""tools/convert_checkpoint.py without flags: the input's layout is read from its keys, the output gets the other one,
and a checkpoint already in the asked layout (or one both layouts name alike) is one clear error."""
from collections import OrderedDict

import pytest
import torch

from pyskl.registry import MODELS
from pyskl.utils.convert import convert_checkpoint, convert_state_dict, detect_layout
from tests.conftest import load_script
from tests.models.helpers import TINY

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def pyskl_state():
    backbone = dict(type='STGCN', **TINY['STGCN++'])
    model = MODELS.build(dict(type='RecognizerGCN', backbone=backbone, cls_head=dict(type='GCNHead', num_classes=4,
                                                                                       in_channels=32)))
    return model.state_dict()


def load_tool():
    return load_script('tools/convert_checkpoint.py')


def test_the_head_tells_the_layout(pyskl_state):
    mmaction2 = convert_state_dict(pyskl_state, src='pyskl', dst='mmaction2')
    assert 'cls_head.fc.weight' in mmaction2
    assert detect_layout(pyskl_state) == 'pyskl' and detect_layout(mmaction2) == 'mmaction2'
    headless = OrderedDict((k, v) for k, v in pyskl_state.items() if not k.startswith('cls_head.'))
    assert detect_layout(headless) is None  # the backbones' names are the same in both


def test_no_flags_convert_either_way_and_say_what_was_read(pyskl_state, tmp_path, capsys):
    torch.save(dict(state_dict=pyskl_state), tmp_path / 'pyskl.pth')  # PYSKL's mmcv-1.x layout
    load_tool().main([str(tmp_path / 'pyskl.pth'), str(tmp_path / 'mm.pth')])
    assert '(pyskl (read from its keys), stgcn++) ->' in capsys.readouterr().out
    written = torch.load(tmp_path / 'mm.pth', weights_only=True)
    assert written['meta']['converted_from'] == 'pyskl' and written['meta']['layout'] == 'mmaction2'
    load_tool().main([str(tmp_path / 'mm.pth'), str(tmp_path / 'back.pth')])
    back = torch.load(tmp_path / 'back.pth', weights_only=True)
    assert back['meta']['layout'] == 'pyskl'
    assert list(back['state_dict']) == list(pyskl_state)
    assert all(torch.equal(back['state_dict'][k], v) for k, v in pyskl_state.items())


def test_asking_for_the_layout_the_checkpoint_has_is_one_clear_error(pyskl_state, tmp_path):
    torch.save(pyskl_state, tmp_path / 'pyskl.pth')
    with pytest.raises(SystemExit) as err:
        load_tool().main([str(tmp_path / 'pyskl.pth'), str(tmp_path / 'out.pth'), '--dst', 'pyskl'])
    assert "in pyskl's layout already" in str(err.value.code) and 'pyskl loads it as it is' in str(err.value.code)
    assert not (tmp_path / 'out.pth').exists()


def test_keys_both_layouts_name_alike_need_the_flags(tmp_path):
    state = OrderedDict([('backbone.conv1.conv.weight', torch.ones(2, 1, 1, 1, 1)),
                         ('backbone.layer1.0.conv1.conv.weight', torch.ones(2, 2, 1, 1, 1)),
                         ('cls_head.fc_cls.weight', torch.ones(3, 2))])
    torch.save(state, tmp_path / 'slowonly.pth')
    with pytest.raises(SystemExit, match='name every key of a resnet3d model alike.*pass --src and --dst'):
        load_tool().main([str(tmp_path / 'slowonly.pth'), str(tmp_path / 'out.pth')])
    convert_checkpoint(tmp_path / 'slowonly.pth', tmp_path / 'out.pth', dst='mmaction2')  # src: the other one
    written = torch.load(tmp_path / 'out.pth', weights_only=True)
    assert written['meta']['converted_from'] == 'pyskl' and list(written['state_dict']) == list(state)


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        load_tool().parse_args(['--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert "'auto' reads it from the keys" in text and '(default: auto)' in text
    assert '(default: None)' not in text
