"""PYSKL's three RGBPoseConv3D configs (``configs/rgbpose_conv3d/{rgb_only,pose_only,rgbpose_conv3d}.py``): PYSKL's
model dicts, pipelines and recipes (restated from its files, facts §3), parameter counts, that every pipeline step is
pyskl's, pose_only's pipeline on a synthetic sample, rgb_only's and rgbpose_conv3d's on a rendered synthetic video,
and the three real models' weights merged (tools/merge_rgbpose_pretrain.py) loading strictly into rgbpose_conv3d.py's
model."""
from functools import lru_cache

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from pyskl.models.recognizers.mm_recognizer3d import merge_stream_state_dicts
from pyskl.registry import MODELS, TRANSFORMS
from pyskl.utils import load_state_dict

from .helpers import CONFIG_DIR, as_plain, inner_dataset, load_config

NAMES = ('rgb_only', 'pose_only', 'rgbpose_conv3d')
LEFT_KP, RIGHT_KP = [1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]
NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_bgr=False)

# PYSKL's model dicts
POSE_SLOWONLY = dict(type='ResNet3dSlowOnly', in_channels=17, base_channels=32, num_stages=3, out_indices=(2, ),
                     stage_blocks=(4, 6, 3), conv1_stride=(1, 1), pool1_stride=(1, 1), inflate=(0, 1, 1),
                     spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 1))
PYSKL_MODELS = {
    'rgb_only': dict(type='Recognizer3D',
                     backbone=dict(type='ResNet3dSlowOnly', depth=50, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1)),
                     cls_head=dict(type='I3DHead', in_channels=2048, num_classes=60, dropout=0.5),
                     test_cfg=dict(average_clips='prob')),
    'pose_only': dict(type='Recognizer3D', backbone=POSE_SLOWONLY,
                      cls_head=dict(type='I3DHead', in_channels=512, num_classes=60, dropout=0.5),
                      test_cfg=dict(average_clips='prob')),
    'rgbpose_conv3d': dict(
        type='MMRecognizer3D',
        backbone=dict(
            type='RGBPoseConv3D', speed_ratio=4, channel_ratio=4,
            rgb_pathway=dict(num_stages=4, lateral=True, lateral_infl=1, lateral_activate=[0, 0, 1, 1],
                             base_channels=64, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1)),
            pose_pathway=dict(num_stages=3, stage_blocks=(4, 6, 3), lateral=True, lateral_inv=True, lateral_infl=16,
                              lateral_activate=(0, 1, 1), in_channels=17, base_channels=32, out_indices=(2, ),
                              conv1_kernel=(1, 7, 7), conv1_stride=(1, 1), pool1_stride=(1, 1), inflate=(0, 1, 1),
                              spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 1))),
        cls_head=dict(type='RGBPoseHead', num_classes=60, in_channels=[2048, 512], loss_components=['rgb', 'pose'],
                      loss_weights=[1., 1.]),
        test_cfg=dict(average_clips='prob')),
}
# Parameters, head included: facts §4 (rgb_only, RGBPoseConv3D); pose_only has PoseC3D SlowOnly's modules (only its
# last temporal stride differs), whose count facts §3.2 gives
PARAM_COUNTS = {'rgb_only': 31_757_436, 'pose_only': 2_024_860, 'rgbpose_conv3d': 36_147_928}


def rgb_steps(phase, clip_len, with_pose):
    """PYSKL's RGB (+ pose) pipelines without Collect / ToTensor."""
    steps = [dict(type='MMUniformSampleFrames', clip_len=clip_len, num_clips=10 if phase == 'test' else 1),
             dict(type='MMDecode'), dict(type='MMCompact', hw_ratio=1., allow_imgpad=True)]
    if phase == 'train':
        steps += [dict(type='Resize', scale=(256, 256), keep_ratio=False),
                  dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
                  dict(type='Resize', scale=(224, 224), keep_ratio=False),
                  dict(type='Flip', flip_ratio=0.5, left_kp=LEFT_KP, right_kp=RIGHT_KP) if with_pose else
                  dict(type='Flip', flip_ratio=0.5)]
    else:  # rgb_only tests at 224, rgbpose_conv3d at 256
        steps.append(dict(type='Resize', scale=(256, 256) if with_pose else (224, 224), keep_ratio=False))
    if with_pose:
        steps.append(dict(type='GeneratePoseTarget', sigma=0.7, use_score=True, with_kp=True, with_limb=False,
                          scaling=0.25))
    return steps + [dict(type='Normalize', **NORM), dict(type='FormatShape', input_format='NCTHW')]


def pose_steps(phase):
    steps = [dict(type='UniformSampleFrames', clip_len=32) if phase == 'train' else
             dict(type='UniformSampleFrames', clip_len=32, num_clips=1),
             dict(type='PoseDecode'), dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
             dict(type='Resize', scale=(64, 64), keep_ratio=False)]
    if phase == 'train':
        steps += [dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
                  dict(type='Resize', scale=(56, 56), keep_ratio=False),
                  dict(type='Flip', flip_ratio=0.5, left_kp=LEFT_KP, right_kp=RIGHT_KP)]
    target = dict(type='GeneratePoseTarget', with_kp=True, with_limb=False)
    steps.append(dict(target, left_kp=LEFT_KP, right_kp=RIGHT_KP) if phase == 'test' else target)
    return steps + [dict(type='FormatShape', input_format='NCTHW_Heatmap')]


PYSKL_PIPELINES = {
    'rgb_only': lambda phase: rgb_steps(phase, dict(RGB=8), with_pose=False),
    'pose_only': pose_steps,
    'rgbpose_conv3d': lambda phase: rgb_steps(phase, dict(RGB=8, Pose=32), with_pose=True),
}
# name -> (train batch, RepeatDataset times, epochs, lr, weight decay, LR schedule, save_best)
RECIPES = {
    'rgb_only': (12, 10, 18, 0.15, 0.0001, 'cosine', 'auto'),
    'pose_only': (16, 10, 18, 0.2, 0.0003, 'cosine', 'auto'),
    'rgbpose_conv3d': (6, None, 20, 0.0075, 0.0001, [12, 16], 'RGBPose_1:1_top1_acc'),
}


def load(name):
    return load_config(f'rgbpose_conv3d/{name}.py')


@lru_cache(maxsize=None)
def build(name):
    torch.manual_seed(0)
    return MODELS.build(load(name).model)


def state_dict(name):
    return build(name).state_dict()


def test_the_folder_holds_pyskls_three_configs():
    assert sorted(p.stem for p in (CONFIG_DIR / 'rgbpose_conv3d').glob('*.py')) == sorted(NAMES)


@pytest.mark.parametrize('name', NAMES)
def test_model_dict_is_pyskls(name):
    assert as_plain(load(name).model) == as_plain(PYSKL_MODELS[name])


@pytest.mark.parametrize('name', NAMES)
def test_models_build_with_pyskls_parameter_counts(name):
    assert sum(p.numel() for p in build(name).parameters()) == PARAM_COUNTS[name]


@pytest.mark.parametrize('name', NAMES)
def test_pipelines_are_pyskls_and_the_registered_steps_build(name):
    cfg = load(name)
    for phase in ('train', 'val', 'test'):
        steps = inner_dataset(cfg[f'{phase}_dataloader'])['pipeline']
        assert steps[-1] == dict(type='PackActionInputs'), phase
        assert as_plain(steps[:-1]) == as_plain(PYSKL_PIPELINES[name](phase)), phase
        # all pyskl's (mmcv registers a Normalize of its own, which reads `img`)
        assert all(TRANSFORMS.get(s['type']).__module__.startswith('pyskl.') for s in steps), phase
        Compose([dict(s) for s in steps])


@pytest.mark.parametrize('phase, shape', [('train', (1, 17, 32, 56, 56)), ('val', (1, 17, 32, 64, 64))])
def test_pose_only_pipeline_makes_pyskls_volumes(phase, shape):
    rng = np.random.default_rng(0)
    sample = dict(frame_dir='S001C001P001R001A001', label=0, total_frames=50, img_shape=(480, 640),
                  original_shape=(480, 640), start_index=0, modality='Pose', test_mode=phase != 'train',
                  keypoint=rng.uniform(100, 400, (2, 50, 17, 2)).astype(np.float32),
                  keypoint_score=rng.uniform(0.3, 1, (2, 50, 17)).astype(np.float32))
    packed = Compose(inner_dataset(load('pose_only')[f'{phase}_dataloader'])['pipeline'])(sample)
    assert tuple(packed['inputs'].shape) == shape and packed['inputs'].dtype == torch.float32


@pytest.fixture(scope='module')
def synthetic_video_sample(tmp_path_factory):
    """One sample of the synthetic COCO-17 dataset with its rendered 200x112 video, as PoseDataset serves it."""
    from pyskl.datasets.synthetic import write_synthetic_videos
    folder = tmp_path_factory.mktemp('rgbpose')
    data = write_synthetic_videos(str(folder / 'coco2d.pkl'), str(folder / 'videos'), num_train=1, num_val=0)
    ann = data['annotations'][0]
    return dict(ann, frame_dir=str(folder / 'videos' / ann['frame_dir']), start_index=0, modality='Pose')


@pytest.mark.parametrize('name, phase, shapes', [
    ('rgbpose_conv3d', 'train', dict(imgs=(1, 3, 8, 224, 224), heatmap_imgs=(1, 17, 32, 56, 56))),
    ('rgbpose_conv3d', 'test', dict(imgs=(10, 3, 8, 256, 256), heatmap_imgs=(10, 17, 32, 64, 64))),
    ('rgb_only', 'train', dict(imgs=(1, 3, 8, 224, 224))),
])
def test_rgb_pipelines_make_pyskls_clips_from_a_video(synthetic_video_sample, name, phase, shapes):
    steps = inner_dataset(load(name)[f'{phase}_dataloader'])['pipeline']
    packed = Compose(steps)(dict(synthetic_video_sample, test_mode=phase != 'train'))
    inputs = packed['inputs'] if isinstance(packed['inputs'], dict) else dict(imgs=packed['inputs'])
    assert {key: tuple(x.shape) for key, x in inputs.items()} == shapes
    assert all(x.dtype == torch.float32 for x in inputs.values())
    assert -3 < inputs['imgs'].mean() < 3 and inputs['imgs'].std() > 0.1  # normalised frames, not zeros


@pytest.mark.parametrize('name', NAMES)
def test_recipe_is_pyskls(name):
    cfg = load(name)
    batch, times, epochs, lr, weight_decay, schedule, save_best = RECIPES[name]
    assert cfg.default_scope == 'pyskl'
    train = cfg.train_dataloader
    assert (train.batch_size, train.num_workers) == (batch, 4)
    assert (train.dataset.get('times'), train.dataset.type) == (times, 'RepeatDataset' if times else 'PoseDataset')
    for phase in ('train', 'val', 'test'):
        loader = cfg[f'{phase}_dataloader']
        assert loader.batch_size == (batch if phase == 'train' else 1)
        dataset = inner_dataset(loader)
        assert (dataset.type, dataset.ann_file) == ('PoseDataset', 'data/nturgbd/ntu60_hrnet.pkl')
        assert dataset.split == ('xsub_train' if phase == 'train' else 'xsub_val')
        assert dataset.get('test_mode', False) == (phase != 'train')
        # videos under a relative folder (PYSKL's rgb_only.py named an absolute one on its cluster)
        assert dataset.get('data_prefix') == (None if name == 'pose_only' else 'data/nturgbd_videos/')
    metrics = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])
    assert cfg.val_evaluator == metrics and cfg.test_evaluator == metrics
    assert cfg.train_cfg == dict(type='EpochBasedTrainLoop', max_epochs=epochs, val_interval=1)
    assert cfg.optim_wrapper == dict(optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=weight_decay),
                                     clip_grad=dict(max_norm=40, norm_type=2))
    if schedule == 'cosine':
        expected = [dict(type='CosineAnnealingLR', T_max=epochs, eta_min=0, by_epoch=True, convert_to_iter_based=True)]
    else:
        expected = [dict(type='MultiStepLR', milestones=schedule, gamma=0.1, by_epoch=True)]
    assert as_plain(cfg.param_scheduler) == expected
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=8 * batch)
    assert cfg.default_hooks.checkpoint.save_best == save_best
    assert cfg.default_hooks.logger.interval == 20
    assert cfg.work_dir == f'./work_dirs/rgbpose_conv3d/{name}'
    assert cfg.get('load_from') == ('https://download.openmmlab.com/mmaction/pyskl/ckpt/rgbpose_conv3d/'
                                    'rgbpose_conv3d_init.pth' if name == 'rgbpose_conv3d' else None)


def test_real_configs_merge_into_a_checkpoint_that_loads_strictly():
    """rgb_only's and pose_only's weights, renamed and zero-padded as PYSKL's merge_pretrain.ipynb, with the
    laterals from the model's initialisation (the notebook's missing keys), load strictly into rgbpose_conv3d.py's
    model."""
    torch.manual_seed(0)
    model = MODELS.build(load('rgbpose_conv3d').model)
    merged = merge_stream_state_dicts(state_dict('rgb_only'), state_dict('pose_only'), model)
    load_state_dict(model, merged.state_dict, strict=True)
    assert list(merged.state_dict) == list(model.state_dict())
    padded = {k: tuple(merged.state_dict[k].shape) for k in merged.padded}
    assert padded == {
        'backbone.rgb_path.layer3.0.conv1.conv.weight': (256, 640, 3, 1, 1),
        'backbone.rgb_path.layer3.0.downsample.conv.weight': (1024, 640, 1, 1, 1),
        'backbone.rgb_path.layer4.0.conv1.conv.weight': (512, 1280, 3, 1, 1),
        'backbone.rgb_path.layer4.0.downsample.conv.weight': (2048, 1280, 1, 1, 1),
        'backbone.pose_path.layer2.0.conv1.conv.weight': (64, 160, 3, 1, 1),
        'backbone.pose_path.layer2.0.downsample.conv.weight': (256, 160, 1, 1, 1),
        'backbone.pose_path.layer3.0.conv1.conv.weight': (128, 320, 3, 1, 1),
        'backbone.pose_path.layer3.0.downsample.conv.weight': (512, 320, 1, 1, 1)}
    # the notebook's strict=False load reported these missing (num_batches_tracked aside)
    assert [k for k in merged.initialised if not k.endswith('num_batches_tracked')] == [
        'backbone.rgb_path.layer2_lateral.conv.weight', 'backbone.rgb_path.layer3_lateral.conv.weight',
        'backbone.pose_path.layer1_lateral.conv.weight', 'backbone.pose_path.layer1_lateral.bn.weight',
        'backbone.pose_path.layer1_lateral.bn.bias', 'backbone.pose_path.layer1_lateral.bn.running_mean',
        'backbone.pose_path.layer1_lateral.bn.running_var', 'backbone.pose_path.layer2_lateral.conv.weight',
        'backbone.pose_path.layer2_lateral.bn.weight', 'backbone.pose_path.layer2_lateral.bn.bias',
        'backbone.pose_path.layer2_lateral.bn.running_mean', 'backbone.pose_path.layer2_lateral.bn.running_var']
    rgb_weight = state_dict('rgb_only')['backbone.layer3.0.conv1.conv.weight']
    conv = merged.state_dict['backbone.rgb_path.layer3.0.conv1.conv.weight']
    assert torch.equal(conv[:, :512], rgb_weight) and not conv[:, 512:].any()
    assert torch.equal(merged.state_dict['cls_head.fc_pose.weight'], state_dict('pose_only')['cls_head.fc_cls.weight'])
