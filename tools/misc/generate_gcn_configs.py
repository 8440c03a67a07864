"""Write PYSKL's 208 GCN configs as self-contained mmengine configs: ``configs/<family>/<experiment>/<stream>.py``.

PYSKL's GCN tree (stgcn 48, stgcn++ 32, aagcn 32, ctrgcn 32, msg3d 32, dgstgcn 16, strong_aug 16) has one folder
per experiment and one file per input stream (j, b, jm, bm). Within a family the files differ only in the dataset,
the skeleton source and the stream, so they are rendered here from a few tables instead of being kept by hand.
The output is deterministic: running this script again rewrites identical files.

Usage:
    python tools/misc/generate_gcn_configs.py            # (re)write configs/
    python tools/misc/generate_gcn_configs.py --check    # exit 1 if a file on disk differs from what it would write
"""
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import config_rendering  # noqa: E402
from config_rendering import render_model, render_value  # noqa: E402

STREAMS = {'j': 'joint', 'b': 'bone', 'jm': 'joint motion', 'bm': 'bone motion'}

# name -> (description, annotation prefix, split prefix, number of classes)
DATASETS = {
    'ntu60_xsub': ('NTU RGB+D 60, cross-subject', 'ntu60', 'xsub', 60),
    'ntu60_xview': ('NTU RGB+D 60, cross-view', 'ntu60', 'xview', 60),
    'ntu120_xsub': ('NTU RGB+D 120, cross-subject', 'ntu120', 'xsub', 120),
    'ntu120_xset': ('NTU RGB+D 120, cross-setup', 'ntu120', 'xset', 120),
}
# skeleton source -> (description, graph layout / GenSkeFeat dataset, annotation file suffix)
SKELETONS = {
    '3dkp': ('3D Kinect skeletons', 'nturgb+d', '3danno'),
    'hrnet': ('HRNet 2D skeletons (COCO-17)', 'coco', 'hrnet'),
}

# PYSKL's README top-1 (%) per (recipe, dataset, skeletons): joint, bone, joint motion, bone motion (facts §4).
TOP1 = {
    ('stgcn_vanilla', 'ntu60_xsub', '3dkp'): (81.5, 81.0, 79.9, 81.2),
    ('stgcn_vanilla', 'ntu60_xsub', 'hrnet'): (85.7, 85.8, 81.6, 83.9),
    ('stgcn_vanilla', 'ntu60_xview', '3dkp'): (90.1, 87.7, 88.8, 88.3),
    ('stgcn_vanilla', 'ntu60_xview', 'hrnet'): (92.4, 90.0, 92.0, 86.5),
    ('stgcn', 'ntu60_xsub', '3dkp'): (87.8, 88.6, 85.8, 86.2),
    ('stgcn', 'ntu60_xsub', 'hrnet'): (89.0, 91.2, 86.7, 87.8),
    ('stgcn', 'ntu60_xview', '3dkp'): (95.5, 95.0, 93.7, 92.8),
    ('stgcn', 'ntu60_xview', 'hrnet'): (98.0, 96.5, 95.6, 95.4),
    ('stgcn', 'ntu120_xsub', '3dkp'): (82.1, 83.7, 80.3, 80.6),
    ('stgcn', 'ntu120_xsub', 'hrnet'): (80.1, 83.4, 78.6, 79.8),
    ('stgcn', 'ntu120_xset', '3dkp'): (84.5, 85.8, 82.7, 83.0),
    ('stgcn', 'ntu120_xset', 'hrnet'): (84.2, 87.7, 82.5, 83.5),
    ('stgcn++', 'ntu60_xsub', '3dkp'): (89.3, 90.1, 87.5, 87.3),
    ('stgcn++', 'ntu60_xsub', 'hrnet'): (89.3, 92.3, 84.0, 88.8),
    ('stgcn++', 'ntu60_xview', '3dkp'): (95.6, 95.5, 94.3, 93.8),
    ('stgcn++', 'ntu60_xview', 'hrnet'): (97.4, 97.2, 93.4, 95.4),
    ('stgcn++', 'ntu120_xsub', '3dkp'): (83.2, 85.6, 80.4, 81.5),
    ('stgcn++', 'ntu120_xsub', 'hrnet'): (84.4, 84.8, 76.4, 81.1),
    ('stgcn++', 'ntu120_xset', '3dkp'): (85.6, 87.5, 84.3, 83.0),
    ('stgcn++', 'ntu120_xset', 'hrnet'): (88.1, 88.5, 82.6, 84.1),
    ('aagcn', 'ntu60_xsub', '3dkp'): (89.0, 89.1, 86.9, 86.6),
    ('aagcn', 'ntu60_xsub', 'hrnet'): (89.7, 92.2, 88.7, 88.8),
    ('aagcn', 'ntu60_xview', '3dkp'): (95.7, 95.2, 93.9, 92.4),
    ('aagcn', 'ntu60_xview', 'hrnet'): (97.1, 96.8, 95.5, 95.9),
    ('aagcn', 'ntu120_xsub', '3dkp'): (82.8, 84.7, 80.0, 80.2),
    ('aagcn', 'ntu120_xsub', 'hrnet'): (80.2, 84.2, 80.9, 81.1),
    ('aagcn', 'ntu120_xset', '3dkp'): (84.8, 86.2, 82.0, 82.8),
    ('aagcn', 'ntu120_xset', 'hrnet'): (86.3, 88.2, 85.1, 85.1),
    ('ctrgcn', 'ntu60_xsub', '3dkp'): (89.6, 90.0, 88.0, 87.5),
    ('ctrgcn', 'ntu60_xsub', 'hrnet'): (90.6, 92.7, 89.4, 90.3),
    ('ctrgcn', 'ntu60_xview', '3dkp'): (95.6, 95.4, 94.4, 93.6),
    ('ctrgcn', 'ntu60_xview', 'hrnet'): (96.9, 97.6, 94.8, 95.6),
    ('ctrgcn', 'ntu120_xsub', '3dkp'): (84.0, 85.9, 81.1, 82.2),
    ('ctrgcn', 'ntu120_xsub', 'hrnet'): (82.2, 84.6, 82.3, 82.1),
    ('ctrgcn', 'ntu120_xset', '3dkp'): (85.9, 87.4, 84.1, 83.9),
    ('ctrgcn', 'ntu120_xset', 'hrnet'): (84.5, 88.6, 85.6, 85.6),
    ('msg3d', 'ntu60_xsub', '3dkp'): (89.6, 89.3, 87.7, 86.7),
    ('msg3d', 'ntu60_xsub', 'hrnet'): (92.7, 92.8, 89.8, 90.2),
    ('msg3d', 'ntu60_xview', '3dkp'): (95.9, 95.0, 94.0, 92.4),
    ('msg3d', 'ntu60_xview', 'hrnet'): (97.1, 97.1, 95.9, 95.1),
    ('msg3d', 'ntu120_xsub', '3dkp'): (84.0, 85.3, 82.2, 81.5),
    ('msg3d', 'ntu120_xsub', 'hrnet'): (85.5, 85.0, 82.6, 82.9),
    ('msg3d', 'ntu120_xset', '3dkp'): (86.0, 87.3, 82.9, 83.2),
    ('msg3d', 'ntu120_xset', 'hrnet'): (88.2, 88.9, 86.6, 86.5),
    ('dgstgcn', 'ntu60_xsub', '3dkp'): (91.2, 91.6, 88.5, 88.1),
    ('dgstgcn', 'ntu60_xview', '3dkp'): (96.7, 96.1, 95.6, 94.3),
    ('dgstgcn', 'ntu120_xsub', '3dkp'): (85.7, 88.0, 82.9, 83.2),
    ('dgstgcn', 'ntu120_xset', '3dkp'): (87.9, 89.8, 85.8, 85.7),
    ('strong_aug', 'ntu60_xsub', '3dkp'): (90.3, 90.8, 88.3, 87.8),
    ('strong_aug', 'ntu60_xview', '3dkp'): (96.6, 95.9, 95.1, 93.7),
    ('strong_aug', 'ntu120_xsub', '3dkp'): (84.3, 87.0, 82.2, 81.9),
    ('strong_aug', 'ntu120_xset', '3dkp'): (86.7, 88.3, 85.1, 84.4),
}

ALL_DATASETS = tuple(DATASETS)
ALL_SKELETONS = tuple(SKELETONS)


@dataclass(frozen=True)
class Experiment:
    """One PYSKL experiment folder. ``recipe`` is the key of :data:`TOP1` and picks the model and the schedule."""
    family: str  # the folder under configs/
    folder: str
    recipe: str
    dataset: str
    skeletons: str

    @property
    def num_classes(self) -> int:
        return DATASETS[self.dataset][3]

    @property
    def layout(self) -> str:
        return SKELETONS[self.skeletons][1]

    @property
    def split(self) -> str:
        return DATASETS[self.dataset][2]

    @property
    def ann_file(self) -> str:
        return f'data/nturgbd/{DATASETS[self.dataset][1]}_{SKELETONS[self.skeletons][2]}.pkl'


def experiments() -> List[Experiment]:
    """Every GCN experiment folder of PYSKL, in a fixed order."""
    grid = [(d, s) for d in ALL_DATASETS for s in ALL_SKELETONS]
    found = [Experiment('stgcn', f'stgcn_pyskl_{d}_{s}', 'stgcn', d, s) for d, s in grid]
    found += [Experiment('stgcn', f'stgcn_vanilla_{d}_{s}', 'stgcn_vanilla', d, s)
              for d in ('ntu60_xsub', 'ntu60_xview') for s in ALL_SKELETONS]
    found += [Experiment('stgcn++', f'stgcn++_{d}_{s}', 'stgcn++', d, s) for d, s in grid]
    for family in ('aagcn', 'ctrgcn', 'msg3d'):
        found += [Experiment(family, f'{family}_pyskl_{d}_{s}', family, d, s) for d, s in grid]
    for family in ('dgstgcn', 'strong_aug'):  # 3D skeletons only
        found += [Experiment(family, f'{d}_3dkp', family, d, '3dkp') for d in ALL_DATASETS]
    return found


# ----------------------------------------------------------------------------------------------------------------
# Model

MODEL_NAMES = {
    'stgcn': 'ST-GCN (PYSKL practice)', 'stgcn_vanilla': 'ST-GCN (vanilla recipe)', 'stgcn++': 'ST-GCN++',
    'aagcn': 'AAGCN', 'ctrgcn': 'CTR-GCN', 'msg3d': 'MS-G3D', 'dgstgcn': 'DG-STGCN',
    'strong_aug': 'ST-GCN++ with strong augmentation',
}
STGCNPP_OPTIONS = dict(gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn')


def backbone_cfg(exp: Experiment) -> dict:
    """PYSKL's backbone dict for the experiment, keys in PYSKL's order."""
    recipe, layout = exp.recipe, exp.layout
    if recipe == 'stgcn':
        return dict(type='STGCN', graph_cfg=dict(layout=layout, mode='stgcn_spatial'))
    if recipe == 'stgcn_vanilla':
        return dict(type='STGCN', tcn_dropout=0.5, graph_cfg=dict(layout=layout, mode='stgcn_spatial'))
    if recipe in ('stgcn++', 'strong_aug'):
        return dict(type='STGCN', **STGCNPP_OPTIONS, graph_cfg=dict(layout=layout, mode='spatial'))
    if recipe == 'aagcn':
        return dict(type='AAGCN', graph_cfg=dict(layout=layout, mode='spatial'))
    if recipe == 'ctrgcn':
        return dict(type='CTRGCN', graph_cfg=dict(layout=layout, mode='spatial'))
    if recipe == 'msg3d':
        return dict(type='MSG3D', graph_cfg=dict(layout=layout, mode='binary_adj'))
    if recipe == 'dgstgcn':
        return dict(
            type='DGSTGCN', gcn_ratio=0.125, gcn_ctr='T', gcn_ada='T',
            tcn_ms_cfg=[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'],
            graph_cfg=dict(layout=layout, mode='random', num_filter=8, init_off=0.04, init_std=0.02))
    raise ValueError(f'unknown recipe {recipe!r}')


def head_cfg(exp: Experiment) -> dict:
    in_channels = 384 if exp.recipe == 'msg3d' else 256  # MS-G3D ends with 384 channels, the others with 256
    return dict(type='GCNHead', num_classes=exp.num_classes, in_channels=in_channels)


def model_cfg(exp: Experiment) -> dict:
    return dict(type='RecognizerGCN', backbone=backbone_cfg(exp), cls_head=head_cfg(exp))


# ----------------------------------------------------------------------------------------------------------------
# Pipelines

def normalize_step(exp: Experiment) -> dict:
    if exp.skeletons == 'hrnet':
        return dict(type='PreNormalize2D')
    if exp.recipe == 'dgstgcn' and exp.dataset != 'ntu60_xview':
        return dict(type='PreNormalize3D', align_spine=False)
    return dict(type='PreNormalize3D')


def feature_step(exp: Experiment, stream: str) -> dict:
    if exp.recipe == 'dgstgcn':  # PYSKL's DG-STGCN files rely on GenSkeFeat's default dataset ('nturgb+d')
        return dict(type='GenSkeFeat', feats=[stream])
    return dict(type='GenSkeFeat', dataset=exp.layout, feats=[stream])


def augment_steps(exp: Experiment) -> List[dict]:
    if exp.recipe == 'strong_aug':
        return [dict(type='RandomScale', scale=0.1), dict(type='RandomRot')]
    if exp.recipe == 'dgstgcn':
        return [dict(type='RandomRot', theta=0.3 if exp.dataset == 'ntu60_xview' else 0.2)]
    return []


def sampling_steps(exp: Experiment, num_clips) -> List[dict]:
    """Temporal sampling (+ decoding); ``num_clips=None`` is the training form (PYSKL leaves the argument out)."""
    clips = {} if num_clips is None else dict(num_clips=num_clips)
    if exp.recipe == 'dgstgcn':  # samples and decodes in one step
        return [dict(type='UniformSampleDecode', clip_len=100, **clips), dict(type='FormatGCNInput')]
    return [dict(type='UniformSample', clip_len=100, **clips), dict(type='PoseDecode'),
            dict(type='FormatGCNInput', num_person=2)]


def pipeline(exp: Experiment, stream: str, phase: str) -> List[dict]:
    """PYSKL's pipeline for ``phase`` in train / val / test, ``Collect`` + ``ToTensor`` replaced by
    ``PackActionInputs``."""
    head = [normalize_step(exp)]
    if phase == 'train':
        head += augment_steps(exp)
    head.append(feature_step(exp, stream))
    if exp.recipe == 'stgcn_vanilla':  # the whole sequence, zero-padded to 300 frames, in every phase
        body = [dict(type='PadTo', length=300, mode='zero'), dict(type='PoseDecode'),
                dict(type='FormatGCNInput', num_person=2)]
    else:
        body = sampling_steps(exp, dict(train=None, val=1, test=10)[phase])
    return head + body + [dict(type='PackActionInputs')]


# ----------------------------------------------------------------------------------------------------------------
# Rendering

def render_pipeline(name: str, steps: List[dict]) -> str:
    return '\n'.join([f'{name} = ['] + [f'    {render_value(step)},' for step in steps] + [']'])


def render_header(exp: Experiment, stream: str) -> str:
    top1 = TOP1[(exp.recipe, exp.dataset, exp.skeletons)][list(STREAMS).index(stream)]
    testing = 'on whole sequences padded to 300 frames' if exp.recipe == 'stgcn_vanilla' else 'with 10-clip testing'
    return (f'# {MODEL_NAMES[exp.recipe]} | {DATASETS[exp.dataset][0]} | {SKELETONS[exp.skeletons][0]} | '
            f'{STREAMS[stream]} stream.\n'
            f'# PYSKL: configs/{exp.family}/{exp.folder}/{stream}.py (top-1 {top1} {testing}).')


def render_pipelines(exp: Experiment, stream: str) -> str:
    if exp.recipe == 'stgcn_vanilla':
        return ('# Vanilla ST-GCN has no temporal sampling: train, val and test all see the whole sequence.\n'
                + render_pipeline('pipeline', pipeline(exp, stream, 'test')))
    parts = []
    if exp.recipe == 'dgstgcn':
        parts.append('# As PYSKL: the ntu60_xview files keep the spine alignment of PreNormalize3D and rotate by up '
                     'to 0.3 rad;\n# the other DG-STGCN folders skip the alignment and rotate by up to 0.2 rad.')
    if exp.recipe == 'strong_aug':
        parts.append('# Strong augmentation: random per-axis scaling (+-10 %) and rotation (up to 0.3 rad per axis) '
                     'in training.')
    parts += [render_pipeline(f'{phase}_pipeline', pipeline(exp, stream, phase)) for phase in ('train', 'val', 'test')]
    return '\n'.join(parts)


def render_loader(phase: str, exp: Experiment) -> str:
    """One dataloader dict; ``phase`` in train / val / test."""
    workers = 4 if exp.recipe == 'dgstgcn' else 2
    batch = 1 if phase == 'test' else 16
    pipe = 'pipeline' if exp.recipe == 'stgcn_vanilla' else f'{phase}_pipeline'
    split = f"'{exp.split}_train'" if phase == 'train' else f"'{exp.split}_val'"
    dataset = f'dict(type=dataset_type, ann_file=ann_file, pipeline={pipe}, split={split}'
    lines = [f'{phase}_dataloader = dict(', f'    batch_size={batch},', f'    num_workers={workers},',
             '    persistent_workers=True,', f"    sampler=dict(type='DefaultSampler', shuffle={phase == 'train'}),"]
    if phase != 'train':
        lines.append(f'    dataset={dataset}, test_mode=True))')
    elif exp.recipe == 'dgstgcn':
        lines.append(f'    dataset={dataset}))')
    else:
        lines += ['    dataset=dict(', "        type='RepeatDataset',", '        times=5,',
                  f'        dataset={dataset})))']
    return '\n'.join(lines)


def render_schedule(exp: Experiment) -> str:
    if exp.recipe == 'dgstgcn':
        epochs, note = 150, '# 150 epochs over the training split (DG-STGCN uses no RepeatDataset).'
    elif exp.recipe == 'strong_aug':
        epochs, note = 24, '# 24 epochs over the training split repeated 5 times = PYSKL\'s "120 epochs".'
    else:
        epochs, note = 16, '# 16 epochs over the training split repeated 5 times = PYSKL\'s "80 epochs".'
    lines = [note, f"train_cfg = dict(type='EpochBasedTrainLoop', max_epochs={epochs}, val_interval=1)",
             "val_cfg = dict(type='ValLoop')", "test_cfg = dict(type='TestLoop')", '']
    if exp.recipe == 'dgstgcn':
        base_batch = 64
        lines += ['# PYSKL\'s DG-STGCN files note "optimizer, 4GPU": 4 GPUs x 16 samples = 64 per step at lr 0.1 '
                  '(its README lists 8',
                  '# GPUs; the config file is followed here). tools/train.py scales the LR linearly with the total '
                  'batch:',
                  '# lr = 0.1 * (num_processes * batch_size) / 64 (--no-scale-lr keeps 0.1).']
    else:
        base_batch = 128
        lines += ['# PYSKL trained with 8 GPUs x 16 samples = 128 per step at lr 0.1. The LR scales linearly with the '
                  'total batch:',
                  '# lr = 0.1 * (num_processes * batch_size) / 128. tools/train.py applies this rule (--no-scale-lr '
                  'keeps 0.1).']
    if exp.recipe == 'stgcn_vanilla':
        lines += ["optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0001))",
                  '# The original ST-GCN schedule: LR x0.1 after epochs 2 and 10 (data epochs 10 and 50).',
                  "param_scheduler = [dict(type='MultiStepLR', milestones=[2, 10], gamma=0.1, by_epoch=True)]"]
    else:
        lines += ["optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, "
                  "nesterov=True))",
                  f"param_scheduler = [dict(type='CosineAnnealingLR', T_max={epochs}, eta_min=0, by_epoch=True, "
                  "convert_to_iter_based=True)]"]
    lines.append(f'auto_scale_lr = dict(enable=True, base_batch_size={base_batch})')
    return '\n'.join(lines)


def render_config(exp: Experiment, stream: str) -> str:
    """The full text of ``configs/<family>/<folder>/<stream>.py``."""
    sections = [
        render_header(exp, stream) + "\ndefault_scope = 'pyskl'",
        render_model(model_cfg(exp)),
        '\n'.join([
            "dataset_type = 'PoseDataset'", f"ann_file = '{exp.ann_file}'", render_pipelines(exp, stream),
            render_loader('train', exp), render_loader('val', exp), render_loader('test', exp),
            "val_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy'])",
            "test_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])"]),
        render_schedule(exp),
        '\n'.join([
            'default_hooks = dict(',
            "    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),",
            "    logger=dict(type='LoggerHook', interval=100))",
            f"work_dir = './work_dirs/{exp.family}/{exp.folder}/{stream}'"]),
    ]
    return '\n\n'.join(sections) + '\n'


def render_all() -> Dict[str, str]:
    """``{'<family>/<folder>/<stream>.py': text}`` for all 208 configs, in a fixed order."""
    return {f'{exp.family}/{exp.folder}/{stream}.py': render_config(exp, stream)
            for exp in experiments() for stream in STREAMS}


def differences(config_dir: Path) -> List[Tuple[str, str]]:
    """``(path, why)`` for every file that is missing or differs from what this script writes."""
    return config_rendering.differences(render_all(), config_dir)


def main(argv=None) -> int:
    return config_rendering.generator_main(render_all, 'GCN', __doc__.split('\n\n')[0], argv)


if __name__ == '__main__':
    sys.exit(main())
