# Quickstart | a small RGBPoseConv3D on the embedded synthetic COCO-17 dataset filmed as stick-figure videos | RGB
# frames + joint heatmaps, early fusion (lateral connections both ways) and late fusion of the two heads.
# Make the data first (about 2 minutes; the annotation is the same file the C3D quickstart reads):
#   python tools/data/make_synthetic.py --kind coco2d --videos data/synthetic/videos --out data/synthetic/coco2d.pkl
# 1500 videos of 200x112 pixels (40-120 frames at 30 fps), one per sample, read as data_prefix + frame_dir + '.mp4'.
# Sized for CPUs: PYSKL's rgbpose_conv3d.py at a quarter of its width with one block per stage (0.8 M parameters),
# 8 RGB frames of 56 x 56 beside 32 heatmap frames of 14 x 14, trained from scratch (PYSKL starts from trained
# rgb_only and pose_only models). Testing prints rgb_*, pose_* and the fusions RGBPose_{1:1,2:1,1:2}_* of each metric.
default_scope = 'pyskl'

model = dict(
    type='MMRecognizer3D',
    backbone=dict(
        type='RGBPoseConv3D',
        speed_ratio=4,
        channel_ratio=4,
        rgb_pathway=dict(
            num_stages=4,
            stage_blocks=(1, 1, 1, 1),
            lateral=True,
            lateral_infl=1,
            lateral_activate=[0, 0, 1, 1],
            base_channels=16,
            conv1_kernel=(1, 7, 7),
            inflate=(0, 0, 1, 1)),
        pose_pathway=dict(
            num_stages=3,
            stage_blocks=(1, 1, 1),
            lateral=True,
            lateral_inv=True,
            lateral_infl=16,
            lateral_activate=(0, 1, 1),
            in_channels=17,
            base_channels=8,
            out_indices=(2, ),
            conv1_kernel=(1, 7, 7),
            conv1_stride=(1, 1),
            pool1_stride=(1, 1),
            inflate=(0, 1, 1),
            spatial_strides=(2, 2, 2),
            temporal_strides=(1, 1, 1))),
    cls_head=dict(
        type='RGBPoseHead', num_classes=15, in_channels=[512, 128], loss_components=['rgb', 'pose'],
        loss_weights=[1., 1.]),
    test_cfg=dict(average_clips='prob'))

dataset_type = 'PoseDataset'
ann_file = 'data/synthetic/coco2d.pkl'
label_map = 'data/synthetic/coco2d_label_map.txt'
data_prefix = 'data/synthetic/videos'
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]
# A mirrored "wave right hand" is "wave left hand": the flip changes those labels (so there is no flip test).
flip_label_map = {0: 1, 1: 0, 6: 7, 7: 6}
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_bgr=False)
clip_len = dict(RGB=8, Pose=32)
train_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=clip_len, num_clips=1),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp, flip_label_map=flip_label_map),
    dict(type='GeneratePoseTarget', sigma=0.6, use_score=True, with_kp=True, with_limb=False, scaling=0.25),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=clip_len, num_clips=1),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='GeneratePoseTarget', sigma=0.6, use_score=True, with_kp=True, with_limb=False, scaling=0.25),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [dict(val_pipeline[0], num_clips=5)] + val_pipeline[1:]
# Decoding 112-pixel videos is quick: loading in the main process beats starting workers on 2 cores.
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file, label_map=label_map, data_prefix=data_prefix,
                 pipeline=train_pipeline, split='train'))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, label_map=label_map, data_prefix=data_prefix,
                 pipeline=val_pipeline, split='val', test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, label_map=label_map, data_prefix=data_prefix,
                 pipeline=test_pipeline, split='val', test_mode=True))
# Reports rgb_*, pose_* and PYSKL's mixes RGBPose_{1:1,2:1,1:2}_* (2:1 = 2 x RGB + pose) of each metric.
val_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy'])
test_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# Tuned for 2 processes x 8 samples (base_batch_size below): tools/train.py scales the LR linearly for another
# total batch (--no-scale-lr keeps 0.05).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0003),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=12, eta_min=0, by_epoch=True, convert_to_iter_based=True)]
auto_scale_lr = dict(enable=True, base_batch_size=16)

# The best checkpoint is chosen by the 1:1 fusion's top-1 (PYSKL's key_indicator).
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='RGBPose_1:1_top1_acc', rule='greater',
                    max_keep_ckpts=1),
    logger=dict(type='LoggerHook', interval=20))
work_dir = './work_dirs/quickstart/rgbpose_conv3d_synthetic_coco2d'
