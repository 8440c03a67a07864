"""Whole pipelines as configs write them: shapes and types of what reaches the model."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

from tests.conftest import REPO_ROOT

CONFIG = REPO_ROOT / 'configs' / 'stgcn++' / 'stgcn++_ntu60_xsub_3dkp' / 'j.py'


def ntu_sample(frames=75, test_mode=False):
    rng = np.random.default_rng(0)
    keypoint = (rng.normal(scale=0.3, size=(2, 1, 25, 3)) + [0, 0, 3] +
                np.cumsum(rng.normal(scale=0.01, size=(2, frames, 25, 3)), axis=1)).astype(np.float16)
    keypoint[1, frames // 2:] = 0  # the second person leaves
    return dict(frame_dir='S001C001P001R001A001', label=4, total_frames=frames, keypoint=keypoint,
                modality='Pose', start_index=0, test_mode=test_mode, sample_idx=0)


@pytest.mark.parametrize('stage, clips', [('train', 1), ('val', 1), ('test', 10)])
def test_stgcnpp_ntu60_3d_pipelines(stage, clips):
    pipeline = Compose(Config.fromfile(str(CONFIG))[f'{stage}_pipeline'])
    packed = pipeline(ntu_sample(test_mode=stage != 'train'))
    assert packed['inputs'].dtype == torch.float32 and tuple(packed['inputs'].shape) == (clips, 2, 100, 25, 3)
    assert packed['data_samples'].gt_label.tolist() == [4]
    assert packed['data_samples'].metainfo['frame_dir'] == 'S001C001P001R001A001'


def test_strong_augmentation_and_four_streams():
    pipeline = Compose([
        dict(type='PreNormalize3D'), dict(type='RandomScale', scale=0.1), dict(type='RandomRot'),
        dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j', 'b', 'jm', 'bm']),
        dict(type='UniformSample', clip_len=32), dict(type='PoseDecode'), dict(type='FormatGCNInput', num_person=2),
        dict(type='PackActionInputs')])
    inputs = pipeline(ntu_sample())['inputs']
    assert tuple(inputs.shape) == (1, 2, 32, 25, 12) and torch.isfinite(inputs).all()


def test_hrnet_2d_pipeline_with_flip():
    rng = np.random.default_rng(1)
    sample = dict(frame_dir='v', label=1, total_frames=40, img_shape=(1080, 1920), start_index=0, test_mode=False,
                  keypoint=(rng.random((1, 40, 17, 2)) * [1920, 1080]).astype(np.float16),
                  keypoint_score=rng.random((1, 40, 17)).astype(np.float16))
    pipeline = Compose([
        dict(type='Flip', flip_ratio=0.5, layout='coco'), dict(type='PreNormalize2D'),
        dict(type='GenSkeFeat', dataset='coco', feats=['jm']), dict(type='UniformSample', clip_len=16),
        dict(type='PoseDecode'), dict(type='FormatGCNInput', num_person=2), dict(type='PackActionInputs')])
    inputs = pipeline(sample)['inputs']
    assert tuple(inputs.shape) == (1, 2, 16, 17, 3)
    assert inputs[:, 0, ..., 2].min() >= 0  # the motion of a score channel is the mean score, not a difference
