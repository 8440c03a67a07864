"""``tools/visualize_heatmap.py`` draws one sample's heatmaps as a PNG grid or a video a person can watch."""
import cv2
import numpy as np
import pytest

from pyskl.datasets.synthetic import write_synthetic_dataset
from pyskl.visualization.heatmap import heatmap_frames

from .helpers import python_tool


@pytest.fixture(scope='module')
def coco2d(tmp_path_factory):
    path = tmp_path_factory.mktemp('coco2d') / 'coco2d.pkl'
    write_synthetic_dataset(str(path), kind='coco2d', num_train=2, num_val=1, seed=0)
    return path


def test_png_grid_and_video(coco2d, tmp_path):
    python_tool('visualize_heatmap.py', coco2d, '--index', 1, '--frames', 6, '--size', 32, '--scale', 2,
                '--out', tmp_path / 'kp.png')
    image = cv2.imread(str(tmp_path / 'kp.png'))
    assert image.shape == (64, 8 * 64, 3)  # one row of 8 columns (6 frames + 2 empty), 32 x 2 pixels each
    assert image[:, :6 * 64].max() > 200 and image[:, 6 * 64:].max() == 0  # drawn frames, then blank padding

    python_tool('visualize_heatmap.py', coco2d, '--index', 1, '--frames', 6, '--size', 32, '--limb',
                '--out', tmp_path / 'limb.mp4')
    video = cv2.VideoCapture(str(tmp_path / 'limb.mp4'))
    count = int(video.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, frame = video.read()
    assert ok and count == 6 and frame.shape == (128, 128, 3)


def test_colours_follow_the_strongest_channel():
    volume = np.zeros((1, 3, 2, 2), np.float32)
    volume[0, 1, 0, 0], volume[0, 2, 0, 0], volume[0, 0, 1, 1] = 0.5, 1.0, 1.0
    frame = heatmap_frames(volume, scale=1)[0]
    assert frame[0, 1].max() == 0  # no heat: black
    assert frame[0, 0].tolist() != frame[1, 1].tolist()  # channel 2 and channel 0 differ in colour
    assert frame[1, 1].max() == 255


def test_bad_index_is_one_clear_line(coco2d, tmp_path):
    proc = python_tool('visualize_heatmap.py', coco2d, '--index', 99, '--out', tmp_path / 'x.png', check=False)
    assert proc.returncode != 0 and 'out of range for 3 samples' in proc.stderr
    assert 'Traceback' not in proc.stderr and not (tmp_path / 'x.png').exists()
