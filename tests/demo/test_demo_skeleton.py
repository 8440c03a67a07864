"""demo/demo_skeleton.py: a video -> MediaPipe skeletons -> a PoseC3D quickstart model -> the skeleton video with the
top classes. The model has random weights (the demo's job is the plumbing, not accuracy); the MediaPipe runs skip
without mediapipe, and the NTU sample without ../shared."""
import numpy as np
import pytest
import torch
from mmengine.config import Config

from pyskl.datasets.synthetic import SYNTHETIC_CLASSES
from pyskl.registry import MODELS
from tests.conftest import REPO_ROOT, load_script, read_video, shared_file
from tests.tools.spots import write_spots_video

QUICKSTART = REPO_ROOT / 'configs' / 'quickstart'
NEEDS_MEDIAPIPE = dict(reason='mediapipe is not installed (pip install -e ".[extract]")')

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def demo():
    return load_script('demo/demo_skeleton.py')


def quickstart_like(tmp_path, name: str, best: bool = True):
    """The quickstart config with its work dir in ``tmp_path``, holding a random-weights "best" checkpoint."""
    cfg = Config.fromfile(str(QUICKSTART / f'{name}.py'))
    cfg.work_dir = str(tmp_path / 'work')
    config = tmp_path / f'{name}.py'
    cfg.dump(str(config))
    checkpoint = tmp_path / 'work' / 'best_top1_acc_epoch_1.pth'
    if best:
        checkpoint.parent.mkdir()
        torch.manual_seed(0)
        torch.save(MODELS.build(cfg.model).state_dict(), checkpoint)
    labels = tmp_path / 'labels.txt'
    labels.write_text(''.join(f'{name}\n' for name in SYNTHETIC_CLASSES))
    return str(config), str(checkpoint), str(labels)


def test_the_ntu_sample_becomes_a_labelled_skeleton_video(demo, tmp_path, capsys):
    """The issue's check: ntu_sample.avi (72 frames, 1920x1080) with a quickstart checkpoint, offline on the CPU."""
    pytest.importorskip('mediapipe', **NEEDS_MEDIAPIPE)
    video = shared_file('data', 'ntu_sample.avi')
    config, _, labels = quickstart_like(tmp_path, 'c3d_synthetic_coco2d_joint')
    out = tmp_path / 'out.mp4'
    # no --checkpoint: the best one in the config's work dir
    assert demo.main([str(video), str(out), '--config', config, '--label-map', labels, '--topk', '3']) == 0
    frames, fps = read_video(out)
    assert len(frames) == 72 and frames[0].shape == (480, 852, 3)  # short side 480, even width
    assert fps == pytest.approx(30)
    printed = capsys.readouterr().out
    assert 'wrote' in printed and '72 frames, 852x480' in printed
    top = printed.split(f'{video}: ')[1].splitlines()[0].split(', ')
    assert len(top) == 3 and all(line.split('. ', 1)[1].rsplit(':', 1)[0] in SYNTHETIC_CLASSES for line in top)
    # the skeleton is drawn where the person stands (the middle of the picture), not over the empty left third
    import cv2
    source = cv2.resize(next(iter_source(video)), (852, 480), interpolation=cv2.INTER_AREA)
    changed = np.abs(frames[0].astype(int) - source).max(-1) > 60
    assert changed[100:400, 380:480].mean() > 0.02 and changed[100:240, 150:300].mean() < 0.001


def iter_source(video):
    from pyskl.utils.video import iter_frames
    return iter_frames(str(video))


def test_no_person_is_said_and_nothing_is_written(demo, tmp_path, capsys):
    pytest.importorskip('mediapipe', **NEEDS_MEDIAPIPE)
    video = write_spots_video(tmp_path / 'empty.mp4', np.full((6, 1, 2), 1000.))  # 6 black frames
    config, checkpoint, _ = quickstart_like(tmp_path, 'c3d_synthetic_coco2d_joint')
    out = tmp_path / 'out.mp4'
    assert demo.main([video, str(out), '--config', config, '--checkpoint', checkpoint]) == 1
    err = capsys.readouterr().err
    assert 'No person was found in' in err and 'in any of its 6 frames' in err and not out.exists()


def test_a_model_on_ntu_joints_is_refused_before_any_work(demo, tmp_path, capsys):
    video = write_spots_video(tmp_path / 'clip.mp4', np.full((2, 1, 2), 20.))
    config, checkpoint, _ = quickstart_like(tmp_path, 'stgcn++_synthetic_ntu3d_j')
    with pytest.raises(SystemExit) as exit_info:
        demo.main([video, str(tmp_path / 'out.mp4'), '--config', config, '--checkpoint', checkpoint])
    assert exit_info.value.code == 2
    assert "NTU RGB+D's 25 Kinect joints" in capsys.readouterr().err


def test_without_a_trained_checkpoint_it_says_how_to_train_one(demo, tmp_path, capsys):
    video = write_spots_video(tmp_path / 'clip.mp4', np.full((2, 1, 2), 20.))
    config, _, _ = quickstart_like(tmp_path, 'c3d_synthetic_coco2d_joint', best=False)
    with pytest.raises(SystemExit) as exit_info:
        demo.main([video, str(tmp_path / 'out.mp4'), '--config', config])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert 'no best_*.pth in' in err and 'python tools/train.py' in err and '--checkpoint' in err


def test_output_sizes_are_even_with_the_short_side_asked(demo):
    assert demo.output_size(1080, 1920, 480) == (852, 480)  # 853.3 wide, rounded, its odd column dropped
    assert demo.output_size(480, 640, 480) == (640, 480)  # not enlarged
    assert demo.output_size(301, 401, 0) == (400, 300)  # kept, made even
