"""RGBPoseHead and MMRecognizer3D: per-stream losses (weights, components, dropout), per-stream test scores and
their 1:1 mean, view chunking, input checks naming the samples; ActionDataPreprocessor on RGBPose's dict inputs
(deferred heatmaps included); a sample from the pipeline's last steps through the model and the metric."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.dataset import Compose, pseudo_collate
from mmengine.evaluator import Evaluator

from pyskl.models.data_preprocessors import ActionDataPreprocessor
from pyskl.registry import MODELS
from pyskl.structures import ActionDataSample

from .helpers import TINY3D

pytestmark = pytest.mark.usefixtures('one_thread')

K = 4


def build(head=None, **test_cfg):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='MMRecognizer3D', backbone=dict(type='RGBPoseConv3D', **TINY3D['RGBPoseConv3D']),
        cls_head=dict(dict(type='RGBPoseHead', num_classes=K, in_channels=[256, 64]), **(head or {})),
        test_cfg=test_cfg or None))


def inputs(n=2, views=3, t=8, h=8):
    """``dict(imgs=[N, views, 3, t / 4, 4h, 4h], heatmap_imgs=[N, views, 5, t, h, h])``."""
    generator = torch.Generator().manual_seed(1)
    return dict(imgs=torch.randn(n, views, 3, t // 4, 4 * h, 4 * h, generator=generator),
                heatmap_imgs=torch.rand(n, views, 5, t, h, h, generator=generator))


def samples(*labels):
    return [ActionDataSample(metainfo=dict(frame_dir=f'S001C001P001R001A{i:03d}', sample_idx=i)).set_gt_label(label)
            for i, label in enumerate(labels)]


def test_head_keys_dropout_and_initialisation():
    head = MODELS.build(dict(type='RGBPoseHead', num_classes=60, in_channels=[2048, 512],
                             dropout=dict(rgb=0.3, pose=0.1)))
    assert list(head.state_dict()) == ['fc_rgb.weight', 'fc_rgb.bias', 'fc_pose.weight', 'fc_pose.bias']
    assert (head.dropout_rgb.p, head.dropout_pose.p) == (0.3, 0.1)
    assert head.fc_rgb.weight.std().item() == pytest.approx(0.01, rel=0.05) and not head.fc_pose.bias.any()
    head = MODELS.build(dict(type='RGBPoseHead', num_classes=60, in_channels=[2048, 512]))
    assert (head.dropout_rgb.p, head.dropout_pose.p) == (0.5, 0.5) and head.loss_weights == (1.0, 1.0)


def test_loss_is_each_components_cross_entropy_times_its_weight():
    model = build(head=dict(loss_weights=[2.0, 0.5], dropout=0.0)).train()
    x, batch = inputs(views=1), samples(1, 3)
    losses = model(x, batch, mode='loss')
    assert list(losses) == ['rgb_top1_acc', 'rgb_top5_acc', 'rgb_loss_cls', 'pose_top1_acc', 'pose_top5_acc',
                            'pose_loss_cls']
    check = build(head=dict(dropout=0.0)).train()  # the same weights, and the same batch statistics in its BNs
    scores = check.cls_head(check.extract_feat({k: v[:, 0] for k, v in x.items()}))
    labels = torch.tensor([1, 3])
    assert losses['rgb_loss_cls'].item() == pytest.approx(2.0 * F.cross_entropy(scores['rgb'], labels).item(), 1e-5)
    assert losses['pose_loss_cls'].item() == pytest.approx(0.5 * F.cross_entropy(scores['pose'], labels).item(), 1e-5)
    rgb_top1 = (scores['rgb'].argmax(1) == labels).float().mean().item()
    assert losses['rgb_top1_acc'].item() == pytest.approx(rgb_top1)


def test_loss_components_choose_the_streams_trained():
    losses = build(head=dict(loss_components=['pose'])).train()(inputs(views=1), samples(0, 2), mode='loss')
    assert set(losses) == {'pose_top1_acc', 'pose_top5_acc', 'pose_loss_cls'}


@pytest.mark.parametrize('head, message', [
    (dict(loss_components=['rgb', 'both']), 'loss_components must name streams'),
    (dict(loss_weights=[1.0]), '1 loss_weights for 2 loss_components'),
    (dict(dropout=dict(rgb=0.5)), 'dropout must be a number or dict'),
    (dict(in_channels=[256]), 'in_channels must be'),
])
def test_head_refuses_bad_settings(head, message):
    with pytest.raises(ValueError, match=message):
        build(head=head)


def test_predict_keeps_each_streams_view_average_and_their_mean():
    model = build().eval()
    x = inputs()
    with torch.no_grad():
        per_view = model(x, mode='tensor')
        preds = model(x, samples(0, 1), mode='predict')
    assert set(per_view) == {'rgb', 'pose'} and per_view['rgb'].shape == (2, 3, K)
    for stream in ('rgb', 'pose'):
        manual = F.softmax(per_view[stream], dim=2).mean(dim=1)
        torch.testing.assert_close(torch.stack([p.pred_scores[stream] for p in preds]), manual)
    fused = torch.stack([(p.pred_scores['rgb'] + p.pred_scores['pose']) / 2 for p in preds])
    torch.testing.assert_close(torch.stack([p.pred_score for p in preds]), fused)
    assert list(preds[0].pred_scores) == ['rgb', 'pose']
    with torch.no_grad():  # a view alone gives its per-view scores
        alone = model.cls_head(model.extract_feat({k: v[1, 2:3] for k, v in x.items()}))
    torch.testing.assert_close(alone['pose'], per_view['pose'][1, 2:3], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('max_views', [1, 2, 100])
def test_max_testing_views_gives_the_same_scores(max_views):
    x = inputs()
    with torch.no_grad():
        whole = build().eval()(x, mode='tensor')
        chunked = build(max_testing_views=max_views).eval()(x, mode='tensor')
    for stream in whole:
        torch.testing.assert_close(chunked[stream], whole[stream], rtol=1e-5, atol=1e-5)


def test_bad_inputs_are_one_error_naming_the_samples():
    model = build().eval()
    x = inputs(views=2)
    with pytest.raises(ValueError, match=r"dict\(imgs=..., heatmap_imgs=...\), got \['imgs'\] .*A000"):
        model.predict(dict(imgs=x['imgs']), samples(0, 1))
    with pytest.raises(ValueError, match='heatmap_imgs has C=4 channels .*in_channels=5'):
        model.predict(dict(x, heatmap_imgs=x['heatmap_imgs'][:, :, :4]), samples(0, 1))
    with pytest.raises(ValueError, match='differ in samples or views'):
        model.predict(dict(x, heatmap_imgs=x['heatmap_imgs'][:, :1]), samples(0, 1))
    with pytest.raises(ValueError, match='imgs must be \\[N, num_views, C, T, H, W\\]'):
        model.predict(dict(x, imgs=x['imgs'][:, 0]), samples(0, 1))
    with pytest.raises(ValueError, match='trains on one view per sample, got 2 views'):
        model.loss(x, samples(0, 1))
    with pytest.raises(ValueError, match='test_cfg.max_testing_views'):
        build(max_testing_views=0)


def test_data_preprocessor_stacks_dict_inputs_key_by_key():
    per_sample = [{k: v[i] for k, v in inputs(views=2).items()} for i in range(2)]
    batch = ActionDataPreprocessor()(pseudo_collate([dict(inputs=x, data_samples=s)
                                                     for x, s in zip(per_sample, samples(0, 1))]))
    assert set(batch['inputs']) == {'imgs', 'heatmap_imgs'}
    torch.testing.assert_close(batch['inputs']['imgs'], torch.stack([x['imgs'] for x in per_sample]))
    per_sample[1]['heatmap_imgs'] = per_sample[1]['heatmap_imgs'][:, :, :4]
    with pytest.raises(ValueError, match="different 'heatmap_imgs' shapes"):
        ActionDataPreprocessor()(pseudo_collate([dict(inputs=x, data_samples=s)
                                                 for x, s in zip(per_sample, samples(0, 1))]))
    with pytest.raises(ValueError, match='RGBPose inputs are normalised in the pipeline'):
        ActionDataPreprocessor(mean=[0.] * 3, std=[1.] * 3)(dict(inputs=inputs(), data_samples=None))


def rgbpose_sample(i, frames=8, size=64):
    """What the video transforms (MMUniformSampleFrames, MMDecode, Resize, ...) hand over: 2 RGB frames and 8
    skeleton frames (17 COCO keypoints) of a ``size`` x ``size`` picture."""
    rng = np.random.default_rng(i)
    return dict(frame_dir=f'S001C001P001R001A{i:03d}', sample_idx=i, label=i % K, num_clips=1,
                clip_len=dict(RGB=frames // 4, Pose=frames), img_shape=(size, size),
                imgs=[rng.uniform(-2, 2, (size, size, 3)).astype(np.float32) for _ in range(frames // 4)],
                keypoint=rng.uniform(4, size - 4, (1, frames, 17, 2)).astype(np.float32),
                keypoint_score=rng.uniform(0.5, 1, (1, frames, 17)).astype(np.float32))


def pipeline(deferred=False):
    return Compose([dict(type='GeneratePoseTarget', sigma=0.7, with_kp=True, scaling=0.25, deferred=deferred),
                    dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')])


def test_deferred_heatmaps_are_rendered_into_heatmap_imgs_as_the_pipeline_would():
    ready = ActionDataPreprocessor()(pseudo_collate([pipeline()(rgbpose_sample(i)) for i in range(2)]))
    deferred = ActionDataPreprocessor()(pseudo_collate([pipeline(True)(rgbpose_sample(i)) for i in range(2)]))
    assert ready['inputs']['heatmap_imgs'].shape == (2, 1, 17, 8, 16, 16)
    torch.testing.assert_close(deferred['inputs']['heatmap_imgs'], ready['inputs']['heatmap_imgs'], rtol=0,
                               atol=1e-6)
    torch.testing.assert_close(deferred['inputs']['imgs'], ready['inputs']['imgs'], rtol=0, atol=0)


def test_from_the_pipeline_through_the_model_to_pyskls_metric_keys():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='MMRecognizer3D',
        backbone=dict(type='RGBPoseConv3D', **dict(TINY3D['RGBPoseConv3D'], pose_pathway=dict(
            TINY3D['RGBPoseConv3D']['pose_pathway'], in_channels=17))),
        cls_head=dict(type='RGBPoseHead', num_classes=K, in_channels=[256, 64]))).eval()
    evaluator = Evaluator([dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'],
                                topk=(1, 2))])
    for start in (0, 2):
        batch = pseudo_collate([pipeline()(rgbpose_sample(i)) for i in range(start, start + 2)])
        with torch.no_grad():
            evaluator.process(model.test_step(batch))
    metrics = evaluator.evaluate(4)
    streams = [f'{s}_{m}' for s in ('rgb', 'pose', 'RGBPose_1:1', 'RGBPose_2:1', 'RGBPose_1:2')
               for m in ('top1_acc', 'top2_acc', 'mean_class_accuracy')]
    assert list(metrics) == streams
