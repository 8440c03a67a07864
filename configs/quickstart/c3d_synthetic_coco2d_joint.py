# Quickstart | a small PoseC3D (C3D) on the embedded synthetic COCO-17 2D dataset | joint heatmaps.
# Make the data first: python tools/data/make_synthetic.py --kind coco2d --out data/synthetic/coco2d.pkl
# 15 procedurally animated actions seen by a 1920x1080 camera (17 joints in pixels + scores), split by subject.
# Sized for CPUs: C3D-light at half width (base_channels 16, 0.85 M parameters), 24-frame clips of 32x32 heatmaps;
# it reaches about 90 % val top-1 in a few minutes with 2 CPU processes.
# The heatmaps are rendered by the model's data preprocessor (GeneratePoseTarget(deferred=True)): the pipeline only
# samples, crops and flips keypoints. PYSKL's configs (configs/posec3d/) render them in the pipeline instead.
default_scope = 'pyskl'

model = dict(
    type='Recognizer3D',
    backbone=dict(type='C3D', in_channels=17, base_channels=16, num_stages=3, temporal_downsample=False),
    cls_head=dict(type='I3DHead', in_channels=128, num_classes=15, dropout=0.5),
    test_cfg=dict(average_clips='prob'))

dataset_type = 'PoseDataset'
ann_file = 'data/synthetic/coco2d.pkl'
label_map = 'data/synthetic/coco2d_label_map.txt'
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]
# A mirrored "wave right hand" is "wave left hand": the flip changes those labels. (For the same reason the test
# pipeline has no flip test, unlike PYSKL's NTU configs, whose classes have no left/right twins.)
flip_label_map = {0: 1, 1: 0, 6: 7, 7: 6}
train_pipeline = [
    dict(type='UniformSampleFrames', clip_len=24),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp, flip_label_map=flip_label_map),
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False, deferred=True),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='UniformSampleFrames', clip_len=24, num_clips=1),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False, deferred=True),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='UniformSampleFrames', clip_len=24, num_clips=10),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False, deferred=True),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs'),
]
# The data is small and the keypoint pipeline fast: loading in the main process beats starting workers.
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file, label_map=label_map, pipeline=train_pipeline, split='train'))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, ann_file=ann_file, label_map=label_map, pipeline=val_pipeline, split='val',
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, ann_file=ann_file, label_map=label_map, pipeline=test_pipeline, split='val',
        test_mode=True))
val_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy'])
test_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=8, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# Tuned for 2 processes x 16 samples (base_batch_size below): tools/train.py scales the LR linearly for another
# total batch (--no-scale-lr keeps 0.1).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0003),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=8, eta_min=0, by_epoch=True, convert_to_iter_based=True)]
auto_scale_lr = dict(enable=True, base_batch_size=32)

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto', max_keep_ckpts=1),
    logger=dict(type='LoggerHook', interval=20))
work_dir = './work_dirs/quickstart/c3d_synthetic_coco2d_joint'
