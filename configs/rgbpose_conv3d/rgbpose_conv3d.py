# RGBPoseConv3D | NTU RGB+D 60, cross-subject | RGB (8 frames, 224 x 224) + keypoint heatmaps (32 frames, 56 x 56),
# early fusion through lateral connections and late fusion of the two heads.
# PYSKL: configs/rgbpose_conv3d/rgbpose_conv3d.py (top-1 with 1 / 10 clips: RGB 96.2 / 96.4, pose 95.9 / 96.1,
# 1:1 fusion 96.6 / 96.9). A 20-epoch finetune of rgb_only.py + pose_only.py, merged by
# `python tools/merge_rgbpose_pretrain.py RGB_CKPT POSE_CKPT OUT` (then point load_from at OUT).
default_scope = 'pyskl'

model = dict(
    type='MMRecognizer3D',
    backbone=dict(
        type='RGBPoseConv3D',
        speed_ratio=4,
        channel_ratio=4,
        rgb_pathway=dict(
            num_stages=4,
            lateral=True,
            lateral_infl=1,
            lateral_activate=[0, 0, 1, 1],
            base_channels=64,
            conv1_kernel=(1, 7, 7),
            inflate=(0, 0, 1, 1)),
        pose_pathway=dict(
            num_stages=3,
            stage_blocks=(4, 6, 3),
            lateral=True,
            lateral_inv=True,
            lateral_infl=16,
            lateral_activate=(0, 1, 1),
            in_channels=17,
            base_channels=32,
            out_indices=(2,),
            conv1_kernel=(1, 7, 7),
            conv1_stride=(1, 1),
            pool1_stride=(1, 1),
            inflate=(0, 1, 1),
            spatial_strides=(2, 2, 2),
            temporal_strides=(1, 1, 1))),
    cls_head=dict(
        type='RGBPoseHead',
        num_classes=60,
        in_channels=[2048, 512],
        loss_components=['rgb', 'pose'],
        loss_weights=[1.0, 1.0]),
    test_cfg=dict(average_clips='prob'))

dataset_type = 'PoseDataset'
data_root = 'data/nturgbd_videos/'
ann_file = 'data/nturgbd/ntu60_hrnet.pkl'
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_bgr=False)
# The heatmaps are drawn at a quarter of the frames' size (scaling=0.25): 56 x 56 beside 224 x 224 RGB frames.
train_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8, Pose=32), num_clips=1),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1.0, allow_imgpad=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    dict(type='GeneratePoseTarget', sigma=0.7, use_score=True, with_kp=True, with_limb=False, scaling=0.25),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8, Pose=32), num_clips=1),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1.0, allow_imgpad=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='GeneratePoseTarget', sigma=0.7, use_score=True, with_kp=True, with_limb=False, scaling=0.25),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8, Pose=32), num_clips=10),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1.0, allow_imgpad=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='GeneratePoseTarget', sigma=0.7, use_score=True, with_kp=True, with_limb=False, scaling=0.25),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=6,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=train_pipeline, split='xsub_train',
                 data_prefix=data_root))
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
# Reports rgb_*, pose_* and PYSKL's mixes RGBPose_{1:1,2:1,1:2}_* (2:1 = 2 x RGB + pose) of each metric.
val_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])
test_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])

# 20 epochs, no repeat; the LR drops x0.1 after epochs 12 and 16.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# PYSKL trained with 8 GPUs x 6 samples = 48 per step at lr 0.0075. The LR scales linearly with the total batch:
# lr = 0.0075 * (num_processes * batch_size) / 48. tools/train.py applies this rule (--no-scale-lr keeps 0.0075).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.0075, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='MultiStepLR', milestones=[12, 16], gamma=0.1, by_epoch=True)]
auto_scale_lr = dict(enable=True, base_batch_size=48)

# The best checkpoint is chosen by the 1:1 fusion's top-1 (PYSKL's key_indicator).
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='RGBPose_1:1_top1_acc', rule='greater',
                    max_keep_ckpts=3),
    logger=dict(type='LoggerHook', interval=20))
work_dir = './work_dirs/rgbpose_conv3d/rgbpose_conv3d'
# PYSKL's merged rgb_only + pose_only weights. Its laterals are missing, so it loads non-strictly (strict_load =
# False) and they keep their initialisation. Weights of your own: tools/merge_rgbpose_pretrain.py writes a file that
# loads strictly (then drop strict_load).
load_from = 'https://download.openmmlab.com/mmaction/pyskl/ckpt/rgbpose_conv3d/rgbpose_conv3d_init.pth'
strict_load = False
