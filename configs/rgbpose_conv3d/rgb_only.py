# RGBPoseConv3D pretraining | NTU RGB+D 60, cross-subject | RGB stream: SlowOnly-R50 on 8 frames at 224 x 224.
# PYSKL: configs/rgbpose_conv3d/rgb_only.py (top-1 94.4 with 1 clip, 95.1 with 10 clips).
# Its trained weights are one half of rgbpose_conv3d.py's start (tools/merge_rgbpose_pretrain.py).
default_scope = 'pyskl'

model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3dSlowOnly', depth=50, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1)),
    cls_head=dict(type='I3DHead', in_channels=2048, num_classes=60, dropout=0.5),
    test_cfg=dict(average_clips='prob'))

dataset_type = 'PoseDataset'
# The videos compress_nturgbd.py makes (PYSKL named a folder of its own cluster here; rgbpose_conv3d.py uses this one).
data_root = 'data/nturgbd_videos/'
ann_file = 'data/nturgbd/ntu60_hrnet.pkl'
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_bgr=False)
train_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8), num_clips=1),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1.0, allow_imgpad=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8), num_clips=1),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1.0, allow_imgpad=True),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8), num_clips=10),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1.0, allow_imgpad=True),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=12,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RepeatDataset',
        times=10,
        dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=train_pipeline, split='xsub_train',
                     data_prefix=data_root)))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=val_pipeline, split='xsub_val', data_prefix=data_root,
                 test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=test_pipeline, split='xsub_val', data_prefix=data_root,
                 test_mode=True))
val_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])
test_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])

# 18 epochs over the training split repeated 10 times = PYSKL's "180 epochs".
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=18, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# PYSKL trained with 8 GPUs x 12 samples = 96 per step at lr 0.15. The LR scales linearly with the total batch:
# lr = 0.15 * (num_processes * batch_size) / 96. tools/train.py applies this rule (--no-scale-lr keeps 0.15).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.15, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=18, eta_min=0, by_epoch=True, convert_to_iter_based=True)]
auto_scale_lr = dict(enable=True, base_batch_size=96)

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),
    logger=dict(type='LoggerHook', interval=20))
work_dir = './work_dirs/rgbpose_conv3d/rgb_only'
