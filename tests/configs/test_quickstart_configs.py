"""The quickstart configs (``configs/quickstart/``) on a few samples of the embedded datasets they name (the
RGBPose one on the dataset's rendered videos): every pipeline runs, the model takes its batches (loss and
prediction), and the PoseC3D one renders its heatmaps in the data preprocessor. (The full runs are the README's
commands.)"""
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from pyskl.datasets.synthetic import write_synthetic_dataset, write_synthetic_videos
from pyskl.registry import DATASETS, MODELS
from tests.conftest import REPO_ROOT

QUICKSTART = {
    'stgcn++_synthetic_ntu3d_j.py': 'ntu3d',
    'stgcn++_synthetic_ntu3d_b.py': 'ntu3d',
    'c3d_synthetic_coco2d_joint.py': 'coco2d',
    'rgbpose_conv3d_synthetic_coco2d.py': 'coco2d',  # with videos
}

pytestmark = pytest.mark.usefixtures('one_thread')


def test_every_quickstart_config_is_covered():
    assert {p.name for p in (REPO_ROOT / 'configs' / 'quickstart').glob('*.py')} == set(QUICKSTART)


@pytest.mark.parametrize('name', list(QUICKSTART))
def test_pipelines_and_model_take_the_embedded_data(name, tmp_path):
    cfg = Config.fromfile(REPO_ROOT / 'configs' / 'quickstart' / name)
    ann_file = tmp_path / f'{QUICKSTART[name]}.pkl'
    paths = dict(ann_file=str(ann_file), label_map=str(ann_file)[:-len('.pkl')] + '_label_map.txt')
    if 'data_prefix' in cfg.train_dataloader.dataset:  # the videos
        paths['data_prefix'] = str(tmp_path / 'videos')
        write_synthetic_videos(str(ann_file), paths['data_prefix'], num_train=4, num_val=2, seed=0)
    else:
        write_synthetic_dataset(str(ann_file), kind=QUICKSTART[name], num_train=4, num_val=2, seed=0)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = DATASETS.build(dict(cfg[loader].dataset, **paths))
        batch = model.data_preprocessor(pseudo_collate([dataset[0], dataset[1]]), loader == 'train_dataloader')
        if loader == 'train_dataloader':
            losses = [v for k, v in model(**batch, mode='loss').items() if 'loss' in k]  # RGBPose: one per stream
            assert losses and all(torch.isfinite(loss) for loss in losses)
        else:
            preds = model(**batch, mode='predict')
            assert len(preds) == 2 and preds[0].pred_score.shape == (cfg.model.cls_head.num_classes, )


def test_posec3d_quickstart_renders_heatmaps_in_the_preprocessor(tmp_path):
    cfg = Config.fromfile(REPO_ROOT / 'configs' / 'quickstart' / 'c3d_synthetic_coco2d_joint.py')
    ann_file = tmp_path / 'coco2d.pkl'
    write_synthetic_dataset(str(ann_file), kind='coco2d', num_train=2, num_val=1, seed=0)
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset, ann_file=str(ann_file), label_map=None))
    sample = dataset[0]
    assert sample['inputs'].shape[-1] == 3  # keypoints (x, y, value) go through the dataloader, not volumes
    volumes = MODELS.build(cfg.model).data_preprocessor(pseudo_collate([sample]))['inputs']
    assert volumes.shape == (1, 10, 17, 24, 32, 32) and volumes.max() > 0.5
