# PoseC3D SlowOnly-R50 (blocks 3-4-6) | HMDB51, split 1 | HRNet 2D skeletons | K400 pretrained | joint heatmaps.
# PYSKL: configs/posec3d/slowonly_r50_hmdb51_k400p/s1_joint.py (top-1 69.4 with 10 clips x 2 flips at test time).
default_scope = 'pyskl'

model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3dSlowOnly',
        in_channels=17,
        base_channels=32,
        num_stages=3,
        out_indices=(2,),
        stage_blocks=(3, 4, 6),
        conv1_stride=(1, 1),
        pool1_stride=(1, 1),
        inflate=(0, 1, 1),
        spatial_strides=(2, 2, 2),
        temporal_strides=(1, 1, 2)),
    cls_head=dict(type='I3DHead', in_channels=512, num_classes=51, dropout=0.5),
    test_cfg=dict(average_clips='prob'))

dataset_type = 'PoseDataset'
ann_file = 'data/hmdb51/hmdb51_hrnet.pkl'
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]
# GeneratePoseTarget renders the heatmaps in the dataloader workers. Set deferred=True in every GeneratePoseTarget to
# render the heatmaps on the model's device in the data preprocessor instead.
train_pipeline = [
    dict(type='UniformSampleFrames', clip_len=48),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1.0, allow_imgpad=True),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(48, 48), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='UniformSampleFrames', clip_len=48, num_clips=1),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1.0, allow_imgpad=True),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='UniformSampleFrames', clip_len=48, num_clips=10),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1.0, allow_imgpad=True),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False, double=True, left_kp=left_kp, right_kp=right_kp),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RepeatDataset',
        times=10,
        dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=train_pipeline, split='train1')))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=val_pipeline, split='test1', test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=test_pipeline, split='test1', test_mode=True))
val_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])
test_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])

# 12 epochs over the training split repeated 10 times = PYSKL's "120 epochs", fine-tuning PYSKL's Kinetics-400
# SlowOnly (load_from below).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# PYSKL trained with 8 GPUs x 16 samples = 128 per step at lr 0.01. The LR scales linearly with the total batch:
# lr = 0.01 * (num_processes * batch_size) / 128. tools/train.py applies this rule (--no-scale-lr keeps 0.01).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2))
# LR x0.1 after epochs 9 and 11 (PYSKL's step policy).
param_scheduler = [dict(type='MultiStepLR', milestones=[9, 11], gamma=0.1, by_epoch=True)]
auto_scale_lr = dict(enable=True, base_batch_size=128)

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),
    logger=dict(type='LoggerHook', interval=20))
work_dir = './work_dirs/posec3d/slowonly_r50_hmdb51_k400p/s1_joint'
load_from = 'https://download.openmmlab.com/mmaction/skeleton/posec3d/k400_posec3d-041f49c6.pth'
# Its head has K400's 400 classes: the backbone loads, the head starts anew (as PYSKL's loading).
strict_load = False
find_unused_parameters = True
