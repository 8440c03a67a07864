"""NTU RGB+D .skeleton files -> PYSKL's 3D annotation files, on files written here in the official format.

The bodies are made so that each step of PYSKL's selection changes the result: a short body with the most motion
(dropped by the length rule), a spread body (dropped by the spread rule), a partly spread body whose motion falls
below another's, bodies placed in two slots by their time spans (one dropped by PYSKL's slot-1 span rule), leading
frames that only a dropped body fills (trimmed), and a slot swap. The expected arrays are put together by hand.
"""
import os
import pickle
import re

import numpy as np
import pytest

from pyskl.datasets.ntu_raw import (SkeletonFileError, convert_ntu_skeletons, ntu_splits, read_name_list,
                                    read_skeleton_file, skeleton_annotation)
from tests.conftest import REPO_ROOT
from tests.tools.data_tools import run_data_tool

# An upright skeleton: 25 joints spread 0.4 m wide and 1.6 m tall (x-extent <= 0.8 * y-extent).
_J = np.arange(25, dtype=np.float32)
UPRIGHT = np.stack([0.4 * (_J % 5) / 4 - 0.2, 1.6 * _J / 24, 3 + 0.01 * _J], -1).astype(np.float32)
SPREAD = np.stack([2.0 * (_J % 5) / 4 - 1.0, 0.5 * _J / 24, 3 + 0.01 * _J], -1).astype(np.float32)


def body(num_frames, amplitude, shape=UPRIGHT, shift=0.0):
    """[t, 25, 3] float32: ``shape`` moved sideways by a sine of the given amplitude."""
    t = np.arange(num_frames, dtype=np.float32)
    offset = np.stack([shift + amplitude * np.sin(t), 0 * t, 0 * t], -1)[:, None]
    return (shape[None] + offset).astype(np.float32)


def motion(keypoint):
    return np.var(keypoint.reshape(-1, 3), axis=0).sum()


def write_skeleton(path, frames):
    """``frames``: per frame a list of (body_id, joints [25, 3]); written as the official .skeleton text."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for body_id, joints in bodies:
            lines.append(f'{body_id} 0 1 1 1 1 0 -0.01 0.02 2')
            lines.append('25')
            for j, (x, y, z) in enumerate(joints):
                state = (1, 2)[j % 2]  # tracking states: inferred / tracked
                lines.append(f'{float(x)!r} {float(y)!r} {float(z)!r} 250.1 180.2 900.3 540.4 0.1 0.2 0.3 0.4 {state}')
    path.write_text('\n'.join(lines) + '\n')


def timeline(length, *placed):
    """Frames 0..length-1 with the bodies (id, start, [t, 25, 3]) present in each."""
    frames = [[] for _ in range(length)]
    for body_id, start, keypoint in placed:
        for i, joints in enumerate(keypoint):
            frames[start + i].append((body_id, joints))
    return frames


# --- the samples -------------------------------------------------------------------------------------------------
def one_body_with_empty_frame(tmp):
    """One body over 5 frames with an empty frame between: frames without bodies are not on the time line."""
    a = body(4, 0.3)
    frames = [[(7, a[0])], [(7, a[1])], [], [(7, a[2])], [(7, a[3])]]
    write_skeleton(tmp / 'S001C001P001R001A001.skeleton', frames)
    return a[None]


def short_and_spread_bodies(tmp):
    """U upright; W spread all the time, more motion; S most motion but only 11 frames. Only U is left."""
    u, w, s = body(20, 0.1), body(20, 0.3, SPREAD), body(11, 2.0, shift=1.0)
    assert motion(s) > motion(w) > motion(u)
    write_skeleton(tmp / 'S002C002P003R002A061.skeleton', timeline(20, (1, 0, w), (2, 0, u), (3, 4, s)))
    return u[None]


def swapped_slots(tmp):
    """A (more motion) from frame 3, B from frame 0, overlapping: A -> slot 0, B -> slot 1, then swapped because
    only slot 1 has somebody in the first frame."""
    a, b = body(13, 0.5), body(15, 0.1)
    assert motion(a) > motion(b)
    write_skeleton(tmp / 'S001C002P002R001A002.skeleton', timeline(16, (10, 3, a), (11, 0, b)))
    expected = np.zeros((2, 16, 25, 3), np.float32)
    expected[0, 0:15], expected[1, 3:16] = b, a
    return expected


def greedy_slots(tmp):
    """A 4..15 and B 18..31 share slot 0; C 16..39 takes slot 1, whose span then counts from frame 0, so D (0..13)
    fits neither and is dropped; frames 0..3 (only D) are cut. An empty frame between 15 and 16 does not count."""
    a, b, c, d = body(12, 1.0), body(14, 0.7), body(24, 0.4), body(14, 0.1)
    assert motion(a) > motion(b) > motion(c) > motion(d)
    frames = timeline(40, (4, 0, d), (1, 4, a), (2, 18, b), (3, 16, c))
    write_skeleton(tmp / 'S003C003P003R001A003.skeleton', frames[:16] + [[]] + frames[16:])
    expected = np.zeros((2, 36, 25, 3), np.float32)
    expected[0, 0:12], expected[0, 14:28], expected[1, 12:36] = a, b, c
    return expected


def partly_spread(tmp):
    """P: spread in 6 of 12 frames (kept: 50 % < 69.754 %); its motion over its upright frames is below Q's, so Q
    takes slot 0 although P moves more overall."""
    p = np.concatenate([body(6, 0.2, SPREAD), body(6, 0.0)])
    q = body(12, 0.15)
    assert motion(p) > motion(q) > motion(p[6:])
    write_skeleton(tmp / 'S004C001P005R002A004.skeleton', timeline(12, (1, 0, p), (2, 0, q)))
    return np.stack([q, p])


def write_dataset(tmp):
    expected = {
        'S001C001P001R001A001': one_body_with_empty_frame(tmp),
        'S001C002P002R001A002': swapped_slots(tmp),
        'S002C002P003R002A061': short_and_spread_bodies(tmp),
        'S003C003P003R001A003': greedy_slots(tmp),
        'S004C001P005R002A004': partly_spread(tmp),
    }
    write_skeleton(tmp / 'S005C003P006R001A005.skeleton', [[], [], []])  # no body at all
    write_skeleton(tmp / 'S001C002P005R002A008.skeleton', timeline(12, (1, 0, body(12, 0.1))))  # on the missing list
    return expected


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ntu')
    skeletons = tmp / 'nturgb+d_skeletons'
    skeletons.mkdir()
    expected = write_dataset(skeletons)
    result = convert_ntu_skeletons(str(skeletons), str(tmp / 'out'), missing=['S001C002P005R002A008'],
                                   cache_dir=str(tmp / 'cache'), progress=False)
    return tmp, expected, result


def load(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def test_every_sample_is_the_hand_built_array(converted):
    _, expected, result = converted
    ntu120 = load(result.written['ntu120'])
    assert [a['frame_dir'] for a in ntu120['annotations']] == sorted(expected)
    for anno in ntu120['annotations']:
        assert set(anno) == {'frame_dir', 'label', 'keypoint', 'total_frames'}
        want = expected[anno['frame_dir']].astype(np.float16)
        assert anno['keypoint'].dtype == np.float16 and anno['keypoint'].shape == want.shape, anno['frame_dir']
        np.testing.assert_array_equal(anno['keypoint'], want, err_msg=anno['frame_dir'])
        assert anno['total_frames'] == want.shape[1]
        assert anno['label'] == int(anno['frame_dir'][-3:]) - 1


def test_files_splits_and_left_out_samples(converted):
    _, _, result = converted
    assert result.skipped_missing == ['S001C002P005R002A008']
    assert result.empty == ['S005C003P006R001A005']  # PYSKL kept a None entry for it
    assert result.num_samples == dict(ntu120=5, ntu60=4)
    ntu60, ntu120 = load(result.written['ntu60']), load(result.written['ntu120'])
    assert ntu60['split'] == dict(
        xsub_train=['S001C001P001R001A001', 'S001C002P002R001A002', 'S004C001P005R002A004'],
        xsub_val=['S003C003P003R001A003'],
        xview_train=['S001C002P002R001A002', 'S003C003P003R001A003'],
        xview_val=['S001C001P001R001A001', 'S004C001P005R002A004'])
    assert ntu120['split'] == dict(
        xsub_train=['S001C001P001R001A001', 'S001C002P002R001A002', 'S004C001P005R002A004'],
        xsub_val=['S002C002P003R002A061', 'S003C003P003R001A003'],
        xset_train=['S002C002P003R002A061', 'S004C001P005R002A004'],
        xset_val=['S001C001P001R001A001', 'S001C002P002R001A002', 'S003C003P003R001A003'])
    assert [a['frame_dir'] for a in ntu60['annotations']] == ntu60['split']['xsub_train'][:2] + [
        'S003C003P003R001A003', 'S004C001P005R002A004']


def test_only_ntu60_file_without_actions_above_60(tmp_path):
    write_skeleton(tmp_path / 'S001C001P001R001A001.skeleton', timeline(3, (1, 0, body(3, 0.1))))
    result = convert_ntu_skeletons(str(tmp_path), str(tmp_path / 'out'), progress=False)
    assert list(result.written) == ['ntu60'] and not (tmp_path / 'out' / 'ntu120_3danno.pkl').exists()


def test_rerun_reads_the_cache_and_reparses_changed_files(converted):
    tmp, expected, _ = converted
    name = 'S001C001P001R001A001'
    cache_file = tmp / 'cache' / f'{name}.pkl'
    cached = load(cache_file)
    cached['annotation']['label'] = 99  # only a run that reads the cache can produce this label
    cache_file.write_bytes(pickle.dumps(cached))
    rerun = convert_ntu_skeletons(str(tmp / 'nturgb+d_skeletons'), str(tmp / 'out2'), missing=['S001C002P005R002A008'],
                                  cache_dir=str(tmp / 'cache'), progress=False)
    assert load(rerun.written['ntu60'])['annotations'][0]['label'] == 99
    source = tmp / 'nturgb+d_skeletons' / f'{name}.skeleton'
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the file changed: parsed again
    again = convert_ntu_skeletons(str(tmp / 'nturgb+d_skeletons'), str(tmp / 'out3'),
                                  missing=['S001C002P005R002A008'], cache_dir=str(tmp / 'cache'), progress=False)
    assert load(again.written['ntu60'])['annotations'][0]['label'] == 0


def test_two_worker_processes_give_the_same_files(converted, tmp_path):
    tmp, _, result = converted
    parallel = convert_ntu_skeletons(str(tmp / 'nturgb+d_skeletons'), str(tmp_path), missing=['S001C002P005R002A008'],
                                     num_workers=2, progress=False)
    for benchmark, path in result.written.items():
        a, b = load(path), load(parallel.written[benchmark])
        assert a['split'] == b['split']
        for x, y in zip(a['annotations'], b['annotations']):
            assert x['frame_dir'] == y['frame_dir']
            np.testing.assert_array_equal(x['keypoint'], y['keypoint'])


@pytest.mark.parametrize('line, replacement, message', [
    (3, '72057594037931101', 'expected the number of joints'),  # the joint count line replaced by garbage
    (4, '24', 'a body must have 25 joints, got 24'),
    (7, '0.1 0.2 oops 1 2 3', 'joint x, y, z must be numbers'),
    (7, '0.1 0.2', 'needs at least x, y, z'),
])
def test_malformed_file_names_the_file_and_the_line(tmp_path, line, replacement, message):
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    write_skeleton(path, timeline(2, (1, 0, body(2, 0.1))))
    lines = path.read_text().splitlines()
    if line == 3:
        lines[3] = 'x'
        line = 4
    else:
        lines[line - 1] = replacement
    path.write_text('\n'.join(lines) + '\n')
    with pytest.raises(SkeletonFileError, match=f'{path}: line {line}: .*{message}'):
        read_skeleton_file(str(path))


def test_truncated_and_overlong_files(tmp_path):
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    write_skeleton(path, timeline(2, (1, 0, body(2, 0.1))))
    text = path.read_text().splitlines()
    path.write_text('\n'.join(text[:20]) + '\n')
    with pytest.raises(SkeletonFileError, match='end of file: file ends inside a body'):
        read_skeleton_file(str(path))
    path.write_text('\n'.join(text + ['0', '7']) + '\n')
    with pytest.raises(SkeletonFileError, match=f'line {len(text) + 1}: unexpected content after the 2 frames'):
        read_skeleton_file(str(path))


def test_a_malformed_file_stops_the_run_or_is_skipped(tmp_path):
    good, bad = tmp_path / 'S001C001P001R001A001.skeleton', tmp_path / 'S001C001P001R001A002.skeleton'
    write_skeleton(good, timeline(3, (1, 0, body(3, 0.1))))
    bad.write_text('2\n1\n')
    with pytest.raises(SkeletonFileError, match=f'(?s)1 malformed .skeleton file.*{bad}: end of file'):
        convert_ntu_skeletons(str(tmp_path), str(tmp_path / 'out'), progress=False)
    assert not (tmp_path / 'out').exists()
    result = convert_ntu_skeletons(str(tmp_path), str(tmp_path / 'out'), skip_bad=True, progress=False)
    assert len(result.errors) == 1 and str(bad) in result.errors[0] and result.num_samples == dict(ntu60=1)


def test_stray_file_name_fails_before_parsing(tmp_path):
    (tmp_path / 'notes.skeleton').write_text('1\n0\n')
    with pytest.raises(ValueError, match=re.escape("'notes' is not an NTU RGB+D sample name")):
        convert_ntu_skeletons(str(tmp_path), str(tmp_path / 'out'), progress=False)


def test_splits_follow_pyskl_rules():
    names = ['S001C001P001R001A001', 'S002C002P003R001A001', 'S017C003P103R002A060']
    assert ntu_splits(names, 'ntu60') == dict(xsub_train=[names[0], names[2]], xsub_val=[names[1]],
                                              xview_train=names[1:], xview_val=[names[0]])
    assert ntu_splits(names, 'ntu120')['xset_train'] == [names[1]]


def test_shipped_missing_list():
    names = read_name_list(str(REPO_ROOT / 'tools' / 'data' / 'ntu120_missing.txt'))
    actions = [int(name[-3:]) for name in names]
    assert len(set(names)) == len(names) == 535
    assert sum(a <= 60 for a in actions) == 302 and sum(a > 60 for a in actions) == 233


def test_skeleton_annotation_of_one_file(tmp_path):
    path = tmp_path / 'S001C001P001R001A007.skeleton'
    write_skeleton(path, timeline(3, (1, 0, body(3, 0.1))))
    anno = skeleton_annotation(str(path))
    assert anno['frame_dir'] == 'S001C001P001R001A007' and anno['label'] == 6
    assert anno['keypoint'].shape == (1, 3, 25, 3) and anno['keypoint'].dtype == np.float16


def test_command_line_uses_the_shipped_missing_list(converted, tmp_path, capsys):
    tmp, expected, _ = converted
    status, out, _ = run_data_tool(capsys, 'ntu_preproc', tmp / 'nturgb+d_skeletons', '--out-dir', tmp_path,
                                   '--workers', 1, '--keep-cache')
    assert status == 0 and '1 on the missing list, 1 without any body' in out
    assert f'wrote {tmp_path}/ntu120_3danno.pkl: 5 samples' in out and f'wrote {tmp_path}/ntu60_3danno.pkl: 4' in out
    assert (tmp_path / '.ntu_skeleton_cache' / 'S001C001P001R001A001.pkl').exists()
    status, _, _ = run_data_tool(capsys, 'ntu_preproc', tmp / 'nturgb+d_skeletons', '--out-dir', tmp_path,
                                 '--workers', 1)
    assert status == 0
    assert not (tmp_path / '.ntu_skeleton_cache').exists()  # removed once the files are written
    status, _, err = run_data_tool(capsys, 'ntu_preproc', tmp_path / 'absent', '--out-dir', tmp_path)
    assert status == 1 and 'does not exist' in err
