# Quickstart | a small ST-GCN++ on the embedded synthetic NTU-25 3D dataset | bone stream.
# Bones: each joint minus its parent (PYSKL's 'b' stream). Fuse with the joint stream by
# bash examples/quickstart_two_streams.sh (trains both, tests both, runs tools/ensemble.py).
# Make the data first: python tools/data/make_synthetic.py --kind ntu3d --out data/synthetic/ntu3d.pkl
# 15 procedurally animated actions (12 one-person, 3 two-person), split by subject. Sized for CPUs: about 22k
# parameters and 32-frame clips; it reaches > 90 % val top-1 in a few minutes on 2 CPU processes.
default_scope = 'pyskl'
# The skeleton, declared once: the graph and every skeleton step below take it (a name or a custom dict,
# see docs/custom_data.md).
layout = 'nturgb+d'

model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='STGCN',
        gcn_adaptive='init',
        gcn_with_res=True,
        tcn_type='mstcn',
        base_channels=16,
        num_stages=4,
        inflate_stages=[3],
        down_stages=[3],
        graph_cfg=dict(layout=layout, mode='spatial')),
    cls_head=dict(type='GCNHead', num_classes=15, in_channels=32))

dataset_type = 'PoseDataset'
ann_file = 'data/synthetic/ntu3d.pkl'
label_map = 'data/synthetic/ntu3d_label_map.txt'
train_pipeline = [
    dict(type='PreNormalize3D', layout=layout),
    dict(type='GenSkeFeat', layout=layout, feats=['b']),
    dict(type='UniformSample', clip_len=32),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='PreNormalize3D', layout=layout),
    dict(type='GenSkeFeat', layout=layout, feats=['b']),
    dict(type='UniformSample', clip_len=32, num_clips=1),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='PreNormalize3D', layout=layout),
    dict(type='GenSkeFeat', layout=layout, feats=['b']),
    dict(type='UniformSample', clip_len=32, num_clips=10),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs'),
]
# The data is small and the model fast: loading in the main process beats starting workers.
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

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# Tuned on this synthetic data for 2 processes x 16 = 32 samples per step at lr 0.1; tools/train.py scales the lr
# linearly for another total batch (lr = 0.1 x processes x 16 / 32; --no-scale-lr keeps 0.1). For your own data,
# start from PYSKL's rate instead: lr 0.1 for 8 x 16 = 128 samples (base_batch_size=128).
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=10, eta_min=0, by_epoch=True, convert_to_iter_based=True)]
auto_scale_lr = dict(enable=True, base_batch_size=32)

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto', max_keep_ckpts=1),
    logger=dict(type='LoggerHook', interval=20))
work_dir = './work_dirs/quickstart/stgcn++_synthetic_ntu3d_b'
