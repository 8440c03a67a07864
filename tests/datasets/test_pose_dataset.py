"""PoseDataset on small annotation pickles written by the tests, and one test per kind of bad input."""
import os.path as osp
import pickle
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets import AnnotationError, PoseDataset
from pyskl.registry import DATASETS


def make_anno(frame_dir, label=0, num_person=1, num_frames=6, num_joints=17, channels=2, with_score=True, seed=0):
    rng = np.random.default_rng(seed)
    anno = dict(frame_dir=frame_dir, label=label, total_frames=num_frames, img_shape=(480, 640),
                original_shape=(480, 640),
                keypoint=(rng.random((num_person, num_frames, num_joints, channels)) * 400).astype(np.float16))
    if with_score:
        anno['keypoint_score'] = rng.random((num_person, num_frames, num_joints)).astype(np.float16)
    return anno


def write_pickle(path, content):
    with open(path, 'wb') as f:
        pickle.dump(content, f)
    return str(path)


@pytest.fixture
def split_file(tmp_path):
    annos = [make_anno(f'S001C001P00{i}R001A00{i % 3 + 1}', label=i % 3, num_frames=4 + i, seed=i) for i in range(6)]
    splits = dict(xsub_train=[a['frame_dir'] for a in annos[:4]], xsub_val=[a['frame_dir'] for a in annos[4:]])
    return write_pickle(tmp_path / 'anno.pkl', dict(split=splits, annotations=annos)), annos


def expect_error(path, match, **kwargs):
    with pytest.raises(AnnotationError) as info:
        PoseDataset(ann_file=path, pipeline=[], **kwargs)
    message = str(info.value)
    assert path in message
    assert match in message
    return message


# -- loading ---------------------------------------------------------------------------------------------------------
def test_split_filtering_keeps_the_split_in_file_order(split_file):
    path, annos = split_file
    train = PoseDataset(path, pipeline=[], split='xsub_train')
    val = PoseDataset(path, pipeline=[], split='xsub_val', test_mode=True)
    assert [train.get_data_info(i)['frame_dir'] for i in range(len(train))] == [a['frame_dir'] for a in annos[:4]]
    assert [val.get_data_info(i)['frame_dir'] for i in range(len(val))] == [a['frame_dir'] for a in annos[4:]]
    np.testing.assert_array_equal(train.get_labels(), [0, 1, 2, 0])


def test_data_info_adds_pose_keys_and_is_a_fresh_copy(split_file):
    path, annos = split_file
    dataset = PoseDataset(path, pipeline=[], split='xsub_val', test_mode=True)
    info = dataset.get_data_info(1)
    assert (info['modality'], info['start_index'], info['test_mode'], info['sample_idx']) == ('Pose', 0, True, 1)
    np.testing.assert_array_equal(info['keypoint'], annos[5]['keypoint'])
    assert info['keypoint'].dtype == np.float16
    info['keypoint'][:] = 0  # a pipeline mutating its copy must not touch the dataset
    assert dataset.get_data_info(1)['keypoint'].any()
    assert PoseDataset(path, pipeline=[], split='xsub_val').get_data_info(0)['test_mode'] is False


def test_pipeline_runs_on_each_sample(split_file):
    path, _ = split_file
    dataset = PoseDataset(path, pipeline=[lambda r: dict(shape=r['keypoint'].shape, idx=r['sample_idx'])],
                          split='xsub_train')
    assert dataset[2] == dict(shape=(1, 6, 17, 2), idx=2)


def test_bare_list_file_and_registry_build(tmp_path):
    annos = [make_anno(f'clip{i}', label=i, seed=i) for i in range(3)]
    path = write_pickle(tmp_path / 'list.pkl', annos)
    dataset = DATASETS.build(dict(type='PoseDataset', ann_file=path, pipeline=[]))
    assert isinstance(dataset, PoseDataset)
    assert [dataset.get_data_info(i)['frame_dir'] for i in range(3)] == ['clip0', 'clip1', 'clip2']


def test_dict_file_without_split_keeps_everything(split_file):
    path, annos = split_file
    assert len(PoseDataset(path, pipeline=[])) == len(annos)


@pytest.mark.parametrize('lazy', [False, True])
def test_serialisation_on_and_off_give_identical_samples(split_file, lazy):
    path, _ = split_file
    packed = PoseDataset(path, pipeline=[], split='xsub_train', serialize_data=True, lazy_init=lazy)
    plain = PoseDataset(path, pipeline=[], split='xsub_train', serialize_data=False)
    assert len(packed) == len(plain) == 4
    assert packed.data_list == [] and packed.data_bytes.dtype == np.uint8  # really packed into one buffer
    for i in range(4):
        a, b = packed.get_data_info(i), plain.get_data_info(i)
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    np.testing.assert_array_equal(packed.get_labels(), plain.get_labels())
    assert packed.get_cat_ids(2) == [2]
    subset = packed.get_subset([2, 1])  # the labels follow a subset of the packed samples
    np.testing.assert_array_equal(subset.get_labels(), [2, 1])
    assert subset.get_data_info(0)['frame_dir'] == packed.get_data_info(2)['frame_dir']


def test_data_prefix_is_joined_to_frame_dir(split_file, tmp_path):
    path, annos = split_file
    dataset = PoseDataset(path, pipeline=[], split='xsub_val', data_prefix='videos')
    assert dataset.get_data_info(0)['frame_dir'] == osp.join('videos', annos[4]['frame_dir'])
    rooted = PoseDataset(osp.basename(path), pipeline=[], split='xsub_val', data_root=str(tmp_path),
                         data_prefix=dict(frame_dir='videos'))
    assert rooted.get_data_info(1)['frame_dir'] == osp.join(str(tmp_path), 'videos', annos[5]['frame_dir'])


def test_valid_ratio_and_box_thr_filter_k400_entries(tmp_path):
    def k400(name, valid_05, valid_07, scores):
        return dict(frame_dir=name, label=1, total_frames=10, raw_file='kp/part_0.pkl', frame_inds=np.arange(4),
                    valid={0.5: valid_05, 0.7: valid_07}, box_score=np.array(scores, dtype=np.float16))

    annos = [k400('a', 10, 2, [0.9, 0.6, 0.8, 0.4]), k400('b', 4, 4, [0.95, 0.75, 0.5, 0.71])]
    path = write_pickle(tmp_path / 'k400.pkl', dict(split=dict(train=['a', 'b']), annotations=annos))
    (tmp_path / 'kp').mkdir()  # the kpfile the entries name (read through the keypoint store)
    write_pickle(tmp_path / 'kp' / 'part_0.pkl', {name: dict(keypoint=np.zeros((4, 17, 3), np.float16))
                                                  for name in ('a', 'b')})

    strict = PoseDataset(path, pipeline=[], split='train', valid_ratio=0.3, box_thr=0.7)
    assert len(strict) == 1  # a: 2/10 < 0.3 at box_thr 0.7; b: 4/10 kept
    info = strict.get_data_info(0)
    assert info['frame_dir'] == 'b'
    np.testing.assert_array_equal(info['anno_inds'], [True, True, False, True])
    assert 'valid' not in info and 'box_score' not in info

    default_thr = PoseDataset(path, pipeline=[], split='train', valid_ratio=0.5)  # PYSKL's default box_thr 0.5
    assert [default_thr.get_data_info(i)['frame_dir'] for i in range(len(default_thr))] == ['a']
    np.testing.assert_array_equal(default_thr.get_data_info(0)['anno_inds'], [True, True, True, False])

    unfiltered = PoseDataset(path, pipeline=[], split='train')  # K400 configs: valid/box_score dropped anyway
    assert len(unfiltered) == 2 and 'valid' not in unfiltered.get_data_info(0)
    with pytest.raises(ValueError, match='box_thr'):
        PoseDataset(path, pipeline=[], split='train', valid_ratio=0.5, box_thr=0.55)


def test_label_map_fills_classes_and_bounds_labels(split_file, tmp_path):
    path, _ = split_file
    label_map = tmp_path / 'labels.txt'
    label_map.write_text('drink water\neat meal\nbrush teeth\n')
    dataset = PoseDataset(path, pipeline=[], split='xsub_train', label_map=str(label_map))
    assert dataset.metainfo['classes'] == ('drink water', 'eat meal', 'brush teeth')
    label_map.write_text('drink water\neat meal\n')
    message = expect_error(path, "'label' is 2, but there are 2 classes (0..1) in", split='xsub_train',
                           label_map=str(label_map))
    assert message.endswith(str(label_map))


def test_class_prob_is_kept_for_the_sampler(split_file):
    path, _ = split_file
    assert PoseDataset(path, pipeline=[], class_prob=[1, 2, 0.5]).class_prob == {0: 1.0, 1: 2.0, 2: 0.5}
    with pytest.raises(ValueError, match='non-negative'):
        PoseDataset(path, pipeline=[], class_prob=[1, -1])


# -- bad input: one test each, each naming the file and the sample ------------------------------------------------
def test_missing_file(tmp_path):
    path = str(tmp_path / 'nowhere.pkl')
    with pytest.raises(FileNotFoundError, match='nowhere.pkl'):
        PoseDataset(path, pipeline=[])


def test_corrupt_and_non_pickle_files(tmp_path, split_file):
    text = tmp_path / 'notes.pkl'
    text.write_text('frame_dir,label\nclip,1\n')
    expect_error(str(text), 'not a readable annotation pickle')
    good, _ = split_file
    truncated = tmp_path / 'truncated.pkl'
    truncated.write_bytes(open(good, 'rb').read()[:300])
    expect_error(str(truncated), 'not a readable annotation pickle')


def test_unknown_split_lists_the_available_ones(split_file):
    path, _ = split_file
    message = expect_error(path, "split 'xset_train' is not in the file", split='xset_train')
    assert "['xsub_train', 'xsub_val']" in message


def test_split_on_a_bare_list_file(tmp_path):
    path = write_pickle(tmp_path / 'list.pkl', [make_anno('clip0')])
    expect_error(path, 'bare list', split='train')


def test_empty_split(tmp_path):
    annos = [make_anno('clip0'), make_anno('clip1')]
    path = write_pickle(tmp_path / 'anno.pkl', dict(split=dict(train=['clip0'], test=['other']), annotations=annos))
    expect_error(path, "split 'test' selects no samples", split='test')


def test_keypoint_not_rank_4(tmp_path):
    annos = [make_anno('good'), make_anno('flat')]
    annos[1]['keypoint'] = annos[1]['keypoint'][0]  # [T, V, C]: the person axis was dropped
    message = expect_error(write_pickle(tmp_path / 'a.pkl', annos), "sample 'flat'")
    assert "'keypoint' must be [M, T, V, C], got shape (6, 17, 2)" in message


def test_keypoint_score_shape_mismatch(tmp_path):
    annos = [make_anno('clip0'), make_anno('clip1')]
    annos[1]['keypoint_score'] = annos[1]['keypoint_score'][:, :3]
    message = expect_error(write_pickle(tmp_path / 'a.pkl', annos), "sample 'clip1'")
    assert "'keypoint_score' must be (1, 6, 17) to match 'keypoint' (1, 6, 17, 2), got (1, 3, 17)" in message


@pytest.mark.parametrize('bad_value', [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize('dtype', [np.float16, np.float32])
def test_non_finite_keypoints(tmp_path, bad_value, dtype):
    annos = [make_anno('clip0'), make_anno('broken')]
    annos[1]['keypoint'] = annos[1]['keypoint'].astype(dtype)
    annos[1]['keypoint'][0, 2, 5, 1] = bad_value
    annos[1]['keypoint'][0, 3, 0, 0] = bad_value
    message = expect_error(write_pickle(tmp_path / 'a.pkl', annos), "sample 'broken'")
    assert '2 NaN/inf' in message


def test_non_finite_scores(tmp_path):
    annos = [make_anno('clip0')]
    annos[0]['keypoint_score'][0, 0, 0] = np.nan
    expect_error(write_pickle(tmp_path / 'a.pkl', annos), "sample 'clip0': 'keypoint_score' has 1 NaN/inf")


def test_total_frames_disagreeing_with_keypoint(tmp_path):
    annos = [make_anno('clip0', num_frames=6)]
    annos[0]['total_frames'] = 7
    message = expect_error(write_pickle(tmp_path / 'a.pkl', annos), "sample 'clip0'")
    assert "'total_frames' is 7 but 'keypoint' has 6 frames" in message


@pytest.mark.parametrize('joints, channels', [(25, 2), (17, 3)])
def test_layout_differs_between_samples(tmp_path, joints, channels):
    annos = [make_anno('coco_clip'), make_anno('odd_clip', num_joints=joints, channels=channels, with_score=False),
             make_anno('coco_clip2')]
    message = expect_error(write_pickle(tmp_path / 'a.pkl', annos), "sample 'odd_clip'")
    expected = (f"'keypoint' has V={joints} joints; most samples of the file have V=17" if joints != 17 else
                f"'keypoint' has C={channels} channels, most samples of the file have 2")
    assert expected in message and 'coco_clip' not in message


@pytest.mark.parametrize('key', ['label', 'frame_dir'])
def test_missing_required_key(tmp_path, key):
    annos = [make_anno('clip0'), make_anno('clip1')]
    del annos[1][key]
    message = expect_error(write_pickle(tmp_path / 'a.pkl', annos), f"missing key(s) ['{key}']")
    assert ("sample 'clip1'" if key == 'label' else 'sample #1') in message


def test_missing_frame_dir_is_reported_before_split_filtering(tmp_path):
    annos = [make_anno('clip0'), make_anno('clip1')]
    del annos[0]['frame_dir']
    path = write_pickle(tmp_path / 'a.pkl', dict(split=dict(train=['clip1']), annotations=annos))
    expect_error(path, "sample #0: missing key(s) ['frame_dir']", split='train')


# -- label maps shipped in tools/data/label_map ------------------------------------------------------------------------
LABEL_MAPS = Path(__file__).resolve().parents[2] / 'tools' / 'data' / 'label_map'


@pytest.mark.parametrize('name, count', [('nturgbd_120', 120), ('nturgbd_60', 60), ('k400', 400), ('ucf101', 101),
                                         ('hmdb51', 51), ('gym', 99), ('diving48', 48)])
def test_label_map_files(name, count):
    lines = (LABEL_MAPS / f'{name}.txt').read_text(encoding='utf-8').split('\n')
    assert lines[-1] == ''  # one name per line, newline-terminated
    names = lines[:-1]
    assert len(names) == count
    # FineGym's element names repeat once: '(BB) salto backward tucked' is in two sets (flight-salto, dismounts).
    assert len(set(names)) == count - (name == 'gym')
    assert all(n and n == n.strip() for n in names)


def test_ntu60_label_map_is_the_first_60_ntu120_classes_and_feeds_metainfo(split_file):
    ntu120 = (LABEL_MAPS / 'nturgbd_120.txt').read_text(encoding='utf-8').splitlines()
    assert (LABEL_MAPS / 'nturgbd_60.txt').read_text(encoding='utf-8').splitlines() == ntu120[:60]
    assert ntu120[0] == 'drink water' and ntu120[59] == 'walking apart from each other'
    path, _ = split_file
    dataset = PoseDataset(path, pipeline=[], label_map=str(LABEL_MAPS / 'nturgbd_60.txt'))
    assert len(dataset.metainfo['classes']) == 60 and dataset.metainfo['classes'][2] == 'brushing teeth'


# -- one sample through the same checks (what inference_recognizer uses) ---------------------------------------------
def test_validate_annotation_returns_the_layout_and_allows_an_unknown_label():
    from pyskl.datasets import validate_annotation
    assert validate_annotation(make_anno('a', label=-1, num_joints=25, channels=3, with_score=False), 'x') == (25, 3)
    assert validate_annotation(dict(frame_dir='k', label=3, raw_file='part_1.pkl', total_frames=9), 'x') is None


@pytest.mark.parametrize('edit, message', [
    (lambda a: a['keypoint'].__setitem__((0, 1, 2, 0), np.nan), "input: sample 'clip7': 'keypoint' has 1 NaN/inf"),
    (lambda a: a.__setitem__('label', 1.5), "input: sample 'clip7': 'label' must be an integer class index"),
    (lambda a: a.__setitem__('keypoint', a['keypoint'][0]), "input: sample 'clip7': 'keypoint' must be [M, T, V, C]"),
    (lambda a: a.__setitem__('total_frames', 0), "input: sample 'clip7': 'total_frames' is 0"),
])
def test_validate_annotation_names_the_first_problem(edit, message):
    from pyskl.datasets import validate_annotation
    anno = make_anno('clip7')
    edit(anno)
    with pytest.raises(AnnotationError) as info:
        validate_annotation(anno, 'input')
    assert str(info.value).startswith(message), str(info.value)
