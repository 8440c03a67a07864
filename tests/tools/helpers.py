"""A tiny dataset and config for exercising the command-line tools end to end."""
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def write_tiny_dataset(path, num_train=12, num_val=7, num_classes=3, frames=(10, 20), seed=0):
    """3D skeletons (NTU-25) whose class shows in how joints move, so a model can tell them apart."""
    rng = np.random.default_rng(seed)
    annotations, split = [], {'train': [], 'val': []}
    for subset, n in (('train', num_train), ('val', num_val)):
        for i in range(n):
            label = i % num_classes
            T = int(rng.integers(*frames))
            t = np.arange(T)[None, :, None, None]
            base = rng.normal(0, 0.3, size=(1, 1, 25, 3))
            wave = np.sin(t * (0.3 + 0.4 * label) + rng.uniform(0, 6))
            keypoint = (base + 0.2 * wave + rng.normal(0, 0.01, size=(1, T, 25, 3))).astype(np.float32)
            name = f'{subset}_{i:03d}'
            annotations.append(dict(frame_dir=name, label=label, total_frames=T, keypoint=keypoint))
            split[subset].append(name)
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annotations), f)
    return path


CONFIG = '''
default_scope = 'pyskl'
model = dict(
    type='RecognizerGCN',
    backbone=dict(type='STGCN', base_channels=8, num_stages=2, inflate_stages=[], down_stages=[],
                  graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    cls_head=dict(type='GCNHead', num_classes={num_classes}, in_channels=8))
ann_file = {ann_file!r}
train_pipeline = [
    dict(type='UniformSample', clip_len=8), dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2), dict(type='PackActionInputs')]
test_pipeline = [
    dict(type='UniformSample', clip_len=8, num_clips=2), dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2), dict(type='PackActionInputs')]
train_dataloader = dict(
    batch_size={batch_size}, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='PoseDataset', ann_file=ann_file, pipeline=train_pipeline, split='train'))
val_dataloader = dict(
    batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='PoseDataset', ann_file=ann_file, pipeline=test_pipeline, split='val', test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy'], topk=(1, 2))
test_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'], topk=(1, 2))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs={max_epochs}, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0005, nesterov=True))
param_scheduler = [dict(type='CosineAnnealingLR', T_max={max_epochs}, eta_min=0, by_epoch=True,
                        convert_to_iter_based=True)]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto'),
                     logger=dict(type='LoggerHook', interval=1))
work_dir = {work_dir!r}
'''


def write_tiny_config(tmp_path, num_classes=3, max_epochs=2, batch_size=4, **dataset_kwargs):
    tmp_path = Path(tmp_path)
    ann = write_tiny_dataset(tmp_path / 'tiny.pkl', num_classes=num_classes, **dataset_kwargs)
    cfg = tmp_path / 'tiny_config.py'
    cfg.write_text(
        CONFIG.format(num_classes=num_classes, ann_file=str(ann), max_epochs=max_epochs, batch_size=batch_size,
                      work_dir=str(tmp_path / 'work')))
    return cfg


def tool_env():
    env = dict(os.environ)
    env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('OMP_NUM_THREADS', '1')
    env['PYTHON'] = sys.executable  # dist_*.sh run the interpreter that runs the tests
    return env


def run(args, timeout=300, check=True, **kwargs):
    proc = subprocess.run([str(a) for a in args], cwd=REPO, env=tool_env(), capture_output=True, text=True,
                          timeout=timeout, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f'{" ".join(map(str, args))} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}')
    return proc


def python_tool(name, *args, **kwargs):
    return run([sys.executable, REPO / 'tools' / name, *args], **kwargs)


def bash_tool(name, *args, **kwargs):
    return run(['bash', REPO / 'tools' / name, *args], **kwargs)


def wait_for(predicate, timeout, what, poll=0.2):
    """Poll ``predicate`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError(f'timed out waiting for {what}')
