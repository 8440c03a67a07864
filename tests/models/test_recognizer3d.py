"""Recognizer3D: one view per sample in training; every view (clips and their flips) scored and averaged in testing,
in chunks of max_testing_views or not; inputs checked against the backbone, naming the samples."""
import math

import pytest
import torch
import torch.nn.functional as F

from pyskl.registry import MODELS
from pyskl.structures import ActionDataSample

from .helpers import TINY3D

pytestmark = pytest.mark.usefixtures('one_thread')

K = 4


def build(backbone='ResNet3dSlowOnly', in_channels=32, **test_cfg):
    torch.manual_seed(0)
    model = MODELS.build(dict(type='Recognizer3D', backbone=dict(type=backbone, **TINY3D[backbone]),
                              cls_head=dict(type='I3DHead', in_channels=in_channels, num_classes=K),
                              test_cfg=test_cfg or None))
    return model.eval()


def views(n=2, v=5, c=5, t=4, hw=8):
    """``[N, num_views, C, T, H, W]``."""
    return torch.rand(n, v, c, t, hw, hw, generator=torch.Generator().manual_seed(1))


def samples(*names, label=0):
    return [ActionDataSample(metainfo=dict(frame_dir=name)).set_gt_label(label) for name in names]


def test_prob_averaging_is_softmax_then_mean():
    """By hand: views with logits (0, ln 4) and (0, 0) have probabilities (1/5, 4/5) and (1/2, 1/2), whose mean is
    (7/20, 13/20); averaging the logits first would give softmax(0, ln 2) = (1/3, 2/3)."""
    logits = torch.tensor([[[1.0, 4.0], [1.0, 1.0]]]).log()
    assert torch.allclose(build().average_clip(logits), torch.tensor([[7 / 20, 13 / 20]]))
    assert torch.allclose(build(average_clips='score').average_clip(logits), torch.tensor([[0.0, math.log(2)]]))


def test_predict_averages_the_views_probabilities():
    model = build()
    inputs = views()
    with torch.no_grad():
        per_view = model(inputs, mode='tensor')
        preds = model(inputs, mode='predict')
    assert per_view.shape == (2, 5, K)
    manual = F.softmax(per_view, dim=2).mean(dim=1)
    assert torch.allclose(torch.stack([p.pred_score for p in preds]), manual, atol=1e-6)
    # each view alone (a flipped copy is just another view) gives the same per-view scores
    with torch.no_grad():
        alone = model.cls_head(model.backbone(inputs[1, 3:4]))
    assert torch.allclose(alone, per_view[1, 3:4], atol=1e-5)


@pytest.mark.parametrize('max_views', [1, 3, 10, 100])
def test_max_testing_views_gives_the_same_scores(max_views):
    inputs = views()
    with torch.no_grad():
        whole = build()(inputs, mode='tensor')
        chunked = build(max_testing_views=max_views)(inputs, mode='tensor')
        preds = build(max_testing_views=max_views)(inputs, mode='predict')
    assert torch.allclose(chunked, whole, atol=1e-6)
    assert torch.allclose(torch.stack([p.pred_score for p in preds]), F.softmax(whole, 2).mean(1), atol=1e-6)


def test_slowfast_tuple_features_and_feature_extraction():
    model = build('ResNet3dSlowFast', in_channels=32 + 16)  # slow and fast features, pooled and concatenated
    inputs = views(v=3, t=8)
    with torch.no_grad():
        assert model(inputs, mode='tensor').shape == (2, 3, K)
        feats = model.extract_features(inputs)
        slow, fast = model.backbone(inputs[0, 1:2])
    assert feats.shape == (2, 48)
    with torch.no_grad():
        per_view = torch.stack([torch.cat([f.mean(dim=(2, 3, 4)) for f in model.backbone(inputs[0, i:i + 1])], 1)
                                for i in range(3)])
    assert torch.allclose(feats[0], per_view.mean(dim=0)[0], atol=1e-6)
    assert slow.shape[1] == 32 and fast.shape[1] == 16


def test_loss_takes_one_view_per_sample():
    model = build().train()
    losses = model(views(v=1), samples('a', 'b', label=2), mode='loss')
    assert set(losses) == {'loss_cls', 'top1_acc', 'top5_acc'} and losses['loss_cls'].requires_grad
    with pytest.raises(ValueError, match=r'one view per sample, got 5 views \(samples: a, b\)'):
        model(views(v=5), samples('a', 'b'), mode='loss')


def test_inputs_that_do_not_fit_the_backbone_are_named():
    model = build()
    with pytest.raises(ValueError, match=r'\[N, num_views, C, T, H, W\].*\(samples: S001, S002\)'):
        model(views()[:, 0], samples('S001', 'S002'), mode='predict')
    with pytest.raises(ValueError, match=r'C=17 channels \(samples: S001\).*in_channels=5'):
        model(torch.zeros(1, 2, 17, 4, 8, 8), samples('S001'), mode='predict')


def test_bad_max_testing_views_is_refused():
    with pytest.raises(ValueError, match='max_testing_views'):
        build(max_testing_views=0)


def test_test_step_stacks_per_sample_views():
    """The data preprocessor stacks each sample's ``[num_views, C, T, H, W]``; test_step predicts."""
    model = build()
    inputs = views()
    data = dict(inputs=[inputs[0], inputs[1]], data_samples=samples('x', 'y'))
    with torch.no_grad():
        preds = model.test_step(data)
        expected = F.softmax(model(inputs, mode='tensor'), 2).mean(1)
    assert [p.metainfo['frame_dir'] for p in preds] == ['x', 'y']
    assert torch.allclose(torch.stack([p.pred_score for p in preds]), expected, atol=1e-6)
