"""RGBPoseConv3D at full size (rgbpose_conv3d.py's model, 36.1 M parameters) on PYSKL's training shapes: one sample
of 8 RGB frames at 224 x 224 and 32 heatmap frames at 56 x 56, forward and backward (several seconds on 2 cores).
test_rgbposeconv3d.py runs the same stage plan at a quarter of the widths, and this model on 112 x 112 RGB with its
RGB stem's max-pool stride 1."""
import torch
from mmengine.config import Config

from pyskl.registry import MODELS
from pyskl.structures import ActionDataSample
from tests.conftest import REPO_ROOT


def test_rgbpose_conv3d_trains_a_step_on_pyskls_input_shapes():
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(REPO_ROOT / 'configs/rgbpose_conv3d/rgbpose_conv3d.py')).model)
    assert sum(p.numel() for p in model.parameters()) == 36_147_928
    inputs = dict(imgs=torch.randn(1, 1, 3, 8, 224, 224), heatmap_imgs=torch.rand(1, 1, 17, 32, 56, 56))
    x_rgb, x_pose = model.extract_feat({k: v[:, 0] for k, v in inputs.items()})
    assert x_rgb.shape == (1, 2048, 8, 7, 7) and x_pose.shape == (1, 512, 32, 7, 7)
    losses = model(inputs, [ActionDataSample().set_gt_label(7)], mode='loss')
    assert set(losses) == {f'{s}_{k}' for s in ('rgb', 'pose') for k in ('top1_acc', 'top5_acc', 'loss_cls')}
    (losses['rgb_loss_cls'] + losses['pose_loss_cls']).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    model.eval()
    with torch.no_grad():
        scores = model(inputs, mode='tensor')
    assert scores['rgb'].shape == scores['pose'].shape == (1, 1, 60)
