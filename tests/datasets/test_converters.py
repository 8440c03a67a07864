"""Converters to PYSKL's format, on OpenPose / mmpose / MediaPipe / numpy files written here."""
import json
import pickle

import numpy as np
import pytest

from pyskl.datasets.checks import check_annotations
from pyskl.datasets.converters import (BODY25_LAYOUT, BODY25_TO_OPENPOSE, MEDIAPIPE_POSE_TO_COCO, ConversionError,
                                       convert_numpy, convert_pose_json, random_split,
                                       read_labels_csv, read_openpose_folder, read_pose_json)
from pyskl.graph import get_layout
from tests.tools.data_tools import run_data_tool


def load(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def pose(num_joints, x0, y0, score=0.8):
    """[V, 3]: joint j at (x0 + 10 j, y0 + j), so joints and persons can be told apart after mapping."""
    j = np.arange(num_joints, dtype=np.float32)
    return np.stack([x0 + 10 * j, y0 + j, np.full(num_joints, score, np.float32)], -1)


# -- OpenPose -----------------------------------------------------------------------------------------------------
def write_openpose_video(folder, frames):
    """``frames``: per frame a list of [V, 3] poses, written as OpenPose's <video>_<frame>_keypoints.json."""
    folder.mkdir(parents=True)
    for t, people in enumerate(frames):
        data = dict(version=1.3, people=[dict(person_id=[-1], pose_keypoints_2d=p.reshape(-1).tolist(),
                                              face_keypoints_2d=[], hand_left_keypoints_2d=[]) for p in people])
        (folder / f'{folder.name}_{t:012d}_keypoints.json').write_text(json.dumps(data))


def two_walkers(num_joints, num_frames=12):
    """Person A moves right at y=100, B at y=400; the JSON lists them in alternating order; frame 5 is empty."""
    frames = []
    for t in range(num_frames):
        a, b = pose(num_joints, 5 * t, 100), pose(num_joints, 600 - 5 * t, 400, score=0.6)
        frames.append([] if t == 5 else ([a, b] if t % 2 == 0 else [b, a]))
    return frames


def test_openpose_body25_is_mapped_to_18_and_tracked(tmp_path):
    write_openpose_video(tmp_path / 'clip', two_walkers(25))
    sample = read_openpose_folder(str(tmp_path / 'clip'), img_shape=(720, 1280))
    keypoint, score = sample['keypoint'], sample['keypoint_score']
    assert keypoint.shape == (2, 12, 18, 2) and score.shape == (2, 12, 18) and sample['total_frames'] == 12
    assert sample['img_shape'] == sample['original_shape'] == (720, 1280)
    frames = [t for t in range(12) if t != 5]
    want_a = np.stack([pose(25, 5 * t, 100)[list(BODY25_TO_OPENPOSE)] for t in frames])
    np.testing.assert_array_equal(keypoint[0, frames], want_a[..., :2])
    np.testing.assert_array_equal(score[1, frames], np.float32(0.6))
    assert not keypoint[:, 5].any()
    assert keypoint[0, 0, 8, 0] == 10 * 9  # openpose joint 8 (right hip) is BODY_25's joint 9; MidHip is gone


def test_openpose_body25_kept_and_coco18(tmp_path):
    write_openpose_video(tmp_path / 'b25', two_walkers(25))
    assert read_openpose_folder(str(tmp_path / 'b25'), keep_body25=True)['keypoint'].shape == (2, 12, 25, 2)
    assert get_layout(BODY25_LAYOUT).num_node == 25
    write_openpose_video(tmp_path / 'c18', two_walkers(18))
    sample = read_openpose_folder(str(tmp_path / 'c18'), max_persons=1)
    assert sample['keypoint'].shape == (1, 12, 18, 2) and 'img_shape' not in sample
    np.testing.assert_array_equal(sample['keypoint'][0, 0], pose(18, 0, 100)[:, :2])


def test_openpose_errors_name_the_file(tmp_path):
    write_openpose_video(tmp_path / 'odd', [[pose(25, 0, 0)], [pose(25, 0, 0)]])
    bad = tmp_path / 'odd' / 'odd_000000000001_keypoints.json'
    bad.write_text(json.dumps(dict(people=[dict(pose_keypoints_2d=[1, 2, 3, 4])])))
    with pytest.raises(ConversionError, match=f'{bad}: person 0: pose_keypoints_2d has 4 numbers'):
        read_openpose_folder(str(tmp_path / 'odd'))
    bad.write_text('{"people": [')
    with pytest.raises(ConversionError, match=f'{bad}: not valid JSON'):
        read_openpose_folder(str(tmp_path / 'odd'))
    write_openpose_video(tmp_path / 'nobody', [[], []])
    with pytest.raises(ConversionError, match='nobody is detected in any of its 2 frames'):
        read_openpose_folder(str(tmp_path / 'nobody'))


def test_openpose_command_line(tmp_path, capsys):
    for name in ('walk_1', 'walk_2', 'walk_3'):
        write_openpose_video(tmp_path / 'videos' / name, two_walkers(25))
    (tmp_path / 'labels.csv').write_text('name,label,split\nwalk_1,0,train\nwalk_2,1,train\nwalk_3,1,test\n')
    out = tmp_path / 'op.pkl'
    status, stdout, _ = run_data_tool(capsys, 'convert_skeletons', 'openpose', tmp_path / 'videos', '--labels',
                                      tmp_path / 'labels.csv', '--out', out)
    assert status == 0 and '3 samples (train: 2, test: 1); layout: openpose' in stdout
    assert 'no img_shape' in stdout  # the frame size was not given
    data = load(out)
    assert data['split'] == dict(train=['walk_1', 'walk_2'], test=['walk_3'])
    assert check_annotations(data, layout='openpose').ok


# -- mmpose / MediaPipe JSON ----------------------------------------------------------------------------------------
def mmpose_person(p):
    return dict(keypoints=p[:, :2].tolist(), keypoint_scores=p[:, 2].tolist(), bbox=[[0, 0, 1, 1]], bbox_score=0.9)


def test_mmpose_frames_with_frame_ids(tmp_path):
    """mmpose's demo dump: frames with frame_id counted from 1 (frame 3 is not listed: nobody there)."""
    frames = [dict(frame_id=t + 1, instances=[mmpose_person(pose(17, 3 * t, 50))]) for t in (0, 1, 3)]
    path = tmp_path / 'v.json'
    path.write_text(json.dumps(dict(meta_info=dict(dataset_name='coco'), instance_info=frames, img_shape=[480, 640])))
    sample = read_pose_json(str(path))
    assert sample['keypoint'].shape == (1, 4, 17, 2) and sample['img_shape'] == (480, 640)
    np.testing.assert_array_equal(sample['keypoint'][0, 3], pose(17, 9, 50)[:, :2])
    assert not sample['keypoint'][0, 2].any()
    np.testing.assert_allclose(sample['keypoint_score'][0, [0, 1, 3]], 0.8)


def test_mmpose_inferencer_predictions_and_xy_score_rows(tmp_path):
    a, b = pose(17, 0, 0), pose(17, 300, 300)
    frames = [dict(predictions=[[mmpose_person(a), dict(keypoints=b.tolist())]]),  # b: [x, y, score] rows
              dict(predictions=[[dict(keypoints=b[:, :2].tolist()), mmpose_person(a)]])]  # no score: 1
    path = tmp_path / 'v.json'
    path.write_text(json.dumps(frames))
    sample = read_pose_json(str(path), img_shape=(1080, 1920))
    assert sample['img_shape'] == (1080, 1920)
    np.testing.assert_array_equal(sample['keypoint'][1], np.stack([b[:, :2], b[:, :2]]))
    np.testing.assert_allclose(sample['keypoint_score'][1], [b[:, 2], np.ones(17)])


def mediapipe_person(num_landmarks, x0, visibility=True):
    j = np.arange(num_landmarks) / 100
    return [dict(x=x0 + j[i], y=0.5 + j[i], z=-0.1, **(dict(visibility=0.7) if visibility else {}))
            for i in range(num_landmarks)]


def test_mediapipe_pose_to_coco_normalised_and_in_pixels(tmp_path):
    path = tmp_path / 'mp.json'
    path.write_text(json.dumps([[mediapipe_person(33, 0.2)], [dict(landmarks=mediapipe_person(33, 0.25))]]))
    sample = read_pose_json(str(path), joint_map=MEDIAPIPE_POSE_TO_COCO)
    assert sample['keypoint'].shape == (1, 2, 17, 2) and sample['img_shape'] == (1, 1)
    picked = np.array(MEDIAPIPE_POSE_TO_COCO) / 100
    np.testing.assert_allclose(sample['keypoint'][0, 0], np.stack([0.2 + picked, 0.5 + picked], -1), rtol=1e-6)
    np.testing.assert_allclose(sample['keypoint_score'], 0.7)
    pixels = read_pose_json(str(path), joint_map=MEDIAPIPE_POSE_TO_COCO, img_shape=(480, 640))
    assert pixels['img_shape'] == (480, 640)
    np.testing.assert_allclose(pixels['keypoint'], sample['keypoint'] * np.array([640, 480]), rtol=1e-6)


def test_mediapipe_hands_without_visibility_score_1(tmp_path):
    path = tmp_path / 'hand.json'
    path.write_text(json.dumps(dict(frames=[[mediapipe_person(21, 0.1, visibility=False)]] * 3)))
    sample = read_pose_json(str(path))
    assert sample['keypoint'].shape == (1, 3, 21, 2) and (sample['keypoint_score'] == 1).all()
    assert check_annotations([dict(frame_dir='h', label=0, **sample)], layout='handmp').ok


def test_json_errors(tmp_path):
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps([[dict(points=[1, 2])]]))
    with pytest.raises(ConversionError, match=f"{path}: frame 0: a person must be a dict with 'keypoints'"):
        read_pose_json(str(path))
    path.write_text(json.dumps(dict(results=[])))
    with pytest.raises(ConversionError, match="under 'frames' or 'instance_info'"):
        read_pose_json(str(path))
    path.write_text(json.dumps([[dict(keypoints=[[1, 2]] * 17)], [dict(keypoints=[[1, 2]] * 18)]]))
    with pytest.raises(ConversionError, match=r'frame 1: persons have \[17, 18\] joints'):
        read_pose_json(str(path))


def test_convert_pose_json_with_class_names_and_random_split(tmp_path):
    folder = tmp_path / 'json'
    folder.mkdir()
    rows = ['name,label']
    for i in range(10):
        frames = [dict(frame_id=t, instances=[mmpose_person(pose(17, t + i, 0))]) for t in range(4)]
        (folder / f'clip{i}.json').write_text(json.dumps(frames))
        rows.append(f'clip{i},{"jump" if i % 2 else "wave"}')
    (folder / 'unlabelled.json').write_text(json.dumps([]))  # no CSV row: left out, never read
    (tmp_path / 'labels.csv').write_text('\n'.join(rows) + '\n')
    out = tmp_path / 'mine.pkl'
    result = convert_pose_json(str(folder), str(tmp_path / 'labels.csv'), str(out), val_ratio=0.4, seed=3,
                               img_shape=(480, 640))
    assert result.layout == 'coco' and result.unlabelled == ['unlabelled'] and not result.warnings
    assert (tmp_path / 'mine_label_map.txt').read_text() == 'jump\nwave\n'
    data = load(out)
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    assert labels['clip0'] == 1 and labels['clip1'] == 0  # 'wave' is class 1, 'jump' class 0 (sorted)
    assert sorted(data['split']) == ['train', 'val'] and result.splits == dict(train=6, val=4)
    for label in (0, 1):  # stratified: 2 of each class's 5 samples in val
        assert sum(labels[n] == label for n in data['split']['val']) == 2
    again = convert_pose_json(str(folder), str(tmp_path / 'labels.csv'), str(tmp_path / 'again.pkl'), val_ratio=0.4,
                              seed=3, img_shape=(480, 640))
    assert load(again.out)['split'] == data['split']  # same seed, same split
    assert check_annotations(data, layout='coco', num_classes=2).ok


# -- numpy ----------------------------------------------------------------------------------------------------------
def test_numpy_folder_npy_and_npz(tmp_path):
    folder = tmp_path / 'arrays'
    folder.mkdir()
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 25, 3)).astype(np.float32)
    b = rng.normal(size=(2, 20, 25, 3))
    np.save(folder / 'a.npy', a)
    np.savez(folder / 'b.npz', keypoint=b)
    (tmp_path / 'labels.csv').write_text('a,0,train\nb,2,val\n')
    result = convert_numpy(str(folder), str(tmp_path / 'labels.csv'), str(tmp_path / 'n.pkl'))
    data = load(result.out)
    assert result.layout == 'nturgb+d' and result.label_map is None
    first, second = data['annotations']
    np.testing.assert_array_equal(first['keypoint'], a[None])
    assert first['total_frames'] == 30 and first['label'] == 0
    assert set(first) == {'frame_dir', 'label', 'keypoint', 'total_frames'}
    assert second['keypoint'].shape == (2, 20, 25, 3) and second['keypoint'].dtype == np.float32
    assert data['split'] == dict(train=['a'], val=['b'])


def test_numpy_single_npz_with_score_channel(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {f's{i}': rng.uniform(0, 100, size=(8, 17, 3)).astype(np.float32) for i in range(4)}
    np.savez(tmp_path / 'all.npz', **arrays)
    (tmp_path / 'labels.csv').write_text(''.join(f's{i},{i % 2}\n' for i in range(4)))
    result = convert_numpy(str(tmp_path / 'all.npz'), str(tmp_path / 'labels.csv'), str(tmp_path / 'n.pkl'),
                           val_ratio=0.5, score_channel=True, img_shape=(100, 100))
    data = load(result.out)
    anno = data['annotations'][0]
    np.testing.assert_array_equal(anno['keypoint'][0], arrays['s0'][..., :2])
    np.testing.assert_array_equal(anno['keypoint_score'][0], arrays['s0'][..., 2])
    assert anno['img_shape'] == (100, 100) and result.layout == 'coco'
    assert result.splits == dict(train=2, val=2)


def test_numpy_errors_name_the_input(tmp_path):
    np.save(tmp_path / 'x.npy', np.zeros((5, 25)))
    (tmp_path / 'labels.csv').write_text('x,0\n')
    with pytest.raises(ConversionError, match=r'x.npy: expected numbers \[T, V, C\] or \[M, T, V, C\]'):
        convert_numpy(str(tmp_path), str(tmp_path / 'labels.csv'), str(tmp_path / 'o.pkl'))
    np.save(tmp_path / 'x.npy', np.zeros((5, 25, 4)))
    with pytest.raises(ConversionError, match='C must be 2'):
        convert_numpy(str(tmp_path), str(tmp_path / 'labels.csv'), str(tmp_path / 'o.pkl'))
    assert not (tmp_path / 'o.pkl').exists()


# -- labels CSV and splits ------------------------------------------------------------------------------------------
@pytest.mark.parametrize('text, message', [
    ('a,0\nb\n', 'line 2: expected name,label'),
    ('a,0,train\nb,1\n', 'line 2: no split, but other rows have one'),
    ('a,0\na,1\n', "line 2: 'a' is already on line 1"),
    ('# only a comment\n', 'no label row'),
])
def test_labels_csv_errors_name_the_line(tmp_path, text, message):
    (tmp_path / 'labels.csv').write_text(text)
    with pytest.raises(ConversionError, match=message):
        read_labels_csv(str(tmp_path / 'labels.csv'))


def test_csv_name_without_data(tmp_path):
    np.save(tmp_path / 'a.npy', np.zeros((5, 25, 3)))
    (tmp_path / 'labels.csv').write_text('a,0\nghost,1\n')
    with pytest.raises(ConversionError, match=r"1 name\(s\) with no .npy/.npz file.*'ghost' \(line 2\)"):
        convert_numpy(str(tmp_path), str(tmp_path / 'labels.csv'), str(tmp_path / 'o.pkl'))


def test_random_split_is_per_class_and_seeded():
    names = [f'n{i}' for i in range(20)]
    labels = {name: i % 4 for i, name in enumerate(names)}  # 5 samples per class
    split = random_split(names, labels, 0.2, seed=0)
    assert len(split['val']) == 4 and sorted(labels[n] for n in split['val']) == [0, 1, 2, 3]
    assert split == random_split(names, labels, 0.2, seed=0) != random_split(names, labels, 0.2, seed=1)
    assert random_split(names, labels, 0, seed=0) == dict(train=names)
