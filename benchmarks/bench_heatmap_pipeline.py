"""Samples/s of PoseC3D's heatmap pipelines, ours beside PYSKL's per-keypoint loop, in one run.

The pipelines are those of ``configs/posec3d/slowonly_r50_ntu60_xsub/{joint,limb}.py``: the joint and limb train
pipelines (48 frames, 56x56 heatmaps) and the joint test pipeline (10 clips x 48 frames, 64x64, flip test:
20 views). The reference runs the same steps with PYSKL's ``GeneratePoseTarget`` definition as a loop over frames,
persons and keypoints (``reference_heatmap.py``) and PYSKL's copying ``FormatShape`` + ``ToTensor``. Each sample
is 2 persons x 17 joints (the embedded COCO-17 dataset's motion; a second person is added where a clip has one).
Before timing, both pipelines run on the same samples with the same random state and their outputs are compared.

Also timed: the data preprocessor rendering a batch of 16 deferred train samples (``GeneratePoseTarget(
deferred=True)``; the workers then only sample, crop and flip keypoints), checked against the pipeline's volumes.

Run: ``python benchmarks/bench_heatmap_pipeline.py [--iters 40] [--repeats 5] [--samples 32]``.
"""
import argparse
import os.path as osp
import random
import sys

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bench_gcn_pipeline import rate  # noqa: E402
from reference_heatmap import reference_heatmaps  # noqa: E402

CONFIGS = osp.join(osp.dirname(osp.abspath(__file__)), '..', 'configs', 'posec3d', 'slowonly_r50_ntu60_xsub')
TARGET_RATIO = 5.
BATCH = 16


class LoopGeneratePoseTarget(BaseTransform):
    """PYSKL's GeneratePoseTarget: the per-keypoint loop, then the mirrored copy concatenated."""

    def __init__(self, **kwargs):
        kwargs.pop('type', None)
        self.kwargs = kwargs

    def transform(self, results):
        results['imgs'] = reference_heatmaps(results['keypoint'], results.get('keypoint_score'),
                                             results['img_shape'], **self.kwargs)
        return results


class CopyingFormatShape(BaseTransform):
    """PYSKL's FormatShape('NCTHW_Heatmap') and ToTensor: the clips laid out in a new contiguous array."""

    def transform(self, results):
        imgs, clip_len = results['imgs'], results['clip_len']
        clips = imgs.reshape((-1, clip_len) + imgs.shape[1:]).transpose(0, 2, 1, 3, 4)
        results['imgs'] = torch.from_numpy(np.ascontiguousarray(clips))
        return results


def pipelines(config_file: str, split: str):
    """(ours, reference, deferred) for the config's ``split`` pipeline."""
    steps = [dict(step) for step in Config.fromfile(config_file)[f'{split}_pipeline']]
    ours = Compose(steps)
    reference, deferred = [], []
    for step in steps:
        if step['type'] == 'GeneratePoseTarget':
            reference.append(LoopGeneratePoseTarget(**step))
            deferred.append(dict(step, deferred=True))
        elif step['type'] == 'FormatShape':
            reference.append(CopyingFormatShape())
            deferred.append(step)
        else:
            reference.append(step)
            deferred.append(step)
    return ours, Compose(reference), Compose(deferred)


def two_person_samples(num: int, seed: int = 0):
    """Embedded COCO-17 samples (1920x1080 pixels + scores) with exactly 2 persons, test/train keys set."""
    from pyskl.datasets.synthetic import make_synthetic_dataset
    annos = make_synthetic_dataset('coco2d', num_train=num, num_val=1, seed=seed)['annotations'][:num]
    samples = []
    for anno in annos:
        kp, score = anno['keypoint'].astype(np.float32), anno['keypoint_score'].astype(np.float32)
        if kp.shape[0] == 1:  # a second person 500 px to the right, doing the same
            kp = np.concatenate([kp, np.where(kp != 0, kp + [500., 0.], 0)])
            score = np.concatenate([score, score])
        samples.append(dict(anno, keypoint=kp[:2], keypoint_score=score[:2], start_index=0, modality='Pose'))
    return samples


def same_outputs(ours, reference, samples, test_mode: bool) -> float:
    """Largest difference of the two pipelines' inputs over ``samples`` (same random state for both)."""
    worst = 0.
    for i, sample in enumerate(samples):
        outputs = []
        for pipeline in (ours, reference):
            np.random.seed(i), random.seed(i)
            outputs.append(pipeline(dict(sample, test_mode=test_mode))['inputs'])
        assert outputs[0].shape == outputs[1].shape, (outputs[0].shape, outputs[1].shape)
        worst = max(worst, (outputs[0] - outputs[1]).abs().max().item())
    return worst


def time_pipeline(pipeline, samples, test_mode, iters, repeats):
    return rate(lambda i: pipeline(dict(samples[i % len(samples)], test_mode=test_mode)), iters, repeats, warmup=3)


def bench_preprocessor(ours, deferred, samples, repeats):
    """Samples/s of ActionDataPreprocessor rendering a batch of BATCH deferred samples, and its largest difference
    from the pipeline's volumes."""
    from pyskl.models.data_preprocessors import ActionDataPreprocessor
    from pyskl.utils.analysis import median_seconds
    preprocessor = ActionDataPreprocessor()
    packed, expected = [], []
    for i, sample in enumerate(samples[:BATCH]):
        for pipeline, out in ((deferred, packed), (ours, expected)):
            np.random.seed(i), random.seed(i)
            out.append(pipeline(dict(sample, test_mode=False)))
    batch = pseudo_collate(packed)
    volumes = preprocessor(batch)['inputs']
    worst = (volumes - torch.stack([e['inputs'] for e in expected])).abs().max().item()
    return BATCH / median_seconds(lambda: preprocessor(batch), warmup=1, repeats=repeats)[0], worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--iters', type=int, default=40, help='samples per timed repeat (the test pipeline: a 10th)')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--samples', type=int, default=32, help='distinct synthetic samples')
    args = parser.parse_args()
    from pyskl.utils import register_all_modules
    from pyskl.utils.memory import keep_freed_memory
    register_all_modules()
    keep_freed_memory()  # as tools/train.py does: volumes reuse freed memory instead of faulting in fresh pages
    torch.set_num_threads(1)  # a dataloader worker's share of a 2-core machine
    samples = two_person_samples(args.samples)

    cases = [('train joint', 'joint.py', 'train', False, args.iters),
             ('train limb', 'limb.py', 'train', False, args.iters),
             ('test joint 10 clips x flip', 'joint.py', 'test', True, max(args.iters // 10, 2))]
    print(f'{"pipeline":<28}{"ours/s":>10}{"loop ref/s":>12}{"ratio":>8}{"target":>8}{"max diff":>10}'
          f'{"deferred/s":>12}')
    ours_train = deferred_train = None
    for name, config, split, test_mode, iters in cases:
        ours, reference, deferred = pipelines(osp.join(CONFIGS, config), split)
        diff = same_outputs(ours, reference, samples[:4], test_mode)
        fast, _ = time_pipeline(ours, samples, test_mode, iters, args.repeats)
        slow, _ = time_pipeline(reference, samples, test_mode, max(iters // 4, 2), args.repeats)
        packed, _ = time_pipeline(deferred, samples, test_mode, iters, args.repeats)
        print(f'{name:<28}{fast:>10.1f}{slow:>12.1f}{fast / slow:>7.1f}x{TARGET_RATIO:>7.0f}x{diff:>10.1e}'
              f'{packed:>12.1f}')
        if ours_train is None:
            ours_train, deferred_train = ours, deferred

    torch.set_num_threads(2)  # the main process renders, with the machine's 2 cores
    speed, diff = bench_preprocessor(ours_train, deferred_train, samples, args.repeats)
    print(f'data preprocessor, batch of {BATCH} train joint volumes: {speed:.1f} samples/s on the CPU '
          f'(2 threads), max diff from the pipeline {diff:.1e}')


if __name__ == '__main__':
    main()
