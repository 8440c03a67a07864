"""tools/merge_rgbpose_pretrain.py on tiny rgb_only- and pose_only-like checkpoints (the configs' structures at tiny
widths): the output loads strictly into the tiny RGBPoseConv3D model, which then scores each stream exactly as the
single-stream model did (the laterals' inputs start with zero weights); the laterals follow --seed; checkpoints
that do not fit are refused by name. (The real configs' key sets: tests/configs/test_rgbpose_configs.py.)"""

import pytest
import torch

from pyskl.registry import MODELS
from pyskl.utils import load_checkpoint
from pyskl.utils.checkpoint import save_checkpoint_atomic
from tests.conftest import load_script
from tests.models.helpers import TINY3D, TINY_POSE_PATHWAY, TINY_RGB_PATHWAY, tiny_rgbpose

pytestmark = pytest.mark.usefixtures('one_thread')

K = 4
LATERAL_KEYS = ('lateral', 'lateral_inv', 'lateral_infl', 'lateral_activate', 'fusion_kernel')
TINY_RGB_ONLY = dict(type='Recognizer3D',
                     backbone=dict(type='ResNet3dSlowOnly',
                                   **{k: v for k, v in TINY_RGB_PATHWAY.items() if k not in LATERAL_KEYS}),
                     cls_head=dict(type='I3DHead', in_channels=256, num_classes=K))
TINY_POSE_ONLY = dict(type='Recognizer3D',
                      backbone=dict(type='ResNet3dSlowOnly',
                                    **{k: v for k, v in TINY_POSE_PATHWAY.items() if k not in LATERAL_KEYS}),
                      cls_head=dict(type='I3DHead', in_channels=64, num_classes=K))
TINY_RGBPOSE = dict(type='MMRecognizer3D', backbone=dict(type='RGBPoseConv3D', **TINY3D['RGBPoseConv3D']),
                    cls_head=dict(type='RGBPoseHead', num_classes=K, in_channels=[256, 64]))


def load_tool():
    return load_script('tools/merge_rgbpose_pretrain.py')


def trained_like(model_cfg, seed):
    """A model whose weights and BN statistics are off their initial values, as after training."""
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.1)
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval()


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp('merge')
    models = dict(rgb=trained_like(TINY_RGB_ONLY, 1), pose=trained_like(TINY_POSE_ONLY, 2))
    for name, model in models.items():  # mmengine's checkpoint layout
        save_checkpoint_atomic(dict(meta=dict(epoch=18), state_dict=model.state_dict()), str(folder / f'{name}.pth'))
    config = folder / 'tiny_rgbpose.py'
    config.write_text(f"default_scope = 'pyskl'\nmodel = {TINY_RGBPOSE!r}\n")
    return folder, models, str(config)


def merge(folder, config, out='merged.pth', rgb='rgb.pth', pose='pose.pth', seed=0):
    return load_tool().main([str(folder / rgb), str(folder / pose), str(folder / out), '--config', config,
                             '--seed', str(seed)])


def test_the_merged_checkpoint_loads_strictly_and_scores_as_the_two_models(checkpoints):
    folder, models, config = checkpoints
    merged = merge(folder, config)
    assert len(merged.padded) == 8 and len(merged.initialised) == 14
    model = MODELS.build(TINY_RGBPOSE)
    written = load_checkpoint(model, str(folder / 'merged.pth'), strict=True)
    assert list(written) == ['state_dict']
    imgs, heatmaps = tiny_rgbpose(t=8)
    with torch.no_grad():
        scores = model.eval()(dict(imgs=imgs[:, None], heatmap_imgs=heatmaps[:, None]), mode='tensor')
        rgb, pose = models['rgb'].cls_head(models['rgb'].backbone(imgs)), \
            models['pose'].cls_head(models['pose'].backbone(heatmaps))
    torch.testing.assert_close(scores['rgb'][:, 0], rgb, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(scores['pose'][:, 0], pose, rtol=1e-5, atol=1e-5)
    assert rgb.std() > 0.01 and pose.std() > 0.01  # not a degenerate match


def test_the_laterals_follow_the_seed(checkpoints):
    folder, _, config = checkpoints
    first, again, other = (merge(folder, config, out, seed=seed).state_dict
                           for out, seed in (('a.pth', 3), ('b.pth', 3), ('c.pth', 4)))
    key = 'backbone.rgb_path.layer2_lateral.conv.weight'
    assert torch.equal(first[key], again[key]) and not torch.equal(first[key], other[key])
    assert torch.equal(first['cls_head.fc_rgb.weight'], other['cls_head.fc_rgb.weight'])


def test_checkpoints_that_do_not_fit_are_refused_by_name(checkpoints):
    folder, _, config = checkpoints
    with pytest.raises(SystemExit, match='do not fit the RGBPose model; .*shapes that do not fit: '
                                         r"\['backbone.rgb_path.conv1.conv.weight"):
        merge(folder, config, rgb='pose.pth', pose='rgb.pth')
    with pytest.raises(SystemExit, match='does not exist'):
        merge(folder, config, rgb='missing.pth')
    state = torch.load(folder / 'pose.pth', weights_only=True)['state_dict']
    save_checkpoint_atomic(dict(state, **{'neck.fc.weight': torch.zeros(1)}), str(folder / 'necked.pth'))
    with pytest.raises(SystemExit, match=r"the pose checkpoint has keys outside .*\['neck.fc.weight'\]"):
        merge(folder, config, pose='necked.pth')
