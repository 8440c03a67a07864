"""Checkpoint conversion between MMAction2 1.x and PYSKL key names (pyskl/utils/convert.py, the CLI).

The MMAction2 side is built here from MMAction2's own module layout (``mmaction/models/backbones/stgcn.py``,
``models/utils/gcn_utils.py``, ``projects/{ctrgcn,msg3d}``, ``heads/gcn_head.py``, ``resnet3d.py``, ``c3d.py``,
``x3d.py``), independently of the converter's tables: by hand for a small ST-GCN++ and small PoseC3D models (SlowOnly,
C3D, X3D), and for the full GCN families by the one difference those files show (the GCN head's classifier is
``cls_head.fc`` there, ``cls_head.fc_cls`` here).
"""
from collections import OrderedDict

import pytest
import torch
from mmengine.config import Config

from pyskl.registry import MODELS
from pyskl.utils import CheckpointError, load_state_dict
from pyskl.utils.convert import convert_checkpoint, convert_state_dict, detect_family
from tests.conftest import REPO_ROOT, load_ref, load_script, shared_file
from tests.tools.helpers import python_tool

CONFIGS = {
    'stgcn': 'configs/stgcn/stgcn_pyskl_ntu60_xsub_3dkp/j.py',
    'stgcn++': 'configs/stgcn++/stgcn++_ntu60_xsub_hrnet/j.py',
    'aagcn': 'configs/aagcn/aagcn_pyskl_ntu60_xsub_3dkp/j.py',
    'ctrgcn': 'configs/ctrgcn/ctrgcn_pyskl_ntu60_xsub_hrnet/j.py',
    'msg3d': 'configs/msg3d/msg3d_pyskl_ntu60_xsub_3dkp/j.py',
}
STGCNPP_CONFIG = REPO_ROOT / 'configs/stgcn++/stgcn++_ntu60_xsub_3dkp/j.py'


pytestmark = pytest.mark.usefixtures('one_thread')


def build(config):
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(REPO_ROOT / config).model)


def randomised(state_dict):
    """Distinct values everywhere, so a swapped or dropped tensor cannot go unnoticed."""
    gen = torch.Generator().manual_seed(1)
    return OrderedDict((k, torch.randint(0, 1000, v.shape, generator=gen) if not v.is_floating_point() else
                        torch.randn(v.shape, generator=gen)) for k, v in state_dict.items())


def as_mmaction2(pyskl_state):
    """MMAction2 1.x keeps PYSKL's backbone names; only GCNHead's classifier is called ``fc`` there."""
    return OrderedDict((k.replace('cls_head.fc_cls.', 'cls_head.fc.'), v) for k, v in pyskl_state.items())


# --------------------------------------------------------------------------------------------- the full families
@pytest.mark.parametrize('family', list(CONFIGS))
def test_mmaction2_checkpoint_of_every_family_loads_strictly(family):
    model = build(CONFIGS[family])
    mm_state = as_mmaction2(randomised(model.state_dict()))
    assert 'cls_head.fc.weight' in mm_state and 'cls_head.fc_cls.weight' not in mm_state

    assert detect_family(mm_state) == family
    converted = convert_state_dict(mm_state, src='mmaction2', dst='pyskl')
    load_state_dict(model, converted, strict=True)
    for key, value in model.state_dict().items():
        source = key.replace('cls_head.fc_cls.', 'cls_head.fc.')
        assert torch.equal(value, mm_state[source]), key


@pytest.mark.parametrize('family', list(CONFIGS))
def test_round_trip_pyskl_mmaction2_pyskl_is_bit_exact(family):
    state = randomised(build(CONFIGS[family]).state_dict())
    there = convert_state_dict(state, src='pyskl', dst='mmaction2')
    assert list(there) == list(as_mmaction2(state))
    back = convert_state_dict(there, src='mmaction2', dst='pyskl', family=family)
    assert list(back) == list(state)
    assert all(torch.equal(back[k], state[k]) and back[k].dtype == state[k].dtype for k in state)


# ------------------------------------------------------------------------------------------- hand-built layouts
def mmaction2_stgcnpp_shapes(in_channels, widths, strides, num_subsets, num_joints, num_classes):
    """Key -> shape of MMAction2's STGCN(gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn') + GCNHead,
    written from its module tree: data_bn; per block gcn (A, bn, conv, down), tcn (mstcn: 4 dilated branches, a
    max-pool branch, a 1x1 branch, transform, bn), residual (a strided 1x1 unit_tcn, not in block 0); head fc."""
    shapes = OrderedDict()

    def bn(prefix, c):
        for name in ('weight', 'bias', 'running_mean', 'running_var'):
            shapes[f'{prefix}.{name}'] = (c, )
        shapes[f'{prefix}.num_batches_tracked'] = ()

    def conv(prefix, c_out, c_in, k=1):
        shapes[f'{prefix}.weight'], shapes[f'{prefix}.bias'] = (c_out, c_in, k, 1), (c_out, )

    bn('backbone.data_bn', in_channels * num_joints)
    c_in = in_channels
    for n, (c_out, stride) in enumerate(zip(widths, strides)):
        p = f'backbone.gcn.{n}'
        shapes[f'{p}.gcn.A'] = (num_subsets, num_joints, num_joints)
        bn(f'{p}.gcn.bn', c_out)
        conv(f'{p}.gcn.conv', num_subsets * c_out, c_in)
        if c_in != c_out:
            conv(f'{p}.gcn.down.0', c_out, c_in)
            bn(f'{p}.gcn.down.1', c_out)
        mid = c_out // 6
        for j, width in enumerate([c_out - 5 * mid] + [mid] * 3):
            conv(f'{p}.tcn.branches.{j}.0', width, c_out)
            bn(f'{p}.tcn.branches.{j}.1', width)
            conv(f'{p}.tcn.branches.{j}.3.conv', width, width, k=3)
        conv(f'{p}.tcn.branches.4.0', mid, c_out)
        bn(f'{p}.tcn.branches.4.1', mid)
        conv(f'{p}.tcn.branches.5', mid, c_out)
        bn(f'{p}.tcn.transform.0', c_out)
        conv(f'{p}.tcn.transform.2', c_out, c_out)
        bn(f'{p}.tcn.bn', c_out)
        if n > 0 and (c_in != c_out or stride != 1):
            conv(f'{p}.residual.conv', c_out, c_in)
            bn(f'{p}.residual.bn', c_out)
        c_in = c_out
    shapes['cls_head.fc.weight'], shapes['cls_head.fc.bias'] = (num_classes, c_in), (num_classes, )
    return shapes


def random_state(shapes):
    gen = torch.Generator().manual_seed(2)
    return OrderedDict((k, torch.tensor(7) if not s else torch.randn(s, generator=gen)) for k, s in shapes.items())


def test_hand_built_mmaction2_stgcnpp_checkpoint_loads_into_our_model():
    # Blocks: 3 -> 12 (block 0, no residual), 12 -> 12, 12 -> 24 with temporal stride 2.
    model = MODELS.build(dict(
        type='RecognizerGCN',
        backbone=dict(type='STGCN', base_channels=12, num_stages=3, inflate_stages=[3], down_stages=[3],
                      gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn',
                      graph_cfg=dict(layout='nturgb+d', mode='spatial')),
        cls_head=dict(type='GCNHead', num_classes=5, in_channels=24)))
    mm_state = random_state(mmaction2_stgcnpp_shapes(3, [12, 12, 24], [1, 1, 2], 3, 25, 5))
    converted = convert_state_dict(mm_state, src='mmaction2', dst='pyskl', family='stgcn++')
    load_state_dict(model, converted, strict=True)
    assert torch.equal(model.cls_head.fc_cls.weight, mm_state['cls_head.fc.weight'])
    assert torch.equal(model.backbone.gcn[2].tcn.branches[0][3].conv.weight,
                       mm_state['backbone.gcn.2.tcn.branches.0.3.conv.weight'])


def posec3d_slowonly_keys():
    """A two-stage ResNet3dSlowOnly + I3DHead in MMAction2's (= PYSKL's) names: mmcv ConvModules 'conv' + 'bn'."""
    keys = ['backbone.conv1.conv.weight'] + [f'backbone.conv1.bn.{n}' for n in ('weight', 'bias')]
    for layer in (1, 2):
        for conv in (1, 2, 3):
            keys += [f'backbone.layer{layer}.0.conv{conv}.conv.weight', f'backbone.layer{layer}.0.conv{conv}.bn.weight',
                     f'backbone.layer{layer}.0.conv{conv}.bn.running_var']
        keys += [f'backbone.layer{layer}.0.downsample.conv.weight', f'backbone.layer{layer}.0.downsample.bn.bias']
    return keys + ['cls_head.fc_cls.weight', 'cls_head.fc_cls.bias']


def test_resnet3d_keys_are_kept_and_the_family_is_detected():
    state = OrderedDict((k, torch.full((2, ), float(i))) for i, k in enumerate(posec3d_slowonly_keys()))
    assert detect_family(state) == 'resnet3d'
    converted = convert_state_dict(state, src='mmaction2', dst='pyskl')
    assert list(converted) == list(state) and all(converted[k] is state[k] for k in state)
    assert list(convert_state_dict(converted, src='pyskl', dst='mmaction2')) == list(state)


# PoseC3D models written from MMAction2 1.x's module trees (mmaction/models/backbones/{resnet3d,c3d,x3d}.py,
# heads/i3d_head.py): key -> shape
def bn_shapes(prefix, c):
    return [(f'{prefix}.{n}', (c, )) for n in ('weight', 'bias', 'running_mean', 'running_var')] + \
        [(f'{prefix}.num_batches_tracked', ())]


def conv_module_shapes(prefix, c_out, c_in, kernel):
    """mmcv ConvModule with BN: a bias-free conv, then the BN."""
    return [(f'{prefix}.conv.weight', (c_out, c_in) + kernel)] + bn_shapes(f'{prefix}.bn', c_out)


def mmaction2_c3d_shapes(in_channels, base, num_classes):
    """MMAction2's C3D (conv1a, conv2a, conv3a/b, conv4a/b with BN) cut at conv4b, as PoseC3D's C3D-light."""
    widths = [('1a', in_channels, base), ('2a', base, 2 * base), ('3a', 2 * base, 4 * base),
              ('3b', 4 * base, 4 * base), ('4a', 4 * base, 8 * base), ('4b', 8 * base, 8 * base)]
    shapes = [s for name, c_in, c_out in widths for s in conv_module_shapes(f'backbone.conv{name}', c_out, c_in,
                                                                            (3, 3, 3))]
    return OrderedDict(shapes + [('cls_head.fc_cls.weight', (num_classes, 8 * base)),
                                 ('cls_head.fc_cls.bias', (num_classes, ))])


def mmaction2_x3d_shapes(in_channels, base, stage_blocks, gamma_b, num_classes):
    """MMAction2's X3D: conv1_s (no BN), channel-wise conv1_t, blocks registering downsample before conv1..conv3,
    SE (fc1, fc2 with bias; bottleneck 8 here) on every other block after conv3, then conv5."""
    shapes = [('backbone.conv1_s.conv.weight', (base, in_channels, 1, 3, 3))]
    shapes += conv_module_shapes('backbone.conv1_t', base, 1, (5, 1, 1))
    c_in = base
    for i, blocks in enumerate(stage_blocks):
        width = base * 2**i
        planes = int(width * gamma_b)
        for b in range(blocks):
            p = f'backbone.layer{i + 1}.{b}'
            if b == 0:
                shapes += conv_module_shapes(f'{p}.downsample', width, c_in, (1, 1, 1))
            shapes += conv_module_shapes(f'{p}.conv1', planes, c_in if b == 0 else width, (1, 1, 1))
            shapes += conv_module_shapes(f'{p}.conv2', planes, 1, (3, 3, 3))
            shapes += conv_module_shapes(f'{p}.conv3', width, planes, (1, 1, 1))
            if b % 2 == 0:
                shapes += [(f'{p}.se_module.fc1.weight', (8, planes, 1, 1, 1)), (f'{p}.se_module.fc1.bias', (8, )),
                           (f'{p}.se_module.fc2.weight', (planes, 8, 1, 1, 1)), (f'{p}.se_module.fc2.bias', (planes, ))]
        c_in = width
    shapes += conv_module_shapes('backbone.conv5', int(c_in * gamma_b), c_in, (1, 1, 1))
    return OrderedDict(shapes + [('cls_head.fc_cls.weight', (num_classes, int(c_in * gamma_b))),
                                 ('cls_head.fc_cls.bias', (num_classes, ))])


POSEC3D_MODELS = {  # family -> (our model dict, MMAction2's state dict shapes)
    'c3d': (dict(type='C3D', in_channels=17, base_channels=4, num_stages=3, temporal_downsample=False),
            mmaction2_c3d_shapes(17, 4, 5)),
    'x3d': (dict(type='X3D', in_channels=17, base_channels=8, num_stages=2, stage_blocks=(1, 3), gamma_d=1,
                 spatial_strides=(2, 2)), mmaction2_x3d_shapes(17, 8, (1, 3), 2.25, 5)),
}


@pytest.mark.parametrize('family', list(POSEC3D_MODELS))
def test_hand_built_mmaction2_posec3d_checkpoint_loads_strictly_and_back(family):
    backbone, shapes = POSEC3D_MODELS[family]
    in_channels = shapes['cls_head.fc_cls.weight'][1]
    model = MODELS.build(dict(type='Recognizer3D', backbone=backbone,
                              cls_head=dict(type='I3DHead', in_channels=in_channels, num_classes=5)))
    mm_state = random_state(shapes)
    assert detect_family(mm_state) == family
    converted = convert_state_dict(mm_state, src='mmaction2', dst='pyskl')
    load_state_dict(model, converted, strict=True)
    assert list(model.state_dict()) == list(mm_state)  # same names, same order
    assert all(torch.equal(v, mm_state[k]) for k, v in model.state_dict().items())
    back = convert_state_dict(model.state_dict(), src='pyskl', dst='mmaction2')
    assert list(back) == list(mm_state) and all(torch.equal(back[k], mm_state[k]) for k in mm_state)


def test_mmaction2_c3d_parts_pyskl_has_not_are_refused():
    """MMAction2's sports1m C3D has conv biases (no BN) and fc6 / fc7; PYSKL's C3D has neither."""
    state = random_state(mmaction2_c3d_shapes(3, 4, 5))
    state['backbone.conv1a.conv.bias'] = torch.zeros(4)
    state['backbone.fc6.weight'] = torch.zeros(8, 8)
    with pytest.raises(CheckpointError, match='2 key') as err:
        convert_state_dict(state, src='mmaction2', dst='pyskl')
    assert 'backbone.conv1a.conv.bias' in str(err.value) and 'backbone.fc6.weight' in str(err.value)


# ------------------------------------------------------------------------------ PYSKL's own weights (../shared)
REF_CASES = {
    'dev_stgcn_pyskl_ntu60_xsub_3dkp_j': 'stgcn',
    'dev_stgcn_vanilla_ntu60_xsub_3dkp_j': 'stgcn',
    'dev_stgcnpp_ntu60_xsub_hrnet_j': 'stgcn++',
    'dev_aagcn_pyskl_ntu60_xsub_3dkp_j': 'aagcn',
    'dev_ctrgcn_pyskl_ntu60_xsub_3dkp_j': 'ctrgcn',
    'dev_msg3d_pyskl_ntu60_xsub_3dkp_j': 'msg3d',
    'dev_posec3d_slowonly_r50_ntu60_xsub_joint': 'resnet3d',
    'dev_posec3d_c3d_light_ntu60_xsub_joint': 'c3d',
    'dev_posec3d_x3d_shallow_ntu60_xsub_joint': 'x3d',
}
POSEC3D_FAMILIES = ('resnet3d', 'c3d', 'x3d')


@pytest.mark.parametrize('case', list(REF_CASES))
def test_state_dicts_written_by_pyskl_convert_both_ways(case):
    state = load_ref(case)['state_dict']
    family = REF_CASES[case]
    assert detect_family(state) == family
    there = convert_state_dict(state, src='pyskl', dst='mmaction2')
    expected = list(state) if family in POSEC3D_FAMILIES else list(as_mmaction2(state))  # I3DHead keeps 'fc_cls'
    assert list(there) == expected
    back = convert_state_dict(there, src='mmaction2', dst='pyskl')
    assert list(back) == list(state) and all(torch.equal(back[k], state[k]) for k in state)


def test_released_pyskl_checkpoint_hagrid_round_trips_through_files(tmp_path):
    hagrid = shared_file('data', 'hagrid.pth')
    convert_checkpoint(hagrid, tmp_path / 'mm.pth', src='pyskl', dst='mmaction2')
    mm = torch.load(tmp_path / 'mm.pth', weights_only=True)
    assert mm['meta']['family'] == 'stgcn++' and mm['state_dict']['cls_head.fc.weight'].shape == (40, 128)
    convert_checkpoint(tmp_path / 'mm.pth', tmp_path / 'back.pth', src='mmaction2', dst='pyskl')
    original = torch.load(hagrid, weights_only=True)
    back = torch.load(tmp_path / 'back.pth', weights_only=True)['state_dict']
    assert list(back) == list(original) and all(torch.equal(back[k], original[k]) for k in original)


# --------------------------------------------------------------------------------------------------- refusals
def test_unknown_keys_are_listed_not_dropped():
    state = as_mmaction2(build(CONFIGS['stgcn']).state_dict())
    state['backbone.gcn.0.gcn.extra.weight'] = torch.zeros(1)
    state['backbone.neck.weight'] = torch.zeros(1)
    with pytest.raises(CheckpointError, match='2 key') as err:
        convert_state_dict(state, src='mmaction2', dst='pyskl')
    assert 'backbone.gcn.0.gcn.extra.weight' in str(err.value) and 'backbone.neck.weight' in str(err.value)


def test_another_familys_checkpoint_does_not_pass_as_this_family():
    aagcn = as_mmaction2(build(CONFIGS['aagcn']).state_dict())
    with pytest.raises(CheckpointError, match='not in the stgcn key map') as err:
        convert_state_dict(aagcn, src='mmaction2', dst='pyskl', family='stgcn')
    assert 'conv_d' in str(err.value)


def test_pyskl_variant_mmaction2_cannot_build_is_refused():
    """MMAction2's AAGCNBlock only builds unit_tcn: an AAGCN with mstcn has no MMAction2 layout."""
    model = MODELS.build(dict(type='AAGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'), base_channels=12,
                              num_stages=2, inflate_stages=[], down_stages=[], tcn_type='mstcn'))
    state = OrderedDict(('backbone.' + k, v) for k, v in model.state_dict().items())
    with pytest.raises(CheckpointError, match='tcn.branches'):
        convert_state_dict(state, src='pyskl', dst='mmaction2')


def test_dgstgcn_has_no_mmaction2_layout():
    state = build('configs/dgstgcn/ntu60_xsub_3dkp/j.py').state_dict()
    assert detect_family(state) == 'dgstgcn'
    with pytest.raises(CheckpointError, match='DG-STGCN has no MMAction2'):
        convert_state_dict(state, src='pyskl', dst='mmaction2')


def test_unrecognisable_keys_and_bad_layouts():
    with pytest.raises(CheckpointError, match='cannot tell the model family'):
        detect_family({'encoder.weight': torch.zeros(1)})
    with pytest.raises(ValueError, match='both'):
        convert_state_dict({}, src='pyskl', dst='pyskl')
    with pytest.raises(ValueError, match="src must be one of"):
        convert_state_dict({}, src='mmaction', dst='pyskl')


# ------------------------------------------------------------------------------------------- files and the CLI
def mmengine_checkpoint(state_dict):
    """How an MMAction2 1.x (mmengine) training run saves: meta + state_dict (+ optimizer), DDP prefix possible."""
    return dict(meta=dict(epoch=3, iter=30, mmaction2_version='1.2.0'),
                state_dict=OrderedDict(('module.' + k, v) for k, v in state_dict.items()),
                optimizer=dict(state={}, param_groups=[dict(lr=0.1, params=[0])]))


@pytest.fixture(scope='module')
def stgcnpp():
    model = build(STGCNPP_CONFIG)
    return model, randomised(model.state_dict())


def load_tool():
    return load_script('tools/convert_checkpoint.py')


def test_cli_converts_an_mmengine_checkpoint_and_checks_it_against_the_config(stgcnpp, tmp_path):
    model, state = stgcnpp
    src, out = tmp_path / 'mm.pth', tmp_path / 'pyskl.pth'
    torch.save(mmengine_checkpoint(as_mmaction2(state)), src)
    proc = python_tool('convert_checkpoint.py', src, out, '--src', 'mmaction2', '--dst', 'pyskl', '--config',
                       STGCNPP_CONFIG)
    assert 'checked against' in proc.stdout
    written = torch.load(out, map_location='cpu', weights_only=True)
    assert set(written) == {'state_dict', 'meta'}
    assert written['meta']['family'] == 'stgcn++' and written['meta']['converted_from'] == 'mmaction2'
    assert list(written['state_dict']) == list(state)  # PYSKL's key order
    load_state_dict(model, written['state_dict'], strict=True)
    assert all(torch.equal(written['state_dict'][k], state[k]) for k in state)


def test_cli_refuses_a_wrong_shape_naming_the_key(stgcnpp, tmp_path):
    _, state = stgcnpp
    bad = as_mmaction2(state)
    bad['cls_head.fc.weight'] = torch.zeros(61, 256)
    src, out = tmp_path / 'mm.pth', tmp_path / 'pyskl.pth'
    torch.save(bad, src)
    with pytest.raises(SystemExit) as err:
        load_tool().main([str(src), str(out), '--config', str(STGCNPP_CONFIG)])
    message = str(err.value.code)
    assert 'cls_head.fc_cls.weight' in message and 'shape' in message and '(61, 256)' in message
    assert not out.exists()


def test_cli_refuses_unknown_keys_and_writes_nothing(stgcnpp, tmp_path):
    _, state = stgcnpp
    bad = as_mmaction2(state)
    bad['backbone.gcn.3.tcn.lateral.weight'] = torch.zeros(1)
    src, out = tmp_path / 'mm.pth', tmp_path / 'pyskl.pth'
    torch.save(bad, src)
    with pytest.raises(SystemExit) as err:
        load_tool().main([str(src), str(out)])
    assert 'backbone.gcn.3.tcn.lateral.weight' in str(err.value.code) and str(src) in str(err.value.code)
    assert not out.exists()


def test_config_check_refuses_missing_keys_on_the_pyskl_side(stgcnpp, tmp_path):
    model, state = stgcnpp
    partial = OrderedDict((k, v) for k, v in state.items() if not k.startswith('backbone.gcn.9.'))
    src = tmp_path / 'pyskl.pth'
    torch.save(partial, src)
    with pytest.raises(CheckpointError, match=r'missing keys .*backbone\.gcn\.9\.'):
        convert_checkpoint(src, tmp_path / 'mm.pth', src='pyskl', dst='mmaction2', model=model)
    assert not (tmp_path / 'mm.pth').exists()


def test_file_round_trip_pyskl_mmaction2_pyskl(stgcnpp, tmp_path):
    model, state = stgcnpp
    torch.save(dict(state_dict=state), tmp_path / 'a.pth')
    convert_checkpoint(tmp_path / 'a.pth', tmp_path / 'mm.pth', src='pyskl', dst='mmaction2', model=model)
    there = torch.load(tmp_path / 'mm.pth', weights_only=True)['state_dict']
    assert 'cls_head.fc.weight' in there
    convert_checkpoint(tmp_path / 'mm.pth', tmp_path / 'b.pth', src='mmaction2', dst='pyskl', model=model)
    back = torch.load(tmp_path / 'b.pth', weights_only=True)['state_dict']
    assert list(back) == list(state) and all(torch.equal(back[k], state[k]) for k in state)
