"""Kinetics-400's table of contents + kpfiles read through PoseDataset without a server: the keypoint store gives what
the inline compressed form gives, is built once and rebuilt when a kpfile changes, survives pickling and dataloader
workers, and reports bad kpfiles by name."""
import os
import pickle

import numpy as np
import pytest
import torch

from pyskl.datasets import PoseDataset
from pyskl.datasets.kpstore import KeypointStoreError, default_cache_dir
from pyskl.datasets.synthetic import compress_annotation, make_synthetic_dataset, write_compressed_dataset
from pyskl.datasets.transforms import DecompressPose


@pytest.fixture(scope='module')
def synthetic():
    return make_synthetic_dataset('coco2d', num_train=7, num_val=3, seed=5)


@pytest.fixture
def k400_toc(tmp_path, synthetic):
    """The synthetic coco2d samples as a K400 table of contents + 3 kpfiles (relative raw_file paths)."""
    path = tmp_path / 'k400' / 'toc.pkl'
    write_compressed_dataset(synthetic, str(path), num_kpfiles=3)
    return path


@pytest.fixture
def inline_ann(tmp_path, synthetic):
    """The same samples with their compressed skeletons inline (keypoint [N, V, 3] + frame_inds)."""
    path = tmp_path / 'inline.pkl'
    annos = [compress_annotation(ann) for ann in synthetic['annotations']]
    path.write_bytes(pickle.dumps(dict(split=synthetic['split'], annotations=annos)))
    return path


def dense(dataset, index):
    return DecompressPose(squeeze=True)(dataset.get_data_info(index))


@pytest.mark.parametrize('split', ['train', 'val'])
def test_toc_and_inline_give_the_same_dense_skeletons(k400_toc, inline_ann, split):
    kwargs = dict(split=split, box_thr=0.5, valid_ratio=0.0)
    from_store, inline = PoseDataset(str(k400_toc), **kwargs), PoseDataset(str(inline_ann), **kwargs)
    assert len(from_store) == len(inline) > 0
    for i in range(len(inline)):
        info = from_store.get_data_info(i)
        assert info['keypoint'].dtype == np.float16 and info['keypoint'].shape == (len(info['frame_inds']), 17, 3)
        a, b = dense(from_store, i), dense(inline, i)
        assert a['frame_dir'] == b['frame_dir'] and a['total_frames'] == b['total_frames']
        for key in ('keypoint', 'keypoint_score'):
            assert a[key].dtype == np.float16 and np.array_equal(a[key], b[key]), key
        assert 'kpstore_index' not in info


def test_dense_skeletons_are_the_original_ones(k400_toc, synthetic):
    """Round trip: compress + kpfiles + store + DecompressPose gives the annotation's arrays (float16)."""
    dataset = PoseDataset(str(k400_toc), split='train')
    originals = {ann['frame_dir']: ann for ann in synthetic['annotations']}
    for i in range(len(dataset)):
        out = dense(dataset, i)
        ann = originals[out['frame_dir']]
        assert out['total_frames'] == ann['total_frames']
        assert np.array_equal(out['keypoint'], ann['keypoint'].astype(np.float16))
        assert np.array_equal(out['keypoint_score'], ann['keypoint_score'].astype(np.float16))


def test_hand_made_toc(tmp_path):
    """Two samples in one kpfile, an absolute raw_file path; the store hands back exactly the kpfile's rows."""
    first = np.arange(2 * 4 * 3, dtype=np.float16).reshape(2, 4, 3)
    second = -np.arange(3 * 4 * 3, dtype=np.float16).reshape(3, 4, 3)
    kpfile = tmp_path / 'kp' / 'part.pkl'
    kpfile.parent.mkdir()
    kpfile.write_bytes(pickle.dumps({'a': dict(keypoint=first), 'b': dict(keypoint=second), 'other': {}}))
    toc = [dict(frame_dir='b', label=1, total_frames=2, frame_inds=np.array([0, 0, 1]), raw_file=str(kpfile)),
           dict(frame_dir='a', label=0, total_frames=5, frame_inds=np.array([1, 3]), raw_file=str(kpfile))]
    ann = tmp_path / 'toc.pkl'
    ann.write_bytes(pickle.dumps(toc))
    dataset = PoseDataset(str(ann))
    assert np.array_equal(dataset.get_data_info(0)['keypoint'], second)
    assert np.array_equal(dataset.get_data_info(1)['keypoint'], first)
    dataset.get_data_info(1)['keypoint'][:] = 0  # a copy: the store is read-only and unchanged
    assert np.array_equal(dataset.get_data_info(1)['keypoint'], first)
    out = DecompressPose(squeeze=False)(dataset.get_data_info(1))
    assert out['keypoint'].shape == (1, 5, 4, 2) and np.array_equal(out['keypoint'][0, [1, 3]], first[..., :2])


def test_store_is_built_once_beside_the_annotation_and_rebuilt_when_a_kpfile_changes(k400_toc):
    cache = default_cache_dir(str(k400_toc))
    assert cache == str(k400_toc.parent / 'toc.kpstore')
    first = PoseDataset(str(k400_toc), split='train').kpstore.data_file
    assert os.path.dirname(first) == cache and sorted(os.listdir(cache)) == sorted(
        [os.path.basename(first), 'train.index.npz', 'train.lock'])
    built_at = os.stat(first).st_mtime_ns
    assert PoseDataset(str(k400_toc), split='train').kpstore.data_file == first
    assert os.stat(first).st_mtime_ns == built_at  # opened, not rebuilt
    PoseDataset(str(k400_toc), split='val')  # another split, another store beside it
    assert {'train.index.npz', 'val.index.npz'} <= set(os.listdir(cache))

    kpfile = k400_toc.parent / 'toc_kpfiles' / 'part_0.pkl'
    content = pickle.loads(kpfile.read_bytes())
    name = next(iter(content))
    content[name]['keypoint'] = content[name]['keypoint'] + np.float16(1)
    kpfile.write_bytes(pickle.dumps(content))
    os.utime(kpfile, ns=(built_at + 10**9, built_at + 10**9))
    rebuilt = PoseDataset(str(k400_toc), split='train')
    assert rebuilt.kpstore.data_file != first and not os.path.exists(first)  # the stale store is gone
    index = next(i for i in range(len(rebuilt)) if rebuilt.get_data_info(i)['frame_dir'] == name)
    assert np.array_equal(rebuilt.get_data_info(index)['keypoint'], content[name]['keypoint'])


def test_kpstore_dir_and_memcached_arguments(k400_toc, tmp_path):
    """PYSKL's memcached / mc_cfg are accepted (no server runs here); the store may live elsewhere."""
    dataset = PoseDataset(str(k400_toc), split='val', memcached=True, mc_cfg=('localhost', 22077),
                          kpstore_dir=str(tmp_path / 'elsewhere'))
    assert dataset.kpstore.data_file.startswith(str(tmp_path / 'elsewhere'))
    assert dataset.get_data_info(0)['keypoint'].shape[1:] == (17, 3)
    assert not os.path.exists(default_cache_dir(str(k400_toc)))


def test_pickled_dataset_carries_no_skeletons_and_reads_the_same(k400_toc):
    dataset = PoseDataset(str(k400_toc), split='train')
    before = [dataset.get_data_info(i)['keypoint'] for i in range(len(dataset))]
    blob = pickle.dumps(dataset)
    assert len(blob) < os.path.getsize(dataset.kpstore.data_file)
    copy = pickle.loads(blob)
    assert all(np.array_equal(copy.get_data_info(i)['keypoint'], before[i]) for i in range(len(copy)))


def test_dataloader_workers_read_the_store(k400_toc):
    dataset = PoseDataset(str(k400_toc), split='train', pipeline=[dict(type='DecompressPose')])
    expected = {dataset[i]['frame_dir']: dataset[i]['keypoint'] for i in range(len(dataset))}
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=2)
    seen = {sample['frame_dir']: sample['keypoint'] for sample in loader}
    assert seen.keys() == expected.keys()
    assert all(np.array_equal(seen[k], expected[k]) for k in seen)


# ---------------------------------------------------------------------------------------------------------------
# Bad kpfiles: one error naming the kpfile and the sample, and no half-built store

def toc_with(tmp_path, content, frame_inds=(0, 1), raw_file='kp.pkl', frame_dir='clip'):
    (tmp_path / 'kp.pkl').write_bytes(pickle.dumps(content))
    entry = dict(frame_dir=frame_dir, label=0, total_frames=2, raw_file=raw_file)
    if frame_inds is not None:
        entry['frame_inds'] = np.array(frame_inds)
    ann = tmp_path / 'toc.pkl'
    ann.write_bytes(pickle.dumps([entry]))
    return str(ann)


GOOD = np.zeros((2, 17, 3), np.float16)


@pytest.mark.parametrize('content, kwargs, match', [
    ({'clip': dict(keypoint=GOOD)}, dict(raw_file='missing.pkl'),
     r"sample 'clip': kpfile 'missing.pkl' does not exist"),
    ({'other': dict(keypoint=GOOD)}, {}, r"kp.pkl has no entry for sample 'clip' \(it holds 1 samples\)"),
    ({'clip': dict(keypoint=np.zeros((2, 17, 2)))}, {}, r"kp.pkl: sample 'clip': expected .*got \(2, 17, 2\)"),
    ({'clip': np.zeros((2, 17, 3))}, {}, r"kp.pkl: sample 'clip': expected \{'keypoint'"),
    ({'clip': dict(keypoint=GOOD)}, dict(frame_inds=(0, 1, 1)),
     r"kp.pkl: sample 'clip' has 2 skeletons but its 'frame_inds' lists 3"),
    ({'clip': dict(keypoint=GOOD)}, dict(frame_inds=None), r"sample 'clip': a 'raw_file' entry needs 'frame_inds'"),
    ([GOOD], {}, r'kp.pkl must hold a dict'),
])
def test_bad_kpfile_is_reported_by_name(tmp_path, content, kwargs, match):
    ann = toc_with(tmp_path, content, **kwargs)
    with pytest.raises(KeypointStoreError, match=match):
        PoseDataset(ann)
    cache = default_cache_dir(ann)
    assert not os.path.exists(cache) or not [f for f in os.listdir(cache) if f.endswith(('.bin', '.npz'))]


def test_joint_counts_must_agree(tmp_path):
    content = {'a': dict(keypoint=np.zeros((1, 17, 3), np.float16)), 'b': dict(keypoint=np.zeros((1, 25, 3)))}
    (tmp_path / 'kp.pkl').write_bytes(pickle.dumps(content))
    toc = [dict(frame_dir=k, label=0, total_frames=1, frame_inds=np.array([0]), raw_file='kp.pkl') for k in content]
    (tmp_path / 'toc.pkl').write_bytes(pickle.dumps(toc))
    with pytest.raises(KeypointStoreError, match=r"kp.pkl: sample 'b' has V=25 joints, earlier samples have 17"):
        PoseDataset(str(tmp_path / 'toc.pkl'))
