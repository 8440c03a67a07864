"""Clips shorter than ``clip_len``: PYSKL's loop against ``short_clip='interp'`` on time-reversed classes.

A short-clip dataset is derived from the embedded synthetic one (``pyskl.datasets.synthetic``, used as it is): from
each "squat" sample the way down (standing to the deepest point, plus a few frames of the hold) becomes "squat down"
and the same frames played backwards "stand up"; from each "raise both arms" sample the way up becomes "raise arms"
and played backwards "lower arms". Every other frame is kept (15 fps), so the clips are 8-31 frames, all shorter than
the 32-frame clip. Looped, "squat down" plays down-up-down (a jump up, then down again) and "stand up" up-down-up:
the same poses, and their motion differs only in which way the slow part goes. Interpolated, each is one slow
movement in its own direction.

The same small ST-GCN++ (the quickstart's, about 22k parameters) is trained from the same seed with each sampler,
one process, then tested (10 clips per video, subjects unseen in training). Prints top-1 over the 4 classes and, for
each reversed pair, how many of its test clips went to the other class of the pair.

Run: ``python benchmarks/short_clips.py [--epochs 24] [--per-class 40] [--modes loop interp pad] [--seed 0]``
(about 1.5 minutes per mode on a 2-core VM at the defaults). Seeds 0 and 1 printed there: 'loop' 75.0 % and 84.6 %
top-1 with 13 and 8 of the 26 raise / lower arms test clips swapped, 'interp' 100 % and 96.2 % with 0 and 1
swapped; squat down / stand up were told apart by both.
"""
import argparse
import time

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.optim import OptimWrapper

from pyskl.datasets.synthetic import (L_ANKLE, L_WRIST, PELVIS, R_ANKLE, R_WRIST, SPINE_SHOULDER, SYNTHETIC_CLASSES,
                                     TRAIN_SUBJECTS, VAL_SUBJECTS, make_sample)
from pyskl.registry import MODELS
from pyskl.utils import register_all_modules

CLASSES = ('squat down', 'stand up', 'raise arms', 'lower arms')
REVERSED_PAIRS = ((0, 1), (2, 3))
SQUAT, RAISE_BOTH_ARMS = SYNTHETIC_CLASSES.index('squat'), SYNTHETIC_CLASSES.index('raise both arms')
CLIP_LEN, STRIDE, HOLD = 32, 2, 6


def movement_signal(keypoint: np.ndarray, label: int) -> np.ndarray:
    """Per frame of the actor (person 0), how far the movement has gone: pelvis down for a squat, hands up."""
    kp = keypoint[0]  # ntu3d: the body's joints 0-24, so its joint numbers index the keypoints
    if label == SQUAT:
        return (kp[:, L_ANKLE, 1] + kp[:, R_ANKLE, 1]) / 2 - kp[:, PELVIS, 1]
    return (kp[:, L_WRIST, 1] + kp[:, R_WRIST, 1]) / 2 - kp[:, SPINE_SHOULDER, 1]


def forward_segment(keypoint: np.ndarray, label: int) -> slice:
    """From the last rest frame before the movement's peak to a few frames after the peak."""
    signal = movement_signal(keypoint, label)
    low, peak = signal.min(), int(np.argmax(signal))
    rest = np.flatnonzero(signal[:peak] < low + 0.1 * (signal.max() - low))
    start = int(rest[-1]) if len(rest) else 0
    return slice(start, min(peak + HOLD, len(signal)))


def short_clip_dataset(split: str, per_class: int, seed: int) -> list:
    """Annotations of the 4 classes, ``per_class`` each: forward segments and the same segments reversed in time."""
    subjects = TRAIN_SUBJECTS if split == 'train' else VAL_SUBJECTS
    annotations = []
    for i in range(per_class):
        subject, partner = subjects[i % len(subjects)], subjects[(i + 1) % len(subjects)]
        for source, forward_label in ((SQUAT, 0), (RAISE_BOTH_ARMS, 2)):
            sample = make_sample('ntu3d', source, subject, partner, 15 * i + source, split, seed)
            keypoint = sample['keypoint']
            segment = keypoint[:, forward_segment(keypoint, source)][:, ::STRIDE][:, :CLIP_LEN - 1]
            for label, frames in ((forward_label, segment), (forward_label + 1, segment[:, ::-1])):
                annotations.append(dict(frame_dir=f'{CLASSES[label]}_{split}_{i}', label=label,
                                        total_frames=frames.shape[1], keypoint=np.ascontiguousarray(frames)))
    return annotations


def pipeline(short_clip: str, num_clips=None) -> Compose:
    clips = {} if num_clips is None else dict(num_clips=num_clips)
    return Compose([
        dict(type='PreNormalize3D', layout='nturgb+d'), dict(type='GenSkeFeat', layout='nturgb+d', feats=['j']),
        dict(type='UniformSample', clip_len=CLIP_LEN, short_clip=short_clip, **clips), dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2), dict(type='PackActionInputs')])


def build_model():
    return MODELS.build(dict(
        type='RecognizerGCN',
        backbone=dict(type='STGCN', gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn', base_channels=16,
                      num_stages=4, inflate_stages=[3], down_stages=[3],
                      graph_cfg=dict(layout='nturgb+d', mode='spatial')),
        cls_head=dict(type='GCNHead', num_classes=len(CLASSES), in_channels=32)))


def batches(annotations, transform, batch_size, shuffle_rng=None):
    order = np.arange(len(annotations)) if shuffle_rng is None else shuffle_rng.permutation(len(annotations))
    for start in range(0, len(order), batch_size):
        chosen = order[start:start + batch_size]
        yield pseudo_collate([transform(dict(annotations[i], test_mode=shuffle_rng is None)) for i in chosen])


def train_and_test(train_set, test_set, short_clip, epochs, seed, batch_size=16, lr=0.1):
    """Top-1 (%) over the test set and the predicted labels, after training with ``short_clip``."""
    np.random.seed(seed)
    torch.manual_seed(seed)
    model = build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    steps = epochs * -(-len(train_set) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    wrapper, shuffle = OptimWrapper(optimizer), np.random.default_rng(seed)
    train_pipeline, test_pipeline = pipeline(short_clip), pipeline(short_clip, num_clips=10)
    model.train()
    for _ in range(epochs):
        for data in batches(train_set, train_pipeline, batch_size, shuffle):
            model.train_step(data, wrapper)
            schedule.step()
    model.eval()
    predicted = []
    with torch.no_grad():
        for data in batches(test_set, test_pipeline, batch_size):
            predicted += [int(s.pred_score.argmax()) for s in model.test_step(data)]
    labels = np.array([a['label'] for a in test_set])
    predicted = np.array(predicted)
    return 100 * float(np.mean(predicted == labels)), labels, predicted


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--per-class', type=int, default=40, help='training clips per class (test: a third)')
    parser.add_argument('--epochs', type=int, default=24)
    parser.add_argument('--modes', nargs='+', default=['loop', 'interp'], choices=['loop', 'interp', 'pad'])
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    register_all_modules()
    torch.set_num_threads(1)
    train_set = short_clip_dataset('train', args.per_class, args.seed)
    test_set = short_clip_dataset('val', max(args.per_class // 3, 1), args.seed)
    lengths = np.array([a['total_frames'] for a in train_set + test_set])
    print(f'{len(train_set)} training and {len(test_set)} test clips of {lengths.min()}-{lengths.max()} frames '
          f'(median {int(np.median(lengths))}; clip_len {CLIP_LEN}); classes: {", ".join(CLASSES)}')
    for mode in args.modes:
        began = time.perf_counter()
        top1, labels, predicted = train_and_test(train_set, test_set, mode, args.epochs, args.seed)
        swaps = []
        for a, b in REVERSED_PAIRS:
            in_pair = np.isin(labels, (a, b))
            swapped = int(np.sum(in_pair & np.isin(predicted, (a, b)) & (predicted != labels)))
            swaps.append(f'{CLASSES[a]} / {CLASSES[b]}: {swapped} of {int(in_pair.sum())} swapped')
        print(f"short_clip='{mode}': top-1 {top1:.1f} %; " + '; '.join(swaps) +
              f' ({time.perf_counter() - began:.0f} s)')


if __name__ == '__main__':
    main()
