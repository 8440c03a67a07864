"""Two training iterations of each family's real config (``tools/train.py``) on the synthetic NTU-style dataset.

Only what a smoke run needs is overridden with ``--cfg-options``: the annotation file and split, the class count,
batch 2 without workers, a short clip (PadTo for vanilla ST-GCN: the synthetic maximum of 120 frames instead of
300), one epoch without RepeatDataset. 4 training samples at batch 2 make exactly 2 iterations.
"""
import pytest
import torch
from mmengine.config import Config

from pyskl.datasets.synthetic import MAX_FRAMES, SYNTHETIC_CLASSES, write_synthetic_dataset
from pyskl.registry import MODELS
from pyskl.utils import load_checkpoint

from .helpers import REPO, python_tool

FAMILY_CONFIGS = {
    'stgcn_pyskl': 'configs/stgcn/stgcn_pyskl_ntu60_xsub_3dkp/j.py',
    'stgcn_vanilla': 'configs/stgcn/stgcn_vanilla_ntu60_xsub_3dkp/j.py',
    'stgcn++': 'configs/stgcn++/stgcn++_ntu60_xsub_3dkp/j.py',
    'aagcn': 'configs/aagcn/aagcn_pyskl_ntu60_xsub_3dkp/j.py',
    'ctrgcn': 'configs/ctrgcn/ctrgcn_pyskl_ntu60_xsub_3dkp/j.py',
    'msg3d': 'configs/msg3d/msg3d_pyskl_ntu60_xsub_3dkp/j.py',
    'dgstgcn': 'configs/dgstgcn/ntu60_xsub_3dkp/j.py',
    'strong_aug': 'configs/strong_aug/ntu60_xsub_3dkp/j.py',
}
NUM_TRAIN, BATCH, CLIP_LEN = 4, 2, 12


@pytest.fixture(scope='module')
def synthetic_ann(tmp_path_factory):
    path = tmp_path_factory.mktemp('synthetic') / 'ntu3d.pkl'
    write_synthetic_dataset(str(path), kind='ntu3d', num_train=NUM_TRAIN, num_val=2, seed=0)
    return path


def smoke_options(config: Config, ann_file) -> dict:
    """The ``--cfg-options`` of a 2-iteration run of ``config`` on ``ann_file``."""
    options = {'model.cls_head.num_classes': len(SYNTHETIC_CLASSES), 'train_dataloader.batch_size': BATCH,
               'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
               'train_cfg.max_epochs': 1}
    path, dataset = 'train_dataloader.dataset', config.train_dataloader.dataset
    if dataset.type == 'RepeatDataset':
        options[f'{path}.times'] = 1
        path, dataset = f'{path}.dataset', dataset.dataset
    options[f'{path}.ann_file'] = str(ann_file)
    options[f'{path}.split'] = 'train'
    for i, transform in enumerate(dataset.pipeline):
        if 'clip_len' in transform:
            options[f'{path}.pipeline.{i}.clip_len'] = CLIP_LEN
        if transform.type == 'PadTo':
            options[f'{path}.pipeline.{i}.length'] = MAX_FRAMES
    return options


def test_smoke_options_shorten_the_clip_and_keep_the_rest():
    config = Config.fromfile(REPO / FAMILY_CONFIGS['stgcn++'])
    config.merge_from_dict(smoke_options(config, 'syn.pkl'))
    dataset = config.train_dataloader.dataset
    assert dataset.times == 1 and dataset.dataset.ann_file == 'syn.pkl' and dataset.dataset.split == 'train'
    assert [t.type for t in dataset.dataset.pipeline] == ['PreNormalize3D', 'GenSkeFeat', 'UniformSample',
                                                          'PoseDecode', 'FormatGCNInput', 'PackActionInputs']
    assert dataset.dataset.pipeline[2].clip_len == CLIP_LEN
    assert config.model.backbone.tcn_type == 'mstcn' and config.optim_wrapper.optimizer.lr == 0.1


@pytest.mark.parametrize('family', list(FAMILY_CONFIGS))
def test_two_training_iterations_of_the_real_config(family, synthetic_ann, tmp_path):
    config_file = REPO / FAMILY_CONFIGS[family]
    options = smoke_options(Config.fromfile(config_file), synthetic_ann)
    work = tmp_path / 'work'
    proc = python_tool('train.py', config_file, '--work-dir', work, '--seed', 0, '--cfg-options',
                       *[f'{k}={v}' for k, v in options.items()])
    log = proc.stdout + proc.stderr
    assert f'Epoch(train) [1][{NUM_TRAIN // BATCH}/{NUM_TRAIN // BATCH}]' in log, log[-3000:]
    assert 'loss: nan' not in log

    config = Config.fromfile(config_file)
    config.merge_from_dict(options)
    model = MODELS.build(config.model)
    checkpoint = load_checkpoint(model, str(work / 'epoch_1.pth'), strict=True)
    assert checkpoint['meta']['iter'] == NUM_TRAIN // BATCH
    assert model.cls_head.fc_cls.out_features == len(SYNTHETIC_CLASSES)
    assert all(torch.isfinite(p).all() for p in model.parameters())
