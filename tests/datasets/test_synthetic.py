"""The embedded synthetic dataset: format, determinism, subject split, real kinematics, distinct motions, the CLI."""
import pickle
import re
from collections import Counter

import numpy as np
import pytest

from pyskl.datasets import synthetic as syn
from pyskl.graph import get_layout
from tests.conftest import load_script

NUM_CLASSES = len(syn.SYNTHETIC_CLASSES)
CLASS = {name: i for i, name in enumerate(syn.SYNTHETIC_CLASSES)}


@pytest.fixture(scope='module')
def clean3d():
    """Noise-free 3D skeletons, two samples of every class in each split."""
    return syn.make_synthetic_dataset('ntu3d', 2 * NUM_CLASSES, 2 * NUM_CLASSES, seed=3, noise=False)


def by_label(data):
    groups = {}
    for ann in data['annotations']:
        groups.setdefault(ann['label'], []).append(ann)
    return groups


def speed(ann, joint):
    """Mean speed (metres per frame) of one joint of the actor."""
    return np.linalg.norm(np.diff(ann['keypoint'][0, :, joint], axis=0), axis=-1).mean()


@pytest.mark.parametrize('kind', syn.KINDS)
def test_annotation_format(kind):
    data = syn.make_synthetic_dataset(kind, num_train=NUM_CLASSES, num_val=NUM_CLASSES, seed=1)
    assert set(data) == {'split', 'annotations'} and set(data['split']) == {'train', 'val'}
    num_joints, channels = (25, 3) if kind == 'ntu3d' else (17, 2)
    for ann in data['annotations']:
        keypoint = ann['keypoint']
        num_people, num_frames = keypoint.shape[:2]
        assert keypoint.shape == (num_people, num_frames, num_joints, channels) and keypoint.dtype == np.float32
        assert type(ann['label']) is int and type(ann['total_frames']) is int and type(ann['frame_dir']) is str
        assert ann['total_frames'] == num_frames and syn.MIN_FRAMES <= num_frames <= syn.MAX_FRAMES
        assert num_people in (1, 2) and np.isfinite(keypoint).all()
        if ann['label'] in syn.TWO_PERSON_CLASSES:
            assert num_people == 2
        if kind == 'ntu3d':
            assert set(ann) == {'frame_dir', 'label', 'total_frames', 'keypoint'}
        else:
            assert ann['keypoint_score'].shape == keypoint.shape[:3] and ann['keypoint_score'].dtype == np.float32
            assert ann['img_shape'] == ann['original_shape'] == (1080, 1920)
    frames = [ann['total_frames'] for ann in data['annotations']]
    assert len(set(frames)) > 10, 'sequence lengths should vary'
    one_person = [ann for ann in data['annotations'] if ann['label'] not in syn.TWO_PERSON_CLASSES]
    assert {ann['keypoint'].shape[0] for ann in one_person} == {1, 2}, 'some one-person samples have a bystander'


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    paths = [tmp_path / name for name in ('a.pkl', 'b.pkl', 'c.pkl')]
    for path, seed in zip(paths, (7, 7, 8)):
        syn.write_synthetic_dataset(str(path), 'coco2d', num_train=NUM_CLASSES, num_val=4, seed=seed)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    assert not list(tmp_path.glob('.*.tmp')), 'the atomic write left a temporary file behind'


def test_val_samples_do_not_depend_on_the_train_size():
    small = syn.make_synthetic_dataset('ntu3d', num_train=3, num_val=5, seed=0)
    large = syn.make_synthetic_dataset('ntu3d', num_train=20, num_val=5, seed=0)
    for a, b in zip(small['annotations'][-5:], large['annotations'][-5:]):
        assert a['frame_dir'] == b['frame_dir'] and np.array_equal(a['keypoint'], b['keypoint'])


def test_classes_are_balanced():
    data = syn.make_synthetic_dataset('ntu3d', num_train=3 * NUM_CLASSES + 4, num_val=NUM_CLASSES, seed=0)
    labels = {ann['frame_dir']: ann['label'] for ann in data['annotations']}
    train = Counter(labels[name] for name in data['split']['train'])
    val = Counter(labels[name] for name in data['split']['val'])
    assert sorted(train) == sorted(val) == list(range(NUM_CLASSES))
    assert max(train.values()) - min(train.values()) == 1 and set(val.values()) == {1}


def test_split_is_by_subject_and_names_are_informative():
    data = syn.make_synthetic_dataset('ntu3d', num_train=80, num_val=40, seed=0)
    names = [ann['frame_dir'] for ann in data['annotations']]
    assert len(set(names)) == len(names) and sorted(names) == sorted(data['split']['train'] + data['split']['val'])
    subjects = {}
    for ann in data['annotations']:
        match = re.fullmatch(r'syn_S(\d{3})_A(\d{3})_(\d{5})', ann['frame_dir'])
        assert match, ann['frame_dir']
        assert int(match.group(2)) == ann['label'] + 1  # NTU's convention: label = A - 1
        subjects[ann['frame_dir']] = int(match.group(1))
    train = {subjects[name] for name in data['split']['train']}
    val = {subjects[name] for name in data['split']['val']}
    assert not train & val
    assert len(train) == 6 and len(val) == 3  # each subject performs every class in turn: ceil(80 / 15), ceil(40 / 15)


def test_bones_keep_their_length(clean3d):
    bones = get_layout('nturgb+d').inward
    child, parent = np.array(bones).T
    for ann in clean3d['annotations']:
        length = np.linalg.norm(ann['keypoint'][:, :, child] - ann['keypoint'][:, :, parent], axis=-1)
        assert length.std(axis=1).max() < 1e-4, ann['frame_dir']  # float32 rounding only
        assert 0.02 < length.min() and length.max() < 0.6
    noisy = syn.make_synthetic_dataset('ntu3d', num_train=NUM_CLASSES, num_val=0, seed=3)
    for ann in noisy['annotations']:  # with Kinect-like noise: a few centimetres at most
        length = np.linalg.norm(ann['keypoint'][:, :, child] - ann['keypoint'][:, :, parent], axis=-1)
        assert length.std(axis=1).max() < 0.03, ann['frame_dir']


def test_people_stand_on_the_floor_and_jump_off_it(clean3d):
    """Kinect's y is up: the feet stay at one height (the floor) except in jumps."""
    for ann in clean3d['annotations']:
        feet = ann['keypoint'][0][:, syn.FEET, 1].min(axis=1)  # the actor's lowest foot joint, per frame
        lift = feet.max() - feet.min()
        if ann['label'] == CLASS['jump']:
            assert lift > 0.1, ann['frame_dir']
        else:
            assert lift < 0.1, (ann['frame_dir'], lift)  # camera tilt (< 6 deg) moves the floor a little


def test_motion_differs_between_classes(clean3d):
    """Each class has its own joint-speed profile, and the profiles say what the action is."""
    groups = by_label(clean3d)
    profiles = np.stack([np.mean([[speed(ann, j) for j in range(25)] for ann in groups[c]], axis=0)
                         for c in range(NUM_CLASSES)])
    distance = np.linalg.norm(profiles[:, None] - profiles[None], axis=-1)
    assert distance[~np.eye(NUM_CLASSES, dtype=bool)].min() > 0.05 * np.linalg.norm(profiles, axis=1).mean()

    def mean_speed(name, joint):
        return np.mean([speed(ann, joint) for ann in groups[CLASS[name]]])

    right_wrist, left_wrist, right_ankle, left_ankle = 10, 6, 18, 14
    assert mean_speed('wave right hand', right_wrist) > 3 * mean_speed('wave right hand', left_wrist)
    assert mean_speed('wave left hand', left_wrist) > 3 * mean_speed('wave left hand', right_wrist)
    assert mean_speed('kick with right leg', right_ankle) > 3 * mean_speed('kick with right leg', left_ankle)
    assert mean_speed('kick with left leg', left_ankle) > 3 * mean_speed('kick with left leg', right_ankle)
    for name in ('squat', 'jump', 'bow'):  # whole-body motions: the head moves more than in a wave
        assert mean_speed(name, 3) > 2 * mean_speed('wave right hand', 3), name


def test_turn_around_turns_and_interactions_bring_people_together(clean3d):
    groups = by_label(clean3d)
    for ann in groups[CLASS['turn around']]:
        shoulders = ann['keypoint'][0, :, 8] - ann['keypoint'][0, :, 4]  # right minus left, seen from above
        first, last = shoulders[0, [0, 2]], shoulders[-1, [0, 2]]
        cos = first @ last / np.linalg.norm(first) / np.linalg.norm(last)
        assert cos < -0.5, ann['frame_dir']
    for ann in groups[CLASS['shake hands']]:
        hands = np.linalg.norm(ann['keypoint'][0, :, 11] - ann['keypoint'][1, :, 11], axis=-1)  # right hands
        assert hands.min() < 0.35 and hands.max() > 0.5, ann['frame_dir']
    for ann in groups[CLASS['hug other person']]:
        chests = np.linalg.norm(ann['keypoint'][0, :, 20] - ann['keypoint'][1, :, 20], axis=-1)
        assert chests[0] > 1.0 and chests.min() < 0.55, ann['frame_dir']


def test_2d_is_the_3d_scene_through_a_pinhole_camera():
    """Same seed, same motion: the COCO pixels are the NTU camera coordinates projected with one focal length."""
    kw = dict(num_train=NUM_CLASSES, num_val=0, seed=5, noise=False)
    data3d, data2d = syn.make_synthetic_dataset('ntu3d', **kw), syn.make_synthetic_dataset('coco2d', **kw)
    shared_ntu = [4, 8, 5, 9, 6, 10, 12, 16, 13, 17, 14, 18]  # shoulders, elbows, wrists, hips, knees, ankles
    shared_coco = list(range(5, 17))
    h, w = syn.IMG_SHAPE
    for a3, a2 in zip(data3d['annotations'], data2d['annotations']):
        assert a3['frame_dir'] == a2['frame_dir'] and a3['keypoint'].shape[:2] == a2['keypoint'].shape[:2]
        xyz = a3['keypoint'][:, :, shared_ntu].reshape(-1, 3).astype(np.float64)
        uv = a2['keypoint'][:, :, shared_coco].reshape(-1, 2).astype(np.float64)
        inside = a2['keypoint_score'][:, :, shared_coco].reshape(-1) > 0.25  # not clipped at the border
        ray = np.concatenate([-xyz[:, 0] / xyz[:, 2], -xyz[:, 1] / xyz[:, 2]])[np.tile(inside, 2)]
        pix = np.concatenate([uv[:, 0] - w / 2, uv[:, 1] - h / 2])[np.tile(inside, 2)]
        focal = ray @ pix / (ray @ ray)
        assert 900 < focal < 1200
        assert np.abs(focal * ray - pix).max() < 0.5, a2['frame_dir']


def test_2d_scores_and_coordinates_are_in_range():
    data = syn.make_synthetic_dataset('coco2d', num_train=3 * NUM_CLASSES, num_val=0, seed=2)
    h, w = syn.IMG_SHAPE
    dropped = 0
    for ann in data['annotations']:
        kp, score = ann['keypoint'], ann['keypoint_score']
        assert (score >= 0).all() and (score <= 1).all()
        assert (kp[..., 0] >= 0).all() and (kp[..., 0] <= w - 1).all()
        assert (kp[..., 1] >= 0).all() and (kp[..., 1] <= h - 1).all()
        zero = (kp == 0).all(-1)
        assert (score[zero] < 0.1).all(), 'a dropped joint must have a low score'
        dropped += zero.sum()
    assert dropped > 0, 'some joints should be dropped'


@pytest.mark.parametrize('kwargs, match', [
    (dict(kind='ntu2d'), 'kind'),
    (dict(num_train=-1), 'num_train'),
    (dict(num_val=2.5), 'num_val'),
    (dict(num_train=0, num_val=0), 'at least 1'),
])
def test_bad_arguments_are_reported(kwargs, match):
    with pytest.raises(ValueError, match=match):
        syn.make_synthetic_dataset(**kwargs)


def load_tool():
    """tools/data/make_synthetic.py as a module (run in this process: a fresh interpreter spends seconds importing)."""
    return load_script('tools/data/make_synthetic.py')


def test_cli_writes_a_loadable_dataset_label_map_and_preview(tmp_path, capsys):
    out, preview = tmp_path / 'synthetic' / 'coco2d.pkl', tmp_path / 'preview.png'
    load_tool().main(['--kind', 'coco2d', '--out', str(out), '--num-train', str(NUM_CLASSES), '--num-val', '5',
                      '--seed', '4', '--preview', str(preview)])
    stdout = capsys.readouterr().out
    assert str(out) in stdout and 'train 15, val 5' in stdout and str(preview) in stdout

    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert len(data['split']['train']) == NUM_CLASSES and len(data['split']['val']) == 5
    label_map = tmp_path / 'synthetic' / 'coco2d_label_map.txt'
    assert label_map.read_text().splitlines() == list(syn.SYNTHETIC_CLASSES)
    assert preview.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and preview.stat().st_size > 10_000

    from pyskl.datasets import PoseDataset  # our dataset class reads it, classes from the label map
    dataset = PoseDataset(str(out), split='val', label_map=str(label_map), test_mode=True)
    assert len(dataset) == 5 and dataset.metainfo['classes'] == syn.SYNTHETIC_CLASSES
    assert dataset.get_data_info(0)['frame_dir'] == data['split']['val'][0]


def test_cli_reports_bad_sizes_as_usage_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_tool().main(['--out', str(tmp_path / 'x.pkl'), '--num-train', '-3'])
    assert exit_info.value.code == 2 and 'num_train' in capsys.readouterr().err
    assert not (tmp_path / 'x.pkl').exists()


# ---------------------------------------------------------------------------------------------------------------
# Kinetics-400's compressed form

def test_compressed_form_lists_every_person_of_every_frame():
    data = syn.make_synthetic_dataset('coco2d', num_train=NUM_CLASSES, num_val=0, seed=6)
    ann = next(a for a in data['annotations'] if a['keypoint'].shape[0] == 2)
    compressed = syn.compress_annotation(ann)
    num_frames = ann['total_frames']
    assert compressed['keypoint'].shape == (2 * num_frames, 17, 3) and compressed['keypoint'].dtype == np.float16
    assert compressed['frame_inds'].tolist() == [t for t in range(num_frames) for _ in range(2)]
    # row 2t + m is person m in frame t: x, y, score
    t = num_frames // 2
    assert np.array_equal(compressed['keypoint'][2 * t + 1, :, :2], ann['keypoint'][1, t].astype(np.float16))
    assert np.array_equal(compressed['keypoint'][2 * t + 1, :, 2], ann['keypoint_score'][1, t].astype(np.float16))
    assert compressed['box_score'][2 * t + 1] == pytest.approx(ann['keypoint_score'][1, t].mean())
    strict = int(np.unique(compressed['frame_inds'][compressed['box_score'] >= 0.9]).size)
    assert compressed['valid'][0.9] == strict <= compressed['valid'][0.5] <= num_frames
    assert 'keypoint_score' not in compressed and compressed['label'] == ann['label']
    with pytest.raises(ValueError, match='coco2d'):
        syn.compress_annotation(syn.make_synthetic_dataset('ntu3d', num_train=1, num_val=0)['annotations'][0])


def test_cli_compress_writes_a_k400_style_table_of_contents(tmp_path, capsys):
    out = tmp_path / 'k400' / 'syn.pkl'
    load_tool().main(['--kind', 'coco2d', '--compress', '--out', str(out), '--num-train', '5', '--num-val', '2',
                      '--num-kpfiles', '2'])
    assert 'wrote 2 kpfiles' in capsys.readouterr().out
    toc = pickle.loads(out.read_bytes())
    assert {a['raw_file'] for a in toc['annotations']} == {'syn_kpfiles/part_0.pkl', 'syn_kpfiles/part_1.pkl'}
    assert all('keypoint' not in a and len(a['frame_inds']) == len(a['box_score']) for a in toc['annotations'])
    kpfiles = {}
    for part in (0, 1):
        kpfiles.update(pickle.loads((tmp_path / 'k400' / 'syn_kpfiles' / f'part_{part}.pkl').read_bytes()))
    assert set(kpfiles) == {a['frame_dir'] for a in toc['annotations']}

    from pyskl.datasets import PoseDataset
    dataset = PoseDataset(str(out), split='train', box_thr=0.5, valid_ratio=0.0)
    info = dataset.get_data_info(0)
    assert np.array_equal(info['keypoint'], kpfiles[info['frame_dir']]['keypoint'])


def test_cli_compress_needs_2d_skeletons(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_tool().main(['--kind', 'ntu3d', '--compress', '--out', str(tmp_path / 'x.pkl')])
    assert exit_info.value.code == 2 and '--compress needs --kind coco2d' in capsys.readouterr().err
    assert not (tmp_path / 'x.pkl').exists()


# ---------------------------------------------------------------------------------------------------------------
# Videos

def test_videos_show_the_figures_where_the_skeletons_are(tmp_path):
    """Each sample's video: its frame count, 16:9 at 112 pixels high, and figure pixels (not the backdrop) where the
    annotation puts the joints."""
    from pyskl.utils.video import open_video
    ann, (camera, camera_xyz) = syn.make_sample('coco2d', 2, 1, 2, 0, 'train', seed=0, noise=False, with_scene=True)
    rng = np.random.default_rng(0)
    frames = syn.render_video(camera, camera_xyz, rng)
    assert frames.shape == (ann['total_frames'], 112, 200, 3) and frames.dtype == np.uint8
    # the same draws (backdrop, colours, noise) with everyone far out of view: what differs is the people
    empty = syn.render_video(camera, camera_xyz + [0, 0, 1e4], np.random.default_rng(0))
    changed = np.abs(frames.astype(int) - empty).max(-1) > 3
    to_video = np.array([200 / 1920, 112 / 1080])
    # the shoulders' and hips' midpoints, on the torso, away from the limbs' anti-aliased edges
    joints = ann['keypoint'][0][:, [5, 6, 11, 12]].mean(1) * to_video
    on_figure = changed[np.arange(len(joints)), joints[:, 1].round().astype(int), joints[:, 0].round().astype(int)]
    assert on_figure.mean() > 0.95
    assert 0.005 < changed.mean() < 0.1  # small figures in a large room

    data = syn.write_synthetic_videos(str(tmp_path / 'coco2d.pkl'), str(tmp_path / 'videos'), num_train=2,
                                      num_val=1, seed=0)
    assert (tmp_path / 'coco2d.pkl').read_bytes() == pickle.dumps(data, protocol=4)
    for ann in data['annotations']:
        with open_video(str(tmp_path / 'videos' / f"{ann['frame_dir']}.mp4"), 'opencv') as reader:
            assert reader.num_frames == ann['total_frames'] and reader.frames([0]).shape == (1, 112, 200, 3)


def test_cli_videos_write_the_same_annotation_and_resume(tmp_path, capsys):
    plain, out, videos = tmp_path / 'plain.pkl', tmp_path / 'coco2d.pkl', tmp_path / 'videos'
    load_tool().main(['--kind', 'coco2d', '--out', str(plain), '--num-train', '3', '--num-val', '1'])
    load_tool().main(['--kind', 'coco2d', '--out', str(out), '--num-train', '3', '--num-val', '1', '--videos',
                      str(videos), '--video-size', '64', '48'])
    assert 'wrote 4 videos (64x48)' in capsys.readouterr().out
    assert out.read_bytes() == plain.read_bytes()  # the videos change nothing in the annotation
    written = sorted(videos.iterdir())
    assert len(written) == 4 and all(p.suffix == '.mp4' for p in written)
    written[0].write_bytes(b'kept')  # an existing video is not made again
    load_tool().main(['--kind', 'coco2d', '--out', str(out), '--num-train', '3', '--num-val', '1', '--videos',
                      str(videos)])
    assert written[0].read_bytes() == b'kept'
    with pytest.raises(SystemExit):
        load_tool().main(['--kind', 'ntu3d', '--videos', str(videos)])
    assert '--videos needs --kind coco2d' in capsys.readouterr().err
