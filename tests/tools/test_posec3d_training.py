"""Two training iterations of PoseC3D's real configs (``tools/train.py``), one per backbone family (SlowOnly, C3D,
X3D) and one on Kinetics-400's compressed format, on the synthetic coco2d dataset.

Only what a smoke run needs is overridden with ``--cfg-options``: the annotation file and split, the class count,
batch 2 without workers, 8-frame clips, 32x32 heatmaps, a narrower and shallower backbone (base_channels 8, one block
per stage) with its head, one epoch without RepeatDataset. 4 training samples at batch 2 make exactly 2 iterations.
The K400 run reads a table of contents + kpfiles through the memory-mapped keypoint store, with the config's
``memcached=True`` (no server runs). The ``deferred`` run switches GeneratePoseTarget to ``deferred=True`` as each
config's comment says, so the data preprocessor renders the heatmaps.
"""
import pytest
import torch
from mmengine.config import Config

from pyskl.datasets.synthetic import (SYNTHETIC_CLASSES, make_synthetic_dataset, write_compressed_dataset,
                                     write_synthetic_dataset)
from pyskl.registry import MODELS
from pyskl.utils import load_checkpoint

from .helpers import REPO, python_tool

FAMILY_CONFIGS = {
    'slowonly': 'configs/posec3d/slowonly_r50_ntu60_xsub/joint.py',
    'c3d': 'configs/posec3d/c3d_light_ntu60_xsub/limb.py',
    'x3d': 'configs/posec3d/x3d_shallow_ntu60_xsub/joint.py',
    'k400': 'configs/posec3d/slowonly_r50_346_k400/joint.py',
    'deferred': 'configs/posec3d/slowonly_r50_ntu60_xsub/limb.py',
}
NUM_TRAIN, BATCH, CLIP_LEN, SIZE = 4, 2, 8, 32
# backbone overrides -> I3DHead in_channels (base_channels 8: SlowOnly 8 x 16, C3D 8 x 8, X3D 8 x 9)
SMALL_BACKBONES = {'ResNet3dSlowOnly': (dict(base_channels=8, stage_blocks=(1, 1, 1)), 128),
                   'C3D': (dict(base_channels=8), 64),
                   'X3D': (dict(base_channels=8, stage_blocks=(1, 1, 1)), 72)}


@pytest.fixture(scope='module')
def synthetic_anns(tmp_path_factory):
    """The coco2d dataset as a plain annotation and as a K400 table of contents + kpfiles."""
    folder = tmp_path_factory.mktemp('synthetic')
    plain, toc = folder / 'coco2d.pkl', folder / 'k400' / 'coco2d_k400.pkl'
    write_synthetic_dataset(str(plain), kind='coco2d', num_train=NUM_TRAIN, num_val=2, seed=0)
    write_compressed_dataset(make_synthetic_dataset('coco2d', NUM_TRAIN, 2, seed=0), str(toc), num_kpfiles=2)
    return dict(plain=plain, k400=toc)


def smoke_options(config: Config, ann_file, deferred: bool = False) -> dict:
    """The ``--cfg-options`` of a 2-iteration run of ``config`` on ``ann_file``."""
    backbone, head_in = SMALL_BACKBONES[config.model.backbone.type]
    options = {'model.cls_head.num_classes': len(SYNTHETIC_CLASSES), 'model.cls_head.in_channels': head_in,
               'train_dataloader.batch_size': BATCH, 'train_dataloader.num_workers': 0,
               'train_dataloader.persistent_workers': False, 'train_dataloader.dataset.times': 1,
               'train_cfg.max_epochs': 1}
    options.update({f'model.backbone.{k}': v for k, v in backbone.items()})
    path = 'train_dataloader.dataset.dataset'
    options.update({f'{path}.ann_file': str(ann_file), f'{path}.split': 'train'})
    for i, transform in enumerate(config.train_dataloader.dataset.dataset.pipeline):
        if transform.type == 'UniformSampleFrames':
            options[f'{path}.pipeline.{i}.clip_len'] = CLIP_LEN
        if transform.type == 'Resize':
            options[f'{path}.pipeline.{i}.scale'] = (-1, SIZE) if transform.scale[0] == -1 else (SIZE, SIZE)
        if transform.type == 'GeneratePoseTarget' and deferred:
            options[f'{path}.pipeline.{i}.deferred'] = True
    return options


def render(value):
    """``--cfg-options`` text of a value (tuples without spaces, which the shell would split)."""
    return str(value).replace(' ', '')


def test_smoke_options_shrink_and_keep_the_rest():
    config = Config.fromfile(REPO / FAMILY_CONFIGS['k400'])
    config.merge_from_dict(smoke_options(config, 'toc.pkl'))
    dataset = config.train_dataloader.dataset
    assert dataset.times == 1 and dataset.dataset.ann_file == 'toc.pkl' and dataset.dataset.split == 'train'
    steps = dataset.dataset.pipeline
    assert [t.type for t in steps] == ['DecompressPose', 'UniformSampleFrames', 'PoseDecode', 'PoseCompact', 'Resize',
                                       'RandomResizedCrop', 'Resize', 'Flip', 'GeneratePoseTarget', 'FormatShape',
                                       'PackActionInputs']
    assert steps[1].clip_len == CLIP_LEN and steps[4].scale == (-1, SIZE) and steps[6].scale == (SIZE, SIZE)
    assert dataset.dataset.memcached is True and dataset.dataset.valid_ratio == 0.0
    assert config.model.backbone.stage_blocks == (1, 1, 1) and config.model.backbone.temporal_strides == (1, 1, 2)
    assert config.optim_wrapper.clip_grad == dict(max_norm=40, norm_type=2)
    assert 'deferred' not in steps[8]
    config.merge_from_dict(smoke_options(config, 'toc.pkl', deferred=True))
    assert config.train_dataloader.dataset.dataset.pipeline[8].deferred is True


@pytest.mark.parametrize('family', list(FAMILY_CONFIGS))
def test_two_training_iterations_of_the_real_config(family, synthetic_anns, tmp_path):
    config_file = REPO / FAMILY_CONFIGS[family]
    ann_file = synthetic_anns['k400' if family == 'k400' else 'plain']
    options = smoke_options(Config.fromfile(config_file), ann_file, deferred=family == 'deferred')
    work = tmp_path / 'work'
    proc = python_tool('train.py', config_file, '--work-dir', work, '--seed', 0, '--cfg-options',
                       *[f'{k}={render(v)}' for k, v in options.items()])
    log = proc.stdout + proc.stderr
    assert f'Epoch(train) [1][{NUM_TRAIN // BATCH}/{NUM_TRAIN // BATCH}]' in log, log[-3000:]
    assert 'loss: nan' not in log
    if family == 'k400':
        assert 'no server is needed' in log and (ann_file.parent / 'coco2d_k400.kpstore' / 'train.index.npz').exists()

    config = Config.fromfile(config_file)
    config.merge_from_dict(options)
    model = MODELS.build(config.model)
    checkpoint = load_checkpoint(model, str(work / 'epoch_1.pth'), strict=True)
    assert checkpoint['meta']['iter'] == NUM_TRAIN // BATCH
    assert model.cls_head.fc_cls.out_features == len(SYNTHETIC_CLASSES)
    assert all(torch.isfinite(p).all() for p in model.parameters())
