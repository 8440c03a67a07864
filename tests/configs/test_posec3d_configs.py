"""PYSKL's 25 PoseC3D configs (``configs/posec3d/<experiment>/<stream>.py``): the tree, PYSKL's model dicts, pipelines
and recipe (restated here from PYSKL's files, facts §3.2), agreement with the reference cases, what each file builds,
and the class-specific sampler of the NTU-120 cross-subject files."""
import copy
import math
import pickle
import re

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from pyskl.registry import DATA_SAMPLERS, DATASETS, METRICS, MODELS, TRANSFORMS
from tests.conftest import PYSKL_REF, load_ref

from .helpers import CONFIG_DIR, as_plain, inner_dataset, load_config, load_generator, pipelines

POSEC3D_CONFIGS = sorted(str(p.relative_to(CONFIG_DIR)) for p in (CONFIG_DIR / 'posec3d').glob('*/*.py'))

# folder -> (backbone, num_classes, annotation, train split, val split), from PYSKL's files
FOLDERS = {
    'slowonly_r50_ntu60_xsub': ('slowonly', 60, 'data/nturgbd/ntu60_hrnet.pkl', 'xsub_train', 'xsub_val'),
    'slowonly_r50_ntu60_xview': ('slowonly', 60, 'data/nturgbd/ntu60_hrnet.pkl', 'xview_train', 'xview_val'),
    'slowonly_r50_ntu120_xsub': ('slowonly', 120, 'data/nturgbd/ntu120_hrnet.pkl', 'xsub_train', 'xsub_val'),
    'slowonly_r50_ntu120_xset': ('slowonly', 120, 'data/nturgbd/ntu120_hrnet.pkl', 'xset_train', 'xset_val'),
    'slowonly_r50_gym': ('slowonly', 99, 'data/gym/gym_hrnet.pkl', 'train', 'val'),
    'slowonly_r50_346_k400': ('slowonly346', 400, 'data/k400/k400_hrnet.pkl', 'train', 'val'),
    'slowonly_r50_463_k400': ('slowonly', 400, 'data/k400/k400_hrnet.pkl', 'train', 'val'),
    'slowonly_r50_diving48': ('slowonly', 48, 'data/diving48/diving48_hrnet.pkl', 'train', 'test'),
    'slowonly_r50_ucf101_k400p': ('slowonly346', 101, 'data/ucf101/ucf101_hrnet.pkl', 'train1', 'test1'),
    'slowonly_r50_hmdb51_k400p': ('slowonly346', 51, 'data/hmdb51/hmdb51_hrnet.pkl', 'train1', 'test1'),
    'c3d_light_ntu60_xsub': ('c3d', 60, 'data/nturgbd/ntu60_hrnet.pkl', 'xsub_train', 'xsub_val'),
    'c3d_light_gym': ('c3d', 99, 'data/gym/gym_hrnet.pkl', 'train', 'val'),
    'x3d_shallow_ntu60_xsub': ('x3d', 60, 'data/nturgbd/ntu60_hrnet.pkl', 'xsub_train', 'xsub_val'),
    'x3d_shallow_gym': ('x3d', 99, 'data/gym/gym_hrnet.pkl', 'train', 'val'),
}
SINGLE_STREAM = {'slowonly_r50_diving48': 'joint', 'slowonly_r50_ucf101_k400p': 's1_joint',
                 'slowonly_r50_hmdb51_k400p': 's1_joint'}
TOP1 = {  # PYSKL's README (FineGYM: mean class accuracy)
    'slowonly_r50_ntu60_xsub': (93.7, 93.4), 'slowonly_r50_ntu60_xview': (96.5, 96.0),
    'slowonly_r50_ntu120_xsub': (85.9, 85.9), 'slowonly_r50_ntu120_xset': (89.7, 89.7),
    'slowonly_r50_gym': (93.8, 93.8), 'slowonly_r50_346_k400': (47.3, 46.9), 'slowonly_r50_463_k400': (46.6, 45.7),
    'slowonly_r50_diving48': (54.5, ), 'slowonly_r50_ucf101_k400p': (86.9, ), 'slowonly_r50_hmdb51_k400p': (69.4, ),
    'c3d_light_ntu60_xsub': (92.7, 92.6), 'c3d_light_gym': (91.8, 91.2), 'x3d_shallow_ntu60_xsub': (92.1, 91.6),
    'x3d_shallow_gym': (91.4, 90.0),
}
SLOWONLY = dict(type='ResNet3dSlowOnly', in_channels=17, base_channels=32, num_stages=3, out_indices=(2, ),
                stage_blocks=(4, 6, 3), conv1_stride=(1, 1), pool1_stride=(1, 1), inflate=(0, 1, 1),
                spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 2))
BACKBONES = {  # backbone dict, I3DHead in_channels
    'slowonly': (SLOWONLY, 512),
    'slowonly346': (dict(SLOWONLY, stage_blocks=(3, 4, 6)), 512),
    'c3d': (dict(type='C3D', in_channels=17, base_channels=32, num_stages=3, temporal_downsample=False), 256),
    'x3d': (dict(type='X3D', gamma_d=1, in_channels=17, base_channels=24, num_stages=3, se_ratio=None, use_swish=False,
                 stage_blocks=(2, 5, 3), spatial_strides=(2, 2, 2)), 216),
}
LEFT_KP, RIGHT_KP = [1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]
SKELETONS = [[0, 5], [0, 6], [5, 7], [7, 9], [6, 8], [8, 10], [5, 11], [11, 13], [13, 15], [6, 12], [12, 14],
             [14, 16], [0, 1], [0, 2], [1, 3], [2, 4], [11, 12]]
LEFT_LIMB, RIGHT_LIMB = [0, 2, 3, 6, 7, 8, 12, 14], [1, 4, 5, 9, 10, 11, 13, 15]
# Parameter counts of PYSKL's NTU60 XSub joint models, head included (facts §4).
PARAM_COUNTS = {'posec3d/slowonly_r50_ntu60_xsub/joint.py': 2_024_860,
                'posec3d/c3d_light_ntu60_xsub/joint.py': 3_404_892,
                'posec3d/x3d_shallow_ntu60_xsub/joint.py': 254_508}


pytestmark = pytest.mark.usefixtures('one_thread')


def describe(rel):
    _, folder, name = rel.split('/')
    backbone, num_classes, ann_file, train_split, val_split = FOLDERS[folder]
    return dict(folder=folder, stream=name[:-3], backbone=backbone, num_classes=num_classes, ann_file=ann_file,
                train_split=train_split, val_split=val_split, k400=folder.endswith('_k400'),
                finetuned=folder.endswith('_k400p'))


# ---------------------------------------------------------------------------------------------------------------
# PYSKL's values, restated from its files

def pyskl_model(info):
    backbone, in_channels = BACKBONES[info['backbone']]
    return dict(type='Recognizer3D', backbone=backbone,
                cls_head=dict(type='I3DHead', in_channels=in_channels, num_classes=info['num_classes'], dropout=0.5),
                test_cfg=dict(average_clips='prob'))


def pyskl_pipeline(info, phase):
    """PYSKL's pipeline without Collect / ToTensor; the two NTU-120 "joint" files' limb heatmaps corrected."""
    small = info['finetuned']  # UCF101 / HMDB51: 48x48 training crops, 56x56 testing
    limb = info['stream'] == 'limb'
    heatmaps = (dict(type='GeneratePoseTarget', with_kp=False, with_limb=True, skeletons=SKELETONS) if limb else
                dict(type='GeneratePoseTarget', with_kp=True, with_limb=False))
    steps = [dict(type='DecompressPose', squeeze=True)] if info['k400'] else []
    if phase == 'train':
        steps += [dict(type='UniformSampleFrames', clip_len=48), dict(type='PoseDecode'),
                  dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True), dict(type='Resize', scale=(-1, 64)),
                  dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
                  dict(type='Resize', scale=(48, 48) if small else (56, 56), keep_ratio=False),
                  dict(type='Flip', flip_ratio=0.5, left_kp=LEFT_KP, right_kp=RIGHT_KP), heatmaps]
    else:
        steps += [dict(type='UniformSampleFrames', clip_len=48, num_clips=1 if phase == 'val' else 10),
                  dict(type='PoseDecode'), dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
                  dict(type='Resize', scale=(56, 56) if small else (64, 64), keep_ratio=False)]
        if phase == 'test':
            heatmaps = dict(heatmaps, double=True, left_kp=LEFT_KP, right_kp=RIGHT_KP)
            if limb:
                heatmaps.update(left_limb=LEFT_LIMB, right_limb=RIGHT_LIMB)
        steps.append(heatmaps)
    return steps + [dict(type='FormatShape', input_format='NCTHW_Heatmap')]


# ---------------------------------------------------------------------------------------------------------------
# The tree and the generator

def expected_tree():
    return {f'posec3d/{folder}/{stream}.py' for folder in FOLDERS
            for stream in ((SINGLE_STREAM[folder], ) if folder in SINGLE_STREAM else ('joint', 'limb'))}


def test_tree_is_pyskls_posec3d_tree():
    assert len(POSEC3D_CONFIGS) == 25
    assert set(POSEC3D_CONFIGS) == expected_tree()


def test_generator_wrote_every_file_and_is_deterministic():
    generator = load_generator('posec3d')
    first, second = generator.render_all(), generator.render_all()
    assert first == second and set(first) == expected_tree()
    assert generator.differences(CONFIG_DIR) == [], 'run: python tools/misc/generate_posec3d_configs.py'


def test_generator_check_reports_a_hand_edit(tmp_path):
    generator = load_generator('posec3d')
    assert generator.main(['--out-dir', str(tmp_path)]) == 0
    assert generator.main(['--out-dir', str(tmp_path), '--check']) == 0
    edited = tmp_path / 'posec3d' / 'c3d_light_gym' / 'limb.py'
    edited.write_text(edited.read_text().replace('lr=0.4', 'lr=0.2'))
    (tmp_path / 'posec3d' / 'x3d_shallow_gym' / 'joint.py').unlink()
    assert generator.differences(tmp_path) == [('posec3d/c3d_light_gym/limb.py', 'differs'),
                                               ('posec3d/x3d_shallow_gym/joint.py', 'missing')]
    assert generator.main(['--out-dir', str(tmp_path), '--check']) == 1


# ---------------------------------------------------------------------------------------------------------------
# Each file against PYSKL's values

@pytest.mark.parametrize('rel', POSEC3D_CONFIGS)
def test_model_dict_is_pyskls(rel):
    assert as_plain(load_config(rel).model) == as_plain(pyskl_model(describe(rel)))


@pytest.mark.parametrize('rel', POSEC3D_CONFIGS)
def test_pipelines_are_pyskls(rel):
    info = describe(rel)
    for phase, steps in pipelines(load_config(rel)).items():
        assert steps[-1] == dict(type='PackActionInputs'), phase
        assert as_plain(steps[:-1]) == as_plain(pyskl_pipeline(info, phase)), phase


@pytest.mark.parametrize('rel', POSEC3D_CONFIGS)
def test_header_and_comments(rel):
    info, text = describe(rel), (CONFIG_DIR / rel).read_text()
    header = text.splitlines()[:2]
    heatmaps = 'limb heatmaps' if info['stream'] == 'limb' else 'joint heatmaps'
    assert header[0].startswith('# PoseC3D ') and header[0].endswith(f'| {heatmaps}.'), header[0]
    top1 = TOP1[info['folder']][info['stream'] == 'limb']
    metric = 'mean class top-1' if info['folder'].endswith('_gym') else 'top-1'
    assert re.fullmatch(rf'# PYSKL: configs/{re.escape(rel)} \({metric} {top1} with 10 clips x 2 flips at test '
                        r'time\)\.', header[1]), header[1]
    assert 'Set deferred=True in every GeneratePoseTarget' in text
    assert "render the heatmaps on the model's device in the data preprocessor" in text
    assert load_config(rel).default_scope == 'pyskl'


@pytest.mark.parametrize('rel', ['posec3d/slowonly_r50_ntu120_xsub/joint.py',
                                 'posec3d/slowonly_r50_ntu120_xset/joint.py'])
def test_ntu120_joint_files_render_joint_heatmaps(rel):
    """PYSKL's two NTU-120 "joint" files render limb heatmaps with the default skeleton; ours render joints and say
    so."""
    for phase, steps in pipelines(load_config(rel)).items():
        target = next(s for s in steps if s['type'] == 'GeneratePoseTarget')
        assert target['with_kp'] and not target['with_limb'] and 'skeletons' not in target, phase
    assert 'trains this "joint" model on limb heatmaps' in (CONFIG_DIR / rel).read_text()


@pytest.mark.parametrize('rel', POSEC3D_CONFIGS)
def test_recipe_is_pyskls(rel):
    info, cfg = describe(rel), load_config(rel)
    finetuned, k400 = info['finetuned'], info['k400']
    batch, workers, epochs = (16 if finetuned else 32), (8 if k400 else 4), (12 if finetuned else 24)
    class_prob = info['folder'] == 'slowonly_r50_ntu120_xsub'
    for phase in ('train', 'val', 'test'):
        loader = cfg[f'{phase}_dataloader']
        assert (loader.batch_size, loader.num_workers) == (1 if phase == 'test' else batch, workers), phase
        if phase == 'train' and class_prob:
            assert loader.sampler == dict(type='ClassSpecificDistributedSampler')
        else:
            assert loader.sampler == dict(type='DefaultSampler', shuffle=phase == 'train'), phase
        dataset = inner_dataset(loader)
        expected = dict(type='PoseDataset', ann_file=info['ann_file'], pipeline=dataset.pipeline,
                        split=info['train_split'] if phase == 'train' else info['val_split'])
        if k400:  # PYSKL's K400 arguments; memcached / mc_cfg are accepted and ignored by PoseDataset
            expected.update(box_thr=0.5, memcached=True, mc_cfg=('localhost', 22077))
            if phase == 'train':
                expected['valid_ratio'] = 0.0
        if phase == 'train' and class_prob:
            expected['class_prob'] = [1] * 60 + [2] * 60
        if phase != 'train':
            expected['test_mode'] = True
        assert as_plain(dataset) == as_plain(expected), phase
    assert cfg.train_dataloader.dataset.type == 'RepeatDataset' and cfg.train_dataloader.dataset.times == 10

    assert cfg.train_cfg == dict(type='EpochBasedTrainLoop', max_epochs=epochs, val_interval=1)
    metrics = dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])
    assert cfg.val_evaluator == metrics and cfg.test_evaluator == metrics
    weight_decay = 0.0003
    if k400 or info['folder'] in ('slowonly_r50_diving48', 'slowonly_r50_hmdb51_k400p'):
        weight_decay = 0.0001
    assert cfg.optim_wrapper == dict(
        optimizer=dict(type='SGD', lr=0.01 if finetuned else 0.4, momentum=0.9, weight_decay=weight_decay),
        clip_grad=dict(max_norm=40, norm_type=2))
    if finetuned:
        assert cfg.param_scheduler == [dict(type='MultiStepLR', milestones=[9, 11], gamma=0.1, by_epoch=True)]
        assert cfg.load_from == 'https://download.openmmlab.com/mmaction/skeleton/posec3d/k400_posec3d-041f49c6.pth'
        assert cfg.find_unused_parameters is True
    else:
        assert cfg.param_scheduler == [dict(type='CosineAnnealingLR', T_max=24, eta_min=0, by_epoch=True,
                                            convert_to_iter_based=True)]
        assert 'load_from' not in cfg and 'find_unused_parameters' not in cfg
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=8 * batch)
    assert cfg.default_hooks.checkpoint.interval == 1 and cfg.default_hooks.checkpoint.save_best == 'auto'
    assert cfg.default_hooks.logger.interval == 20
    assert cfg.work_dir == f"./work_dirs/{rel[:-3]}"


# ---------------------------------------------------------------------------------------------------------------
# Agreement with PYSKL's own configs (the reference cases name the config they were made from)

def reference_cases(prefix):
    if not PYSKL_REF.exists():
        return ['(../shared absent)']
    return sorted(p.stem for p in PYSKL_REF.glob(f'{prefix}*.pt'))


def our_config_for(case):
    rel = case['pyskl_config'].removeprefix('configs/')
    assert rel in expected_tree(), rel
    return load_config(rel)


@pytest.mark.parametrize('name', reference_cases('dev_pipe_posec3d_'))
def test_test_pipeline_equals_pyskls(name):
    """The recorded test pipeline is PYSKL's shipped one with ``pipeline_override`` (shorter clips) applied."""
    case = load_ref(name)
    ours = [dict(s) for s in our_config_for(case).test_pipeline if s['type'] != 'PackActionInputs']
    ours[0].update(case['pipeline_override'])
    pyskls = [s for s in case['pipeline_cfg'] if s['type'] not in ('Collect', 'ToTensor')]
    assert as_plain(ours) == as_plain(pyskls)


@pytest.mark.parametrize('name', reference_cases('dev_posec3d_'))
def test_model_dict_equals_pyskls(name):
    """The recorded model is PYSKL's shipped one shrunk by ``model_override`` (and a 10-class head)."""
    case = load_ref(name)
    ours, pyskls = our_config_for(case).model, case['model_cfg']
    override = case['model_override']
    assert as_plain({k: v for k, v in ours.backbone.items() if k not in override}) == \
        as_plain({k: v for k, v in pyskls['backbone'].items() if k not in override})
    assert (ours.type, ours.cls_head.type, ours.cls_head.dropout) == \
        (pyskls['type'], pyskls['cls_head']['type'], pyskls['cls_head']['dropout'])
    assert as_plain(ours.test_cfg) == as_plain(pyskls['test_cfg'])


@pytest.mark.parametrize('name', reference_cases('dev_pipe_posec3d_'))
def test_test_pipeline_reproduces_pyskls_heatmaps(name):
    case = load_ref(name)
    steps = [dict(s) for s in our_config_for(case).test_pipeline]
    steps[0].update(case['pipeline_override'])
    sample = {k: v.numpy() if torch.is_tensor(v) else v for k, v in case['input_annotation'].items()}
    sample.update(case['dataset_added_keys'], sample_idx=0)
    packed = Compose(steps)(sample)
    expected = case['outputs']['imgs']
    assert tuple(packed['inputs'].shape) == tuple(expected.shape)
    assert np.abs(packed['inputs'].numpy() - expected.numpy()).max() <= 1e-4


# ---------------------------------------------------------------------------------------------------------------
# What the files build (needs the 3D models and the heatmap transforms)

def test_every_type_is_registered():
    missing = set()
    for rel in POSEC3D_CONFIGS:
        cfg = load_config(rel)
        steps = [s for pipeline in pipelines(cfg).values() for s in pipeline]
        missing |= {f'transform {s["type"]}' for s in steps if TRANSFORMS.get(s['type']) is None}
        parts = (cfg.model.type, cfg.model.backbone.type, cfg.model.cls_head.type)
        missing |= {f'model {t}' for t in parts if MODELS.get(t) is None}
        missing |= {f'metric {t}' for t in (cfg.val_evaluator.type, cfg.test_evaluator.type) if METRICS.get(t) is None}
        missing |= {f'sampler {t}' for t in [cfg.train_dataloader.sampler.type] if DATA_SAMPLERS.get(t) is None}
        missing |= {f'dataset {t}' for t in ['PoseDataset'] if DATASETS.get(t) is None}
    assert sorted(missing) == []


@pytest.mark.parametrize('rel', POSEC3D_CONFIGS)
def test_model_builds(rel):
    model = MODELS.build(load_config(rel).model)
    assert model.cls_head.fc_cls.out_features == describe(rel)['num_classes']
    if rel in PARAM_COUNTS:
        assert sum(p.numel() for p in model.parameters()) == PARAM_COUNTS[rel]


@pytest.mark.parametrize('rel', POSEC3D_CONFIGS)
def test_pipelines_build(rel):
    for phase, steps in pipelines(load_config(rel)).items():
        assert len(Compose(steps).transforms) == len(steps), phase


@pytest.fixture(scope='module')
def synthetic_sample():
    from pyskl.datasets.synthetic import make_synthetic_dataset
    return make_synthetic_dataset('coco2d', num_train=1, num_val=0, seed=3)['annotations'][0]


@pytest.mark.parametrize('rel', ['posec3d/slowonly_r50_ntu60_xsub/joint.py', 'posec3d/c3d_light_gym/limb.py',
                                 'posec3d/slowonly_r50_ucf101_k400p/s1_joint.py',
                                 'posec3d/slowonly_r50_463_k400/limb.py'])
def test_pipelines_turn_a_sample_into_heatmap_volumes(rel, synthetic_sample):
    """Train: one 48-frame clip of 17 heatmaps at the training crop; val: one clip at the test size; test: each clip
    and its flipped copy (1 clip here instead of 10, to stay small)."""
    from pyskl.datasets.synthetic import compress_annotation
    info = describe(rel)
    sample = compress_annotation(synthetic_sample) if info['k400'] else synthetic_sample
    train_size, test_size = (48, 56) if info['finetuned'] else (56, 64)
    expected = dict(train=(1, 17, 48, train_size, train_size), val=(1, 17, 48, test_size, test_size),
                    test=(2, 17, 48, test_size, test_size))
    for phase, steps in pipelines(load_config(rel)).items():
        steps = [dict(s, num_clips=1) if s['type'] == 'UniformSampleFrames' and phase == 'test' else s for s in steps]
        results = dict(sample, modality='Pose', start_index=0, test_mode=phase != 'train', sample_idx=0)
        packed = Compose(steps)(results)
        inputs = packed['inputs']
        assert tuple(inputs.shape) == expected[phase] and inputs.dtype == torch.float32, phase
        assert 0 <= float(inputs.min()) and 0.5 < float(inputs.max()) <= 1, phase
        assert int(packed['data_samples'].gt_label) == synthetic_sample['label']


# ---------------------------------------------------------------------------------------------------------------
# Schedules: PYSKL's mmcv policies, step by step

def lr_trajectory(cfg, iters_per_epoch):
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    scheduler_cfg = dict(cfg.param_scheduler[0])
    if scheduler_cfg.get('convert_to_iter_based'):
        scheduler_cfg['epoch_length'] = iters_per_epoch
    scheduler = PARAM_SCHEDULERS.build(scheduler_cfg, default_args=dict(optimizer=wrapper))
    lrs = []
    steps = cfg.train_cfg.max_epochs * (iters_per_epoch if scheduler_cfg.get('convert_to_iter_based') else 1)
    for _ in range(steps):
        lrs.append(wrapper.get_lr()['lr'][0])
        scheduler.step()
    return lrs


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step\\(\\)` before')
def test_cosine_schedule_is_pyskls_per_iteration_cosine():
    """mmcv ``CosineAnnealing(min_lr=0, by_epoch=False)``: lr_i = 0.2 * (1 + cos(pi * i / total_iters))."""
    cfg = load_config('posec3d/slowonly_r50_ntu60_xsub/joint.py')
    lrs = lr_trajectory(cfg, iters_per_epoch=3)
    total = len(lrs)
    assert total == 72
    assert lrs == pytest.approx([0.2 * (1 + math.cos(math.pi * i / total)) for i in range(total)], abs=1e-7)


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step\\(\\)` before')
@pytest.mark.parametrize('rel', ['posec3d/slowonly_r50_ucf101_k400p/s1_joint.py',
                                 'posec3d/slowonly_r50_hmdb51_k400p/s1_joint.py'])
def test_finetuning_schedule_steps_at_epochs_9_and_11(rel):
    lrs = lr_trajectory(load_config(rel), iters_per_epoch=1)
    assert lrs == pytest.approx([0.01] * 9 + [0.001] * 2 + [0.0001])


# ---------------------------------------------------------------------------------------------------------------
# NTU-120 cross-subject: class_prob through RepeatDataset, as the Runner builds the loader

def write_labelled_annotations(path, labels, split):
    annos = [dict(frame_dir=f'clip{i}', label=label, total_frames=2, keypoint=np.zeros((1, 2, 17, 2), np.float32))
             for i, label in enumerate(labels)]
    with open(path, 'wb') as f:
        pickle.dump(dict(split={split: [a['frame_dir'] for a in annos]}, annotations=annos), f)


def test_ntu120_xsub_loader_draws_classes_61_to_120_twice(tmp_path):
    from mmengine.runner import Runner
    labels = [0, 0, 5, 59, 60, 60, 61, 119]  # 4 samples of the first 60 classes, 4 of the last 60
    ann_file = tmp_path / 'ntu120.pkl'
    write_labelled_annotations(ann_file, labels, 'xsub_train')
    loader_cfg = copy.deepcopy(load_config('posec3d/slowonly_r50_ntu120_xsub/joint.py').train_dataloader)
    loader_cfg.dataset.dataset.update(ann_file=str(ann_file), pipeline=[])
    loader_cfg.update(num_workers=0, persistent_workers=False, batch_size=1, collate_fn=dict(type='pseudo_collate'))
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    assert type(loader.sampler).__name__ == 'ClassSpecificDistributedSampler'
    drawn = np.array([label for batch in loader for label in batch['label']])
    # RepeatDataset(times=10) multiplies every rate: the first 60 classes 10 copies, the last 60 classes 20.
    assert len(drawn) == 10 * 4 + 20 * 4
    counts = {label: int((drawn == label).sum()) for label in set(labels)}
    assert counts == {0: 20, 5: 10, 59: 10, 60: 40, 61: 20, 119: 20}
