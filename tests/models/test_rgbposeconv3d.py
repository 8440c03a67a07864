"""RGBPoseConv3D: PYSKL's forward restated step by step gives our outputs; PYSKL's parameter count and key layout;
detach and drop-path (off after eval(), unlike PYSKL); the checks on its configuration and inputs; the full-depth,
quarter-width model trained one step on 8 x 112 x 112 RGB + 32 x 28 x 28 heatmaps; rgbpose_conv3d.py's full model on
8 x 112 x 112 RGB + 32 x 56 x 56 heatmaps."""
import pytest
import torch

from pyskl.models.backbones.rgbposeconv3d import POSE_PATHWAY, RGB_PATHWAY, RGBPoseConv3D
from pyskl.models.backbones.utils import channels_last_on_cpu
from pyskl.registry import MODELS

from .helpers import TINY3D, TINY_POSE_PATHWAY, TINY_RGB_PATHWAY, tiny_rgbpose

pytestmark = pytest.mark.usefixtures('one_thread')

HEAD = dict(type='RGBPoseHead', num_classes=60, in_channels=[2048, 512])


def build_tiny(seed=0, **kwargs):
    torch.manual_seed(seed)
    return RGBPoseConv3D(**dict(TINY3D['RGBPoseConv3D'], **kwargs))


def pyskl_forward(model, imgs, heatmap_imgs):
    """PYSKL's RGBPoseConv3D.forward (3f6795f), written out for its two-pairs stage plan, without drop-path."""
    rgb, pose = model.rgb_path, model.pose_path
    x_rgb = rgb.layer2(rgb.layer1(rgb.maxpool(rgb.conv1(imgs))))
    x_pose = pose.layer1(pose.maxpool(pose.conv1(heatmap_imgs)))
    x_rgb, x_pose = (torch.cat((x_rgb, rgb.layer2_lateral(x_pose)), dim=1),
                     torch.cat((x_pose, pose.layer1_lateral(x_rgb)), dim=1))
    x_rgb, x_pose = rgb.layer3(x_rgb), pose.layer2(x_pose)
    x_rgb, x_pose = (torch.cat((x_rgb, rgb.layer3_lateral(x_pose)), dim=1),
                     torch.cat((x_pose, pose.layer2_lateral(x_rgb)), dim=1))
    return rgb.layer4(x_rgb), pose.layer3(x_pose)


def count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('training', [True, False])
def test_same_outputs_as_pyskls_forward(training):
    model = build_tiny().train(training)
    imgs, heatmaps = tiny_rgbpose(t=8)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    ours = model(imgs, heatmaps)
    model.load_state_dict(state)  # the same BN statistics before the second training forward
    theirs = pyskl_forward(model, channels_last_on_cpu(imgs), channels_last_on_cpu(heatmaps))  # the same kernels
    assert [o.shape for o in ours] == [(2, 256, 2, 2, 2), (2, 64, 8, 2, 2)]
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_pyskls_parameter_count_and_key_layout():
    """rgbpose_conv3d.py's model: 36,147,928 parameters (facts §4); keys backbone.rgb_path, backbone.pose_path, then
    the head's fc_rgb and fc_pose (PYSKL's names), laterals after each pathway's own layers."""
    model = MODELS.build(dict(type='MMRecognizer3D', backbone=dict(type='RGBPoseConv3D'), cls_head=HEAD))
    assert count(model) == 36_147_928
    keys = list(model.state_dict())
    assert keys[-4:] == ['cls_head.fc_rgb.weight', 'cls_head.fc_rgb.bias', 'cls_head.fc_pose.weight',
                         'cls_head.fc_pose.bias']
    prefixes = [k.split('.')[1] for k in keys[:-4]]
    assert prefixes == sorted(prefixes, key=['rgb_path', 'pose_path'].index)  # all rgb_path keys, then pose_path
    shapes = model.state_dict()
    # the inputs that lateral features widen (merge_pretrain.ipynb pads these)
    assert shapes['backbone.rgb_path.layer3.0.conv1.conv.weight'].shape == (256, 640, 3, 1, 1)
    assert shapes['backbone.rgb_path.layer4.0.downsample.conv.weight'].shape == (2048, 1280, 1, 1, 1)
    assert shapes['backbone.pose_path.layer2.0.conv1.conv.weight'].shape == (64, 160, 3, 1, 1)
    assert shapes['backbone.pose_path.layer3.0.downsample.conv.weight'].shape == (512, 320, 1, 1, 1)
    assert model.backbone.spatial_ratio == 4 and model.backbone.stage_offset == 1


def test_the_default_pathways_are_pyskls_and_the_dicts_are_not_changed():
    model = RGBPoseConv3D(speed_ratio=2, channel_ratio=2, rgb_pathway=dict(RGB_PATHWAY, base_channels=8),
                          pose_pathway=dict(POSE_PATHWAY, base_channels=8, stage_blocks=(1, 1, 1)))
    assert model.rgb_path.speed_ratio == model.pose_path.channel_ratio == 2
    assert 'speed_ratio' not in RGB_PATHWAY and 'channel_ratio' not in POSE_PATHWAY


def grads_after(model, loss_of):
    model.zero_grad(set_to_none=True)
    loss_of(model(*tiny_rgbpose(t=8))).backward()
    return {n: p.grad for n, p in model.named_parameters()}


@pytest.mark.parametrize('detach, into, other', [('rgb_detach', 0, 'pose_path'), ('pose_detach', 1, 'rgb_path')])
def test_detach_stops_the_gradient_through_the_laterals_into_a_pathway(detach, into, other):
    """A loss on one pathway's output reaches the other pathway only through the laterals into it."""
    def loss_of(out):
        return out[into].square().mean()

    attached = grads_after(build_tiny().train(), loss_of)
    assert any(g is not None and g.abs().sum() > 0 for n, g in attached.items() if n.startswith(f'{other}.layer1.'))
    detached = grads_after(build_tiny(**{detach: True}).train(), loss_of)
    assert all(g is None for n, g in detached.items() if n.startswith(f'{other}.layer'))


def test_drop_path_zeroes_the_laterals_into_a_pathway_in_training_only():
    imgs, heatmaps = tiny_rgbpose(t=8)
    dropped = build_tiny(rgb_drop_path=1.).train()
    kept = build_tiny().train()
    with torch.no_grad():
        for name in ('layer2_lateral', 'layer3_lateral'):  # what the RGB pathway would see as lateral inputs
            getattr(kept.rgb_path, name).conv.weight.zero_()
        x_rgb, x_pose = dropped(imgs, heatmaps)
        zero_rgb, same_pose = kept(imgs, heatmaps)
    torch.testing.assert_close(x_rgb, zero_rgb, rtol=0, atol=1e-6)
    torch.testing.assert_close(x_pose, same_pose, rtol=0, atol=1e-6)
    grads = grads_after(dropped, lambda out: out[0].mean() + out[1].mean())
    assert all(grads[n] is None for n in grads if n.startswith('rgb_path.layer') and '_lateral' in n)
    assert all(grads[n] is not None for n in grads if n.startswith('pose_path.layer') and '_lateral' in n)
    # eval() means eval: no drop-path at test time (PYSKL's train() kept self.training True)
    dropped, plain = build_tiny(rgb_drop_path=1.).train().eval(), build_tiny().eval()
    assert not dropped.training
    with torch.no_grad():
        for a, b in zip(dropped(imgs, heatmaps), plain(imgs, heatmaps)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_drop_path_draws_from_torch_random_stream_each_training_step():
    model = build_tiny(rgb_drop_path=0.5, pose_drop_path=0.5).train()
    torch.manual_seed(3)
    draws = [model._draw_drop_path() for _ in range(200)]
    torch.manual_seed(3)
    assert draws == [model._draw_drop_path() for _ in range(200)]
    rgb_rate = sum(d[0] for d in draws) / len(draws)
    assert 0.35 < rgb_rate < 0.65 and len(set(draws)) == 4
    assert model.eval()._draw_drop_path() == (False, False)


def test_bad_configurations_are_refused():
    with pytest.raises(ValueError, match='rgb_drop_path must be a probability'):
        build_tiny(rgb_drop_path=1.5)
    with pytest.raises(ValueError, match=r"no features reach \['rgb_path.layer1_lateral'\]"):
        build_tiny(rgb_pathway=dict(TINY_RGB_PATHWAY, lateral_activate=(0, 1, 1, 1)))
    with pytest.raises(ValueError, match=r"no features reach \['pose_path.conv1_lateral'\]"):
        build_tiny(pose_pathway=dict(TINY_POSE_PATHWAY, lateral_activate=(1, 1, 1)))
    with pytest.raises(ValueError, match='more stages'):
        build_tiny(rgb_pathway=dict(TINY_RGB_PATHWAY, num_stages=2, stage_blocks=(1, 1), lateral_activate=(0, 0),
                                    spatial_strides=(1, 2), temporal_strides=(1, 1), inflate=(0, 0),
                                    out_indices=(1, )))


@pytest.mark.parametrize('imgs_shape, heatmaps_shape', [
    ((1, 3, 2, 64, 64), (1, 5, 8, 32, 32)),  # heatmaps half the RGB size instead of a quarter
    ((1, 3, 2, 64, 64), (1, 5, 4, 16, 16)),  # 2 heatmap frames per RGB frame instead of speed_ratio = 4
])
def test_inputs_that_do_not_meet_are_one_clear_error(imgs_shape, heatmaps_shape):
    model = build_tiny().eval()
    with pytest.raises(ValueError, match='4 times smaller than the RGB frames in H and W and have speed_ratio=4'):
        model(torch.zeros(imgs_shape), torch.zeros(heatmaps_shape))


def test_full_depth_quarter_width_model_trains_a_step_on_112_rgb_and_28_heatmaps():
    """PYSKL's stage plan at a quarter of its widths (RGB base 16, pose base 8): 8 x 112 x 112 RGB frames meet
    32 x 28 x 28 heatmaps (a quarter of the size: 224 -> 56 in PYSKL's config); every parameter gets a gradient."""
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='MMRecognizer3D',
        backbone=dict(type='RGBPoseConv3D', rgb_pathway=dict(RGB_PATHWAY, base_channels=16),
                      pose_pathway=dict(POSE_PATHWAY, base_channels=8)),
        cls_head=dict(HEAD, in_channels=[512, 128])))
    inputs = dict(imgs=torch.randn(1, 1, 3, 8, 112, 112), heatmap_imgs=torch.rand(1, 1, 17, 32, 28, 28))
    x_rgb, x_pose = model.extract_feat({k: v[:, 0] for k, v in inputs.items()})
    assert x_rgb.shape == (1, 512, 8, 4, 4) and x_pose.shape == (1, 128, 32, 4, 4)
    from pyskl.structures import ActionDataSample
    losses = model(inputs, [ActionDataSample().set_gt_label(7)], mode='loss')
    (losses['rgb_loss_cls'] + losses['pose_loss_cls']).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_rgbpose_conv3d_config_trains_a_step_on_112_rgb_and_56_heatmaps():
    """rgbpose_conv3d.py's model (PYSKL's 36,147,928 parameters) on 8 x 112 x 112 RGB + 32 x 56 x 56 heatmaps. As
    PYSKL built it the pair cannot meet (its RGB stem divides H and W by 4, so 56 x 56 heatmaps need 224 x 224
    frames: one clear error); with the RGB stem's max-pool stride set to 1, a change that adds or renames no
    parameter, the 112 x 112 RGB features meet the heatmaps at 56 x 56 as 224 x 224 ones do, and the full model
    trains a step. PYSKL's own shapes, 224 + 56, are run in test_rgbposeconv3d_full_size.py."""
    from mmengine.config import Config

    from pyskl.structures import ActionDataSample
    from tests.conftest import REPO_ROOT

    cfg = Config.fromfile(str(REPO_ROOT / 'configs/rgbpose_conv3d/rgbpose_conv3d.py')).model
    inputs = dict(imgs=torch.randn(1, 1, 3, 8, 112, 112), heatmap_imgs=torch.rand(1, 1, 17, 32, 56, 56))
    torch.manual_seed(0)
    as_pyskl = MODELS.build(cfg)
    with pytest.raises(ValueError, match='heatmaps must be 4 times smaller than the RGB frames'):
        as_pyskl.extract_feat({k: v[:, 0] for k, v in inputs.items()})

    cfg.backbone.rgb_pathway.pool1_stride = (1, 1)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    assert sum(p.numel() for p in model.parameters()) == 36_147_928
    assert {k: v.shape for k, v in model.state_dict().items()} == {
        k: v.shape for k, v in as_pyskl.state_dict().items()}
    x_rgb, x_pose = model.extract_feat({k: v[:, 0] for k, v in inputs.items()})
    assert x_rgb.shape == (1, 2048, 8, 7, 7) and x_pose.shape == (1, 512, 32, 7, 7)
    losses = model(inputs, [ActionDataSample().set_gt_label(7)], mode='loss')
    (losses['rgb_loss_cls'] + losses['pose_loss_cls']).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
