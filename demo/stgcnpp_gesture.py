# ST-GCN++ hand-gesture recognizer of PYSKL's real-time demo (demo/stgcnpp_gesture.py in PYSKL).
# Weights: PYSKL's demo/hagrid.pth (40 classes: Jester's 27 + HaGRID's 13; 16 of them trained, see
# tools/data/label_map/gesture.txt). Input: 21 MediaPipe hand landmarks, raw [0, 1] image coordinates.
default_scope = 'pyskl'
# class names for pyskl.apis (a label map shipped with pyskl: tools/data/label_map/gesture.txt)
label_map = 'gesture'

model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='STGCN',
        in_channels=2,
        gcn_adaptive='init',
        gcn_with_res=True,
        tcn_type='mstcn',
        num_stages=6,
        down_stages=[6],
        inflate_stages=[6],
        graph_cfg=dict(layout='handmp', mode='spatial')),
    cls_head=dict(type='GCNHead', num_classes=40, in_channels=128))

test_pipeline = [
    # 'auto' normalises only skeletons spanning more than 10 units, so [0, 1] MediaPipe coordinates pass unchanged.
    dict(type='PreNormalize2D', threshold=0, mode='auto'),
    dict(type='GenSkeFeat', dataset='handmp', feats=['j']),
    dict(type='UniformSample', clip_len=10, num_clips=1),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs'),
]
