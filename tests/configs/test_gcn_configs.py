"""PYSKL's 208 GCN configs (``configs/<family>/<experiment>/<stream>.py``): the tree, what each file says, what it
builds, and agreement with PYSKL's own config values (each reference case in ../shared names its PYSKL config)."""
import math
import pickle
import re
from functools import lru_cache

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

from pyskl.registry import METRICS, MODELS, TRANSFORMS
from tests.conftest import PYSKL_REF, load_ref

from .helpers import CONFIG_DIR, as_plain, inner_dataset, load_config, load_generator, pipelines

FAMILY_COUNTS = {'stgcn': 48, 'stgcn++': 32, 'aagcn': 32, 'ctrgcn': 32, 'msg3d': 32, 'dgstgcn': 16, 'strong_aug': 16}
STREAMS = ('j', 'b', 'jm', 'bm')
STREAM_NAMES = {'j': 'joint', 'b': 'bone', 'jm': 'joint motion', 'bm': 'bone motion'}
DATASETS = ('ntu60_xsub', 'ntu60_xview', 'ntu120_xsub', 'ntu120_xset')
BACKBONES = {'stgcn': 'STGCN', 'stgcn++': 'STGCN', 'strong_aug': 'STGCN', 'aagcn': 'AAGCN', 'ctrgcn': 'CTRGCN',
             'msg3d': 'MSG3D', 'dgstgcn': 'DGSTGCN'}
GRAPH_MODES = {'stgcn': 'stgcn_spatial', 'msg3d': 'binary_adj', 'dgstgcn': 'random'}  # 'spatial' otherwise
# Parameter counts of PYSKL's NTU60 XSub 3D joint models, head included, buffers excluded (facts §4).
PARAM_COUNTS = {
    'stgcn/stgcn_pyskl_ntu60_xsub_3dkp/j.py': 3_098_832,
    'stgcn/stgcn_vanilla_ntu60_xsub_3dkp/j.py': 3_098_832,  # same network, other recipe
    'stgcn++/stgcn++_ntu60_xsub_3dkp/j.py': 1_403_144,
    'strong_aug/ntu60_xsub_3dkp/j.py': 1_403_144,  # ST-GCN++
    'aagcn/aagcn_pyskl_ntu60_xsub_3dkp/j.py': 3_781_668,
    'ctrgcn/ctrgcn_pyskl_ntu60_xsub_3dkp/j.py': 1_446_672,
    'msg3d/msg3d_pyskl_ntu60_xsub_3dkp/j.py': 3_194_595,
    'dgstgcn/ntu60_xsub_3dkp/j.py': 1_701_172,
}


def expected_tree():
    """PYSKL's GCN folders (facts §3), each with j/b/jm/bm."""
    grid = [f'{d}_{s}' for d in DATASETS for s in ('3dkp', 'hrnet')]
    folders = [f'stgcn/stgcn_pyskl_{g}' for g in grid]
    folders += [f'stgcn/stgcn_vanilla_{d}_{s}' for d in DATASETS[:2] for s in ('3dkp', 'hrnet')]
    folders += [f'stgcn++/stgcn++_{g}' for g in grid]
    folders += [f'{fam}/{fam}_pyskl_{g}' for fam in ('aagcn', 'ctrgcn', 'msg3d') for g in grid]
    folders += [f'{fam}/{d}_3dkp' for fam in ('dgstgcn', 'strong_aug') for d in DATASETS]
    return {f'{folder}/{stream}.py' for folder in folders for stream in STREAMS}


def configs_on_disk():
    return sorted(str(p.relative_to(CONFIG_DIR)) for fam in FAMILY_COUNTS for p in (CONFIG_DIR / fam).glob('*/*.py'))


GCN_CONFIGS = configs_on_disk()
FOLDERS = sorted({rel.rsplit('/', 1)[0] for rel in GCN_CONFIGS})

pytestmark = pytest.mark.usefixtures('one_thread')


def describe(rel):
    """What the path says: family, recipe, dataset, skeletons, stream."""
    family, folder, name = rel.split('/')
    recipe = 'stgcn_vanilla' if folder.startswith('stgcn_vanilla') else family
    dataset = next(d for d in DATASETS if f'{d}_' in folder)
    return dict(family=family, folder=folder, recipe=recipe, dataset=dataset,
                skeletons='hrnet' if folder.endswith('hrnet') else '3dkp', stream=name[:-3])


def step(pipeline, type_):
    found = [s for s in pipeline if s['type'] == type_]
    assert len(found) == 1, f'expected one {type_} step, found {len(found)}'
    return found[0]


# ---------------------------------------------------------------------------------------------------------------
# The tree and the generator

def test_tree_is_pyskls_gcn_tree():
    assert len(GCN_CONFIGS) == 208
    assert set(GCN_CONFIGS) == expected_tree()
    for family, count in FAMILY_COUNTS.items():
        assert sum(rel.startswith(f'{family}/') for rel in GCN_CONFIGS) == count, family


def test_generator_wrote_every_file_and_is_deterministic():
    generator = load_generator('gcn')
    first, second = generator.render_all(), generator.render_all()
    assert first == second
    assert set(first) == expected_tree()
    assert generator.differences(CONFIG_DIR) == [], 'run: python tools/misc/generate_gcn_configs.py'


def test_generator_check_reports_a_hand_edit(tmp_path):
    generator = load_generator('gcn')
    assert generator.main(['--out-dir', str(tmp_path)]) == 0
    assert generator.main(['--out-dir', str(tmp_path), '--check']) == 0
    edited = tmp_path / 'msg3d' / 'msg3d_pyskl_ntu60_xsub_3dkp' / 'b.py'
    edited.write_text(edited.read_text().replace('lr=0.1', 'lr=0.2'))
    assert generator.differences(tmp_path) == [('msg3d/msg3d_pyskl_ntu60_xsub_3dkp/b.py', 'differs')]
    assert generator.main(['--out-dir', str(tmp_path), '--check']) == 1


# ---------------------------------------------------------------------------------------------------------------
# Each file

@pytest.mark.parametrize('rel', GCN_CONFIGS)
def test_config_matches_its_folder(rel):
    info = describe(rel)
    cfg = load_config(rel)
    layout = 'coco' if info['skeletons'] == 'hrnet' else 'nturgb+d'
    num_classes = 120 if info['dataset'].startswith('ntu120') else 60
    split = info['dataset'].split('_')[1]

    assert cfg.default_scope == 'pyskl'
    assert cfg.model.type == 'RecognizerGCN'
    backbone, head = cfg.model.backbone, cfg.model.cls_head
    assert backbone.type == BACKBONES[info['family']]
    assert backbone.graph_cfg.layout == layout
    assert backbone.graph_cfg.mode == GRAPH_MODES.get(info['family'], 'spatial')
    assert head.type == 'GCNHead' and head.num_classes == num_classes
    assert head.in_channels == (384 if info['family'] == 'msg3d' else 256)

    ann = 'hrnet' if info['skeletons'] == 'hrnet' else '3danno'
    assert cfg.ann_file == f"data/nturgbd/{info['dataset'].split('_')[0]}_{ann}.pkl"
    for phase, pipeline in pipelines(cfg).items():
        dataset = inner_dataset(cfg[f'{phase}_dataloader'])
        assert dataset.type == 'PoseDataset' and dataset.ann_file == cfg.ann_file
        assert dataset.split == f"{split}_{'train' if phase == 'train' else 'val'}"
        assert dataset.get('test_mode', False) == (phase != 'train')
        assert pipeline[0]['type'] == ('PreNormalize2D' if info['skeletons'] == 'hrnet' else 'PreNormalize3D')
        features = step(pipeline, 'GenSkeFeat')
        assert features.get('dataset', 'nturgb+d') == layout and features['feats'] == [info['stream']]
        assert pipeline[-1] == dict(type='PackActionInputs')
        assert not {'Collect', 'ToTensor'} & {s['type'] for s in pipeline}
    assert cfg.work_dir == f"./work_dirs/{info['family']}/{info['folder']}/{info['stream']}"

    header = (CONFIG_DIR / rel).read_text().splitlines()[:2]
    assert header[0].startswith('# ') and header[0].endswith(f"| {STREAM_NAMES[info['stream']]} stream."), header[0]
    assert re.fullmatch(rf'# PYSKL: configs/{re.escape(rel)} \(top-1 \d\d\.\d .+\)\.', header[1]), header[1]


@pytest.mark.parametrize('rel', GCN_CONFIGS)
def test_config_follows_its_recipe(rel):
    info, cfg = describe(rel), load_config(rel)
    recipe = info['recipe']
    workers = 4 if recipe == 'dgstgcn' else 2
    for phase, batch in (('train', 16), ('val', 16), ('test', 1)):
        loader = cfg[f'{phase}_dataloader']
        assert (loader.batch_size, loader.num_workers) == (batch, workers), phase
        assert loader.sampler == dict(type='DefaultSampler', shuffle=phase == 'train')
    train_set = cfg.train_dataloader.dataset
    assert (train_set.type == 'RepeatDataset') == (recipe != 'dgstgcn')
    if recipe != 'dgstgcn':
        assert train_set.times == 5

    epochs = dict(dgstgcn=150, strong_aug=24).get(recipe, 16)
    assert cfg.train_cfg == dict(type='EpochBasedTrainLoop', max_epochs=epochs, val_interval=1)
    assert cfg.val_evaluator == dict(type='AccMetric', metric_list=['top_k_accuracy'])
    assert cfg.test_evaluator == dict(type='AccMetric', metric_list=['top_k_accuracy', 'mean_class_accuracy'])
    assert cfg.default_hooks.checkpoint.interval == 1 and cfg.default_hooks.checkpoint.save_best == 'auto'
    assert cfg.default_hooks.logger.interval == 100
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=64 if recipe == 'dgstgcn' else 128)

    optimizer, (scheduler,) = cfg.optim_wrapper.optimizer, cfg.param_scheduler
    if recipe == 'stgcn_vanilla':
        assert optimizer == dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0001)
        assert scheduler == dict(type='MultiStepLR', milestones=[2, 10], gamma=0.1, by_epoch=True)
        assert cfg.model.backbone.tcn_dropout == 0.5
    else:
        assert optimizer == dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True)
        assert scheduler == dict(type='CosineAnnealingLR', T_max=epochs, eta_min=0, by_epoch=True,
                                 convert_to_iter_based=True)
        assert 'tcn_dropout' not in cfg.model.backbone


@pytest.mark.parametrize('rel', GCN_CONFIGS)
def test_pipelines_follow_the_recipe(rel):
    info, cfg = describe(rel), load_config(rel)
    recipe, phases = info['recipe'], pipelines(cfg)
    if recipe == 'stgcn_vanilla':  # one pipeline: the whole sequence zero-padded to 300 frames
        assert phases['train'] == phases['val'] == phases['test']
        assert step(phases['test'], 'PadTo') == dict(type='PadTo', length=300, mode='zero')
        assert not any('Sample' in s['type'] for s in phases['test'])
        return
    sampler = 'UniformSampleDecode' if recipe == 'dgstgcn' else 'UniformSample'
    assert step(phases['train'], sampler) == dict(type=sampler, clip_len=100)
    assert step(phases['val'], sampler) == dict(type=sampler, clip_len=100, num_clips=1)
    assert step(phases['test'], sampler) == dict(type=sampler, clip_len=100, num_clips=10)

    random_steps = [s for s in phases['train'] if s['type'].startswith('Random')]
    if recipe == 'strong_aug':
        assert phases['train'][1:3] == [dict(type='RandomScale', scale=0.1), dict(type='RandomRot')]
    elif recipe == 'dgstgcn':
        xview = info['dataset'] == 'ntu60_xview'
        assert random_steps == [dict(type='RandomRot', theta=0.3 if xview else 0.2)]
        for pipeline in phases.values():
            assert pipeline[0] == (dict(type='PreNormalize3D') if xview else
                                   dict(type='PreNormalize3D', align_spine=False))
    else:
        assert random_steps == []
    for phase in ('val', 'test'):
        assert not any(s['type'].startswith('Random') for s in phases[phase]), phase


@pytest.mark.parametrize('folder', FOLDERS)
def test_stream_files_differ_only_in_feats_and_work_dir(folder):
    def normalised(stream):
        text = (CONFIG_DIR / folder / f'{stream}.py').read_text().split('\n', 2)[2]  # past the 2-line header
        text = text.replace(f"feats=['{stream}']", 'feats=[STREAM]')
        return text.replace(f"work_dir = './work_dirs/{folder}/{stream}'", 'work_dir = WORK_DIR')

    joint = normalised('j')
    assert 'feats=[STREAM]' in joint and 'work_dir = WORK_DIR' in joint
    for stream in STREAMS[1:]:
        assert normalised(stream) == joint, stream
        assert load_config(f'{folder}/{stream}.py').model == load_config(f'{folder}/j.py').model


# ---------------------------------------------------------------------------------------------------------------
# Registered types

def test_every_type_is_registered():
    """Pipeline steps in TRANSFORMS, model parts in MODELS, evaluators in METRICS (with pyskl's scope)."""
    missing = set()
    for rel in GCN_CONFIGS:
        cfg = load_config(rel)
        steps = [s for pipeline in pipelines(cfg).values() for s in pipeline]
        missing |= {f'transform {s["type"]}' for s in steps if TRANSFORMS.get(s['type']) is None}
        parts = (cfg.model.type, cfg.model.backbone.type, cfg.model.cls_head.type)
        missing |= {f'model {t}' for t in parts if MODELS.get(t) is None}
        metrics = (cfg.val_evaluator.type, cfg.test_evaluator.type)
        missing |= {f'metric {t}' for t in metrics if METRICS.get(t) is None}
    assert sorted(missing) == []


@pytest.mark.parametrize('rel', sorted(PARAM_COUNTS))
def test_model_builds_with_pyskls_parameter_count(rel):
    model = MODELS.build(load_config(rel).model)
    assert sum(p.numel() for p in model.parameters()) == PARAM_COUNTS[rel]


# ---------------------------------------------------------------------------------------------------------------
# Schedules: PYSKL's mmcv policies, step by step

@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step\\(\\)` before')
@pytest.mark.parametrize('rel', ['stgcn++/stgcn++_ntu60_xsub_3dkp/j.py', 'strong_aug/ntu60_xsub_3dkp/j.py',
                                 'dgstgcn/ntu60_xsub_3dkp/j.py'])
def test_cosine_schedule_is_pyskls_per_iteration_cosine(rel):
    """mmcv ``CosineAnnealing(min_lr=0, by_epoch=False)``: lr_i = 0.05 * (1 + cos(pi * i / total_iters))."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS
    cfg, iters_per_epoch = load_config(rel), 3
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    scheduler = PARAM_SCHEDULERS.build(dict(cfg.param_scheduler[0], epoch_length=iters_per_epoch),
                                       default_args=dict(optimizer=wrapper))
    total = cfg.train_cfg.max_epochs * iters_per_epoch
    for i in range(total):
        expected = 0.05 * (1 + math.cos(math.pi * i / total))
        assert wrapper.get_lr()['lr'][0] == pytest.approx(expected, abs=1e-7), i
        scheduler.step()


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step\\(\\)` before')
def test_vanilla_schedule_steps_at_epochs_2_and_10():
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS
    cfg = load_config('stgcn/stgcn_vanilla_ntu60_xsub_3dkp/j.py')
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    scheduler = PARAM_SCHEDULERS.build(cfg.param_scheduler[0], default_args=dict(optimizer=wrapper))
    for epoch in range(cfg.train_cfg.max_epochs):
        expected = 0.1 if epoch < 2 else 0.01 if epoch < 10 else 0.001
        assert wrapper.get_lr()['lr'][0] == pytest.approx(expected), epoch
        scheduler.step()


# ---------------------------------------------------------------------------------------------------------------
# Agreement with PYSKL's own configs (the reference cases name the config they were made from)

@lru_cache(maxsize=None)
def reference_configs():
    """``{case name: (kind, PYSKL config path)}`` of every reference case (empty when ../shared is absent)."""
    found = {}
    for path in sorted(PYSKL_REF.glob('dev_*.pt')):
        case = torch.load(path, map_location='cpu', weights_only=True)
        found[path.stem] = (case.get('kind'), case.get('pyskl_config', ''))
    return found


def reference_cases(kind):
    """The reference cases of ``kind`` made from a config of this tree; a placeholder that skips (through
    ``load_ref``) when ../shared is absent."""
    if not PYSKL_REF.exists():
        return ['(../shared absent)']
    tree = expected_tree()
    return [name for name, (k, config) in reference_configs().items()
            if k == kind and config.removeprefix('configs/') in tree]


def our_config_for(case):
    rel = case['pyskl_config'].removeprefix('configs/')
    return load_config(rel)


@pytest.mark.parametrize('name', reference_cases('gcn'))
def test_backbone_dict_equals_pyskls(name):
    case = load_ref(name)
    pyskl_backbone = {k: v for k, v in case['model_cfg']['backbone'].items() if k not in case['model_override']}
    model = our_config_for(case).model
    assert as_plain(model.backbone) == as_plain(pyskl_backbone)
    assert model.type == case['model_cfg']['type'] and model.cls_head.type == case['model_cfg']['cls_head']['type']


@pytest.mark.parametrize('name', reference_cases('pipeline'))
def test_test_pipeline_equals_pyskls(name):
    case = load_ref(name)
    assert case['pipeline_override'] is None
    ours = [s for s in our_config_for(case).test_pipeline if s['type'] != 'PackActionInputs']
    pyskls = [s for s in case['pipeline_cfg'] if s['type'] not in ('Collect', 'ToTensor')]
    assert as_plain(ours) == as_plain(pyskls)


@pytest.mark.parametrize('name', reference_cases('pipeline'))
def test_test_pipeline_reproduces_pyskls_output(name):
    case = load_ref(name)
    steps = our_config_for(case).test_pipeline
    sample = {k: v.numpy() if torch.is_tensor(v) else v for k, v in case['input_annotation'].items()}
    sample.update(case['dataset_added_keys'], sample_idx=0)
    packed = Compose(steps)(sample)
    expected = case['outputs']['keypoint']
    assert tuple(packed['inputs'].shape) == tuple(expected.shape)
    assert np.abs(packed['inputs'].numpy() - expected.numpy()).max() <= 1e-4
    assert int(packed['data_samples'].gt_label) == case['outputs']['label']


# ---------------------------------------------------------------------------------------------------------------
# A config runs under mmengine's Runner as written (only data location, sizes and epochs shrunk)

def write_tiny_ntu_annotations(path, num_per_split=3, num_frames=30):
    rng = np.random.default_rng(0)
    annos, split = [], {'xsub_train': [], 'xsub_val': []}
    for name in split:
        for i in range(num_per_split):
            frame_dir = f'S001C001P001R001A{i + 1:03d}_{name}'
            annos.append(dict(frame_dir=frame_dir, label=i, total_frames=num_frames,
                              keypoint=rng.normal(size=(2, num_frames, 25, 3)).astype(np.float32)))
            split[name].append(frame_dir)
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annos), f)


def shrunk_for_a_smoke_run(rel, tmp_path):
    """The config with tiny data, clips and network, no workers and one epoch; loops, hooks, evaluators, optimizer,
    scheduler, dataset wrappers and pipeline steps as written."""
    cfg = Config.fromfile(str(CONFIG_DIR / rel))
    ann_file = str(tmp_path / 'tiny.pkl')
    write_tiny_ntu_annotations(ann_file)
    for phase in ('train', 'val', 'test'):
        loader = cfg[f'{phase}_dataloader']
        loader.update(num_workers=0, persistent_workers=False, batch_size=min(loader.batch_size, 2))
        inner_dataset(loader).ann_file = ann_file
        for sampler in (s for s in inner_dataset(loader).pipeline if s['type'].startswith('UniformSample')):
            sampler.update(clip_len=8, num_clips=min(sampler.get('num_clips', 1), 2))
    cfg.model.backbone.update(base_channels=16, num_stages=2, inflate_stages=[2], down_stages=[2])
    cfg.model.cls_head.in_channels = 32
    if cfg.train_dataloader.dataset.type == 'RepeatDataset':
        cfg.train_dataloader.dataset.times = 1
    cfg.train_cfg.max_epochs = 1
    cfg.work_dir = str(tmp_path / 'work_dir')
    return cfg


@pytest.mark.filterwarnings('ignore::UserWarning')
@pytest.mark.parametrize('rel', ['stgcn++/stgcn++_ntu60_xsub_3dkp/j.py', 'dgstgcn/ntu60_xsub_3dkp/j.py'])
def test_config_trains_validates_and_tests_with_the_runner(rel, tmp_path):
    from mmengine.runner import Runner
    cfg = shrunk_for_a_smoke_run(rel, tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert 0 <= runner.message_hub.get_scalar('val/top1_acc').current() <= 100
    assert len(list((tmp_path / 'work_dir').glob('best_*.pth'))) == 1  # save_best='auto' found the val metric
    metrics = runner.test()
    assert set(metrics) >= {'top1_acc', 'top5_acc', 'mean_class_accuracy'}


@pytest.mark.parametrize('key', ['val_evaluator', 'test_evaluator'])
def test_evaluator_dicts_build_under_the_runner(key):
    """The Runner reads a dict with a ``metrics`` key as an ``Evaluator`` config: AccMetric's argument is
    ``metric_list`` so that the dict reaches METRICS."""
    from mmengine.runner import Runner
    evaluator_cfg = load_config('stgcn++/stgcn++_ntu60_xsub_3dkp/j.py')[key].to_dict()
    evaluator = Runner.build_evaluator(None, evaluator_cfg)  # no self
    assert [type(metric).__name__ for metric in evaluator.metrics] == ['AccMetric']
