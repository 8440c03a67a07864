# MS-G3D | NTU RGB+D 120, cross-subject | HRNet 2D skeletons (COCO-17) | joint motion stream.
# PYSKL: configs/msg3d/msg3d_pyskl_ntu120_xsub_hrnet/jm.py (top-1 82.6 with 10-clip testing).
default_scope = 'pyskl'

model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='MSG3D',
        graph_cfg=dict(layout='coco', mode='binary_adj')),
    cls_head=dict(type='GCNHead', num_classes=120, in_channels=384))

dataset_type = 'PoseDataset'
ann_file = 'data/nturgbd/ntu120_hrnet.pkl'
train_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=['jm']),
    dict(type='UniformSample', clip_len=100),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=['jm']),
    dict(type='UniformSample', clip_len=100, num_clips=1),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=['jm']),
    dict(type='UniformSample', clip_len=100, num_clips=10),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RepeatDataset',
        times=5,
        dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=train_pipeline, split='xsub_train')))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=val_pipeline, split='xsub_val', test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=test_pipeline, split='xsub_val', test_mode=True))
val_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy'])
test_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])

# 16 epochs over the training split repeated 5 times = PYSKL's "80 epochs".
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=16, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# PYSKL trained with 8 GPUs x 16 samples = 128 per step at lr 0.1. The LR scales linearly with the total batch:
# lr = 0.1 * (num_processes * batch_size) / 128. tools/train.py applies this rule (--no-scale-lr keeps 0.1).
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=16, eta_min=0, by_epoch=True, convert_to_iter_based=True)]
auto_scale_lr = dict(enable=True, base_batch_size=128)

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),
    logger=dict(type='LoggerHook', interval=100))
work_dir = './work_dirs/msg3d/msg3d_pyskl_ntu120_xsub_hrnet/jm'
