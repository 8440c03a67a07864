"""Write PYSKL's 25 PoseC3D configs as self-contained mmengine configs: ``configs/posec3d/<experiment>/<stream>.py``.

PYSKL's ``configs/posec3d/`` has one folder per backbone and dataset and one file per heatmap stream (``joint``,
``limb``; ``s1_joint`` for split 1 of UCF101 / HMDB51). The files differ only in backbone, dataset, stream and a few
recipe numbers, so they are rendered here from tables, like ``generate_gcn_configs.py`` renders the GCN tree.
The output is deterministic: running this script again rewrites identical files.

Usage:
    python tools/misc/generate_posec3d_configs.py            # (re)write configs/posec3d/
    python tools/misc/generate_posec3d_configs.py --check    # exit 1 if a file on disk differs from what it would write
"""
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import config_rendering  # noqa: E402
from config_rendering import Name, render_model, render_value  # noqa: E402

LINE_LENGTH = 120


@dataclass(frozen=True)
class Dataset:
    description: str
    ann_file: str
    train_split: str
    val_split: str
    num_classes: int


DATASETS = {
    'ntu60_xsub': Dataset('NTU RGB+D 60, cross-subject', 'data/nturgbd/ntu60_hrnet.pkl', 'xsub_train', 'xsub_val', 60),
    'ntu60_xview': Dataset('NTU RGB+D 60, cross-view', 'data/nturgbd/ntu60_hrnet.pkl', 'xview_train', 'xview_val',
                           60),
    'ntu120_xsub': Dataset('NTU RGB+D 120, cross-subject', 'data/nturgbd/ntu120_hrnet.pkl', 'xsub_train', 'xsub_val',
                           120),
    'ntu120_xset': Dataset('NTU RGB+D 120, cross-setup', 'data/nturgbd/ntu120_hrnet.pkl', 'xset_train', 'xset_val',
                           120),
    'gym': Dataset('FineGYM (Gym99)', 'data/gym/gym_hrnet.pkl', 'train', 'val', 99),
    'k400': Dataset('Kinetics-400', 'data/k400/k400_hrnet.pkl', 'train', 'val', 400),
    'diving48': Dataset('Diving48', 'data/diving48/diving48_hrnet.pkl', 'train', 'test', 48),
    'ucf101': Dataset('UCF101, split 1', 'data/ucf101/ucf101_hrnet.pkl', 'train1', 'test1', 101),
    'hmdb51': Dataset('HMDB51, split 1', 'data/hmdb51/hmdb51_hrnet.pkl', 'train1', 'test1', 51),
}
# PYSKL doubles the sampling rate of NTU-120's last 60 classes on the cross-subject benchmark only; its cross-setup
# files have no class_prob.
CLASS_PROB_DATASETS = ('ntu120_xsub', )
# PYSKL's "joint" files of these benchmarks render limb heatmaps (GeneratePoseTarget(with_kp=False, with_limb=True));
# here they render joint heatmaps.
LIMB_QUIRK_DATASETS = ('ntu120_xsub', 'ntu120_xset')
FINETUNED = ('ucf101', 'hmdb51')  # from PYSKL's Kinetics-400 SlowOnly, with their own schedule
K400_CHECKPOINT = 'https://download.openmmlab.com/mmaction/skeleton/posec3d/k400_posec3d-041f49c6.pth'

STREAMS = {'joint': 'joint heatmaps', 'limb': 'limb heatmaps', 's1_joint': 'joint heatmaps'}

# backbone -> (name in the header, backbone dict in PYSKL's key order, I3DHead in_channels)
_SLOWONLY = dict(type='ResNet3dSlowOnly', in_channels=17, base_channels=32, num_stages=3, out_indices=(2, ),
                 stage_blocks=(4, 6, 3), conv1_stride=(1, 1), pool1_stride=(1, 1), inflate=(0, 1, 1),
                 spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 2))
BACKBONES = {
    'slowonly': ('SlowOnly-R50', _SLOWONLY, 512),
    'slowonly_346': ('SlowOnly-R50 (blocks 3-4-6)', dict(_SLOWONLY, stage_blocks=(3, 4, 6)), 512),
    'c3d': ('C3D-light', dict(type='C3D', in_channels=17, base_channels=32, num_stages=3, temporal_downsample=False),
            256),
    'x3d': ('X3D-shallow', dict(type='X3D', gamma_d=1, in_channels=17, base_channels=24, num_stages=3, se_ratio=None,
                                use_swish=False, stage_blocks=(2, 5, 3), spatial_strides=(2, 2, 2)), 216),
}


@dataclass(frozen=True)
class Experiment:
    """One PYSKL experiment folder under ``configs/posec3d/``."""
    folder: str
    backbone: str
    dataset: str
    streams: Tuple[str, ...]

    @property
    def data(self) -> Dataset:
        return DATASETS[self.dataset]

    @property
    def is_k400(self) -> bool:
        return self.dataset == 'k400'

    @property
    def finetuned(self) -> bool:
        return self.dataset in FINETUNED


def experiments() -> List[Experiment]:
    """Every PoseC3D experiment folder of PYSKL, in a fixed order."""
    both = ('joint', 'limb')
    found = [Experiment(f'slowonly_r50_{d}', 'slowonly', d, both)
             for d in ('ntu60_xsub', 'ntu60_xview', 'ntu120_xsub', 'ntu120_xset', 'gym')]
    found += [Experiment('slowonly_r50_346_k400', 'slowonly_346', 'k400', both),
              Experiment('slowonly_r50_463_k400', 'slowonly', 'k400', both),
              Experiment('slowonly_r50_diving48', 'slowonly', 'diving48', ('joint', )),
              Experiment('slowonly_r50_ucf101_k400p', 'slowonly_346', 'ucf101', ('s1_joint', )),
              Experiment('slowonly_r50_hmdb51_k400p', 'slowonly_346', 'hmdb51', ('s1_joint', ))]
    for backbone, name in (('c3d', 'c3d_light'), ('x3d', 'x3d_shallow')):
        found += [Experiment(f'{name}_{d}', backbone, d, both) for d in ('ntu60_xsub', 'gym')]
    return found


# PYSKL's README top-1 (%) per experiment folder and stream (facts §4; FineGYM reports mean class accuracy).
TOP1 = {
    'slowonly_r50_ntu60_xsub': dict(joint=93.7, limb=93.4),
    'slowonly_r50_ntu60_xview': dict(joint=96.5, limb=96.0),
    'slowonly_r50_ntu120_xsub': dict(joint=85.9, limb=85.9),
    'slowonly_r50_ntu120_xset': dict(joint=89.7, limb=89.7),
    'slowonly_r50_gym': dict(joint=93.8, limb=93.8),
    'slowonly_r50_346_k400': dict(joint=47.3, limb=46.9),
    'slowonly_r50_463_k400': dict(joint=46.6, limb=45.7),
    'slowonly_r50_diving48': dict(joint=54.5),
    'slowonly_r50_ucf101_k400p': dict(s1_joint=86.9),
    'slowonly_r50_hmdb51_k400p': dict(s1_joint=69.4),
    'c3d_light_ntu60_xsub': dict(joint=92.7, limb=92.6),
    'c3d_light_gym': dict(joint=91.8, limb=91.2),
    'x3d_shallow_ntu60_xsub': dict(joint=92.1, limb=91.6),
    'x3d_shallow_gym': dict(joint=91.4, limb=90.0),
}


# ----------------------------------------------------------------------------------------------------------------
# The recipe

@dataclass(frozen=True)
class Recipe:
    lr: float
    weight_decay: float
    batch_size: int
    workers: int
    epochs: int
    train_size: int  # square crop the training clips are resized to
    test_size: int  # square the val / test clips are resized to


def recipe(exp: Experiment) -> Recipe:
    if exp.finetuned:
        return Recipe(lr=0.01, weight_decay=0.0003 if exp.dataset == 'ucf101' else 0.0001, batch_size=16, workers=4,
                      epochs=12, train_size=48, test_size=56)
    weight_decay = 0.0001 if exp.dataset in ('k400', 'diving48') else 0.0003
    return Recipe(lr=0.4, weight_decay=weight_decay, batch_size=32, workers=8 if exp.is_k400 else 4, epochs=24,
                  train_size=56, test_size=64)


# ----------------------------------------------------------------------------------------------------------------
# Model

def model_cfg(exp: Experiment) -> dict:
    """PYSKL's ``model`` dict, keys in PYSKL's order."""
    _, backbone, in_channels = BACKBONES[exp.backbone]
    return dict(type='Recognizer3D', backbone=dict(backbone),
                cls_head=dict(type='I3DHead', in_channels=in_channels, num_classes=exp.data.num_classes, dropout=0.5),
                test_cfg=dict(average_clips='prob'))


# ----------------------------------------------------------------------------------------------------------------
# Pipelines

LEFT_KP, RIGHT_KP = [1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]
SKELETONS = [[0, 5], [0, 6], [5, 7], [7, 9], [6, 8], [8, 10], [5, 11], [11, 13], [13, 15], [6, 12], [12, 14],
             [14, 16], [0, 1], [0, 2], [1, 3], [2, 4], [11, 12]]
LEFT_LIMB, RIGHT_LIMB = [0, 2, 3, 6, 7, 8, 12, 14], [1, 4, 5, 9, 10, 11, 13, 15]


def heatmap_step(stream: str, phase: str) -> dict:
    """PYSKL's GeneratePoseTarget for the stream; the test form also renders the horizontally flipped clip."""
    if stream == 'limb':
        step = dict(type='GeneratePoseTarget', with_kp=False, with_limb=True, skeletons=Name('skeletons'))
    else:
        step = dict(type='GeneratePoseTarget', with_kp=True, with_limb=False)
    if phase == 'test':
        step.update(double=True, left_kp=Name('left_kp'), right_kp=Name('right_kp'))
        if stream == 'limb':
            step.update(left_limb=Name('left_limb'), right_limb=Name('right_limb'))
    return step


def pipeline(exp: Experiment, stream: str, phase: str) -> List[dict]:
    """PYSKL's pipeline for ``phase`` in train / val / test, ``Collect`` + ``ToTensor`` replaced by
    ``PackActionInputs`` (which packs ``imgs``)."""
    rec = recipe(exp)
    steps = [dict(type='DecompressPose', squeeze=True)] if exp.is_k400 else []
    clips = {} if phase == 'train' else dict(num_clips=1 if phase == 'val' else 10)
    steps += [dict(type='UniformSampleFrames', clip_len=48, **clips), dict(type='PoseDecode'),
              dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True)]
    if phase == 'train':
        steps += [dict(type='Resize', scale=(-1, 64)), dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
                  dict(type='Resize', scale=(rec.train_size, rec.train_size), keep_ratio=False),
                  dict(type='Flip', flip_ratio=0.5, left_kp=Name('left_kp'), right_kp=Name('right_kp'))]
    else:
        steps.append(dict(type='Resize', scale=(rec.test_size, rec.test_size), keep_ratio=False))
    steps += [heatmap_step(stream, phase), dict(type='FormatShape', input_format='NCTHW_Heatmap'),
              dict(type='PackActionInputs')]
    return steps


# ----------------------------------------------------------------------------------------------------------------
# Rendering

def fill(opening: str, items: Sequence[str], closing: str, indent: int = 0) -> str:
    """``opening`` + comma-separated ``items`` + ``closing``, on one line if it fits, else filled into lines of at
    most LINE_LENGTH characters, continuation lines aligned after ``opening``."""
    one_line = ' ' * indent + opening + ', '.join(items) + closing
    if len(one_line) <= LINE_LENGTH:
        return one_line
    hang = ' ' * (indent + len(opening))
    lines, current = [], ' ' * indent + opening
    for i, item in enumerate(items):
        piece = item + (closing if i == len(items) - 1 else ',')
        if current.strip() and not current.endswith(opening) and len(current) + 1 + len(piece) > LINE_LENGTH:
            lines.append(current)
            current = hang + piece
        else:
            current += ('' if current.endswith(opening) else ' ') + piece
    lines.append(current)
    return '\n'.join(lines)


def render_dict(value: dict, indent: int = 0, closing: str = '', opening: str = 'dict(') -> str:
    return fill(opening, [f'{k}={render_value(v)}' for k, v in value.items()], ')' + closing, indent)


def render_pipeline(name: str, steps: List[dict]) -> str:
    return '\n'.join([f'{name} = ['] + [render_dict(step, indent=4, closing=',') for step in steps] + [']'])


def render_header(exp: Experiment, stream: str) -> str:
    backbone = BACKBONES[exp.backbone][0]
    pretrain = ' | K400 pretrained' if exp.finetuned else ''
    metric = 'mean class top-1' if exp.dataset == 'gym' else 'top-1'
    return (f'# PoseC3D {backbone} | {exp.data.description} | HRNet 2D skeletons{pretrain} | '
            f'{STREAMS[stream]}.\n'
            f'# PYSKL: configs/posec3d/{exp.folder}/{stream}.py ({metric} {TOP1[exp.folder][stream]} with 10 clips '
            'x 2 flips at test time).')


def render_variables(exp: Experiment, stream: str) -> str:
    lines = ["dataset_type = 'PoseDataset'", f"ann_file = '{exp.data.ann_file}'"]
    if exp.is_k400:
        lines += ['# PYSKL served the skeletons of its K400 kpfiles from a memcached server. PoseDataset accepts and '
                  'ignores',
                  '# memcached / mc_cfg: on first use it packs the split\'s skeletons from the kpfiles (`raw_file` of '
                  'each entry) into',
                  '# one memory-mapped file beside the annotation, which every dataloader worker shares; no server is '
                  'needed.',
                  'memcached = True', "mc_cfg = ('localhost', 22077)", 'box_thr = 0.5', 'valid_ratio = 0.0']
    lines += [f'left_kp = {render_value(LEFT_KP)}', f'right_kp = {render_value(RIGHT_KP)}']
    if stream == 'limb':
        lines += [fill('skeletons = [', [render_value(pair) for pair in SKELETONS], ']'),
                  f'left_limb = {render_value(LEFT_LIMB)}', f'right_limb = {render_value(RIGHT_LIMB)}']
    if exp.dataset in CLASS_PROB_DATASETS:
        lines += ['# NTU-120\'s classes 61-120 are drawn twice as often (ClassSpecificDistributedSampler, as PYSKL).',
                  'class_prob = [1] * 60 + [2] * 60']
    return '\n'.join(lines)


def render_pipelines(exp: Experiment, stream: str) -> str:
    parts = ['# GeneratePoseTarget renders the heatmaps in the dataloader workers. Set deferred=True in every '
             'GeneratePoseTarget to',
             '# render the heatmaps on the model\'s device in the data preprocessor instead.']
    if exp.is_k400:
        parts.append('# DecompressPose expands the compressed skeletons ([N, 17, 3] + frame_inds) into [M, T, 17, 2] '
                     '+ scores.')
    if stream == 'joint' and exp.dataset in LIMB_QUIRK_DATASETS:
        parts += ['# PYSKL\'s file trains this "joint" model on limb heatmaps (GeneratePoseTarget(with_kp=False, '
                  'with_limb=True)); fixed',
                  '# here: joint heatmaps, as in every other joint config.']
    parts += [render_pipeline(f'{phase}_pipeline', pipeline(exp, stream, phase)) for phase in ('train', 'val', 'test')]
    return '\n'.join(parts)


def dataset_args(exp: Experiment, phase: str) -> dict:
    split = exp.data.train_split if phase == 'train' else exp.data.val_split
    args = dict(type=Name('dataset_type'), ann_file=Name('ann_file'), pipeline=Name(f'{phase}_pipeline'), split=split)
    if exp.is_k400:
        args['box_thr'] = Name('box_thr')
        if phase == 'train':
            args['valid_ratio'] = Name('valid_ratio')
        args.update(memcached=Name('memcached'), mc_cfg=Name('mc_cfg'))
    if phase == 'train' and exp.dataset in CLASS_PROB_DATASETS:
        args['class_prob'] = Name('class_prob')
    if phase != 'train':
        args['test_mode'] = True
    return args


def render_loader(exp: Experiment, phase: str) -> str:
    rec = recipe(exp)
    if phase == 'train':
        sampler = (dict(type='ClassSpecificDistributedSampler') if exp.dataset in CLASS_PROB_DATASETS else
                   dict(type='DefaultSampler', shuffle=True))
    else:
        sampler = dict(type='DefaultSampler', shuffle=False)
    lines = [f'{phase}_dataloader = dict(', f'    batch_size={1 if phase == "test" else rec.batch_size},',
             f'    num_workers={rec.workers},', '    persistent_workers=True,', f'    sampler={render_value(sampler)},']
    if phase == 'train':
        lines += ['    dataset=dict(', "        type='RepeatDataset',", '        times=10,',
                  render_dict(dataset_args(exp, phase), indent=8, closing='))', opening='dataset=dict(')]
    else:
        lines.append(render_dict(dataset_args(exp, phase), indent=4, closing=')', opening='dataset=dict('))
    return '\n'.join(lines)


def render_schedule(exp: Experiment) -> str:
    rec = recipe(exp)
    note = f'# {rec.epochs} epochs over the training split repeated 10 times = PYSKL\'s "{rec.epochs * 10} epochs"'
    note += (', fine-tuning PYSKL\'s Kinetics-400\n# SlowOnly (load_from below).' if exp.finetuned else '.')
    base_batch = 8 * rec.batch_size
    lines = [note, f"train_cfg = dict(type='EpochBasedTrainLoop', max_epochs={rec.epochs}, val_interval=1)",
             "val_cfg = dict(type='ValLoop')", "test_cfg = dict(type='TestLoop')", '',
             f'# PYSKL trained with 8 GPUs x {rec.batch_size} samples = {base_batch} per step at lr {rec.lr}. The LR '
             'scales linearly with the total batch:',
             f'# lr = {rec.lr} * (num_processes * batch_size) / {base_batch}. tools/train.py applies this rule '
             f'(--no-scale-lr keeps {rec.lr}).',
             'optim_wrapper = dict(',
             f"    optimizer=dict(type='SGD', lr={rec.lr}, momentum=0.9, weight_decay={rec.weight_decay}),",
             '    clip_grad=dict(max_norm=40, norm_type=2))']
    if exp.finetuned:
        lines += ['# LR x0.1 after epochs 9 and 11 (PYSKL\'s step policy).',
                  "param_scheduler = [dict(type='MultiStepLR', milestones=[9, 11], gamma=0.1, by_epoch=True)]"]
    else:
        lines.append(f"param_scheduler = [dict(type='CosineAnnealingLR', T_max={rec.epochs}, eta_min=0, by_epoch=True, "
                     'convert_to_iter_based=True)]')
    lines.append(f'auto_scale_lr = dict(enable=True, base_batch_size={base_batch})')
    return '\n'.join(lines)


def render_runtime(exp: Experiment, stream: str) -> str:
    lines = ['default_hooks = dict(',
             "    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),",
             "    logger=dict(type='LoggerHook', interval=20))",
             f"work_dir = './work_dirs/posec3d/{exp.folder}/{stream}'"]
    if exp.finetuned:
        lines += [f"load_from = '{K400_CHECKPOINT}'",
                  "# Its head has K400's 400 classes: the backbone loads, the head starts anew (as PYSKL's loading).",
                  'strict_load = False', 'find_unused_parameters = True']
    return '\n'.join(lines)


def render_config(exp: Experiment, stream: str) -> str:
    """The full text of ``configs/posec3d/<folder>/<stream>.py``."""
    sections = [
        render_header(exp, stream) + "\ndefault_scope = 'pyskl'",
        render_model(model_cfg(exp)),
        '\n'.join([
            render_variables(exp, stream), render_pipelines(exp, stream),
            *[render_loader(exp, phase) for phase in ('train', 'val', 'test')],
            "val_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])",
            "test_evaluator = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])"]),
        render_schedule(exp),
        render_runtime(exp, stream),
    ]
    return '\n\n'.join(sections) + '\n'


def render_all() -> Dict[str, str]:
    """``{'posec3d/<folder>/<stream>.py': text}`` for all 25 configs, in a fixed order."""
    return {f'posec3d/{exp.folder}/{stream}.py': render_config(exp, stream)
            for exp in experiments() for stream in exp.streams}


def differences(config_dir: Path) -> List[Tuple[str, str]]:
    """``(path, why)`` for every file that is missing or differs from what this script writes."""
    return config_rendering.differences(render_all(), config_dir)


def main(argv=None) -> int:
    return config_rendering.generator_main(render_all, 'PoseC3D', __doc__.split('\n\n')[0], argv)


if __name__ == '__main__':
    sys.exit(main())
