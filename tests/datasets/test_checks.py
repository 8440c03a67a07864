"""Annotation checks: one defect per case on a file written here, reported with its kind and sample; a clean file
passes; the command line's exit status, report and --fix."""
import pickle
import re

import numpy as np
import pytest

from pyskl.datasets.checks import (KINDS, Problem, check_annotation_file, check_annotations, fix_annotations,
                                   fixed_path)
from tests.tools.data_tools import run_data_tool


def sample(name, label, frames=6, persons=1, joints=25, channels=3, score=False, **extra):
    rng = np.random.default_rng(len(str(name)) + label)
    anno = dict(frame_dir=name, label=label, total_frames=frames,
                keypoint=rng.normal(size=(persons, frames, joints, channels)).astype(np.float32))
    if score:
        anno['keypoint_score'] = np.ones((persons, frames, joints), np.float32)
        anno['img_shape'] = anno['original_shape'] = (480, 640)
    anno.update(extra)
    return anno


def clean_content():
    annos = [sample(f'v{i}', i % 3) for i in range(9)]
    return dict(split=dict(train=[f'v{i}' for i in range(6)], val=[f'v{i}' for i in range(6, 9)]), annotations=annos)


def write(tmp_path, content, name='ann.pkl'):
    path = tmp_path / name
    with open(path, 'wb') as f:
        pickle.dump(content, f)
    return path


def anno(content, name):
    return next(a for a in content['annotations'] if a['frame_dir'] == name)


# Each defect: (how to make it, kind, the frame_dir(s) it names, check options).
def set_key(name, key, value):
    def defect(content):
        anno(content, name)[key] = value
    return defect


def drop_key(name, key):
    def defect(content):
        del anno(content, name)[key]
    return defect


def edit_keypoint(name, edit):
    def defect(content):
        a = anno(content, name)
        a['keypoint'] = edit(a['keypoint'])
    return defect


def edit_content(edit):
    def defect(content):
        edit(content)
    return defect


def _nan(kp):
    kp[0, 1, 2, 0] = np.nan
    return kp


def _inf16(kp):
    kp = kp.astype(np.float16)
    kp[0, 0, 0, 1] = np.inf
    return kp


DEFECTS = {
    'not_a_dict': (edit_content(lambda c: c['annotations'].append(['v9'])), 'not_a_dict', ['#9'], {}),
    'missing_label': (drop_key('v1', 'label'), 'missing_key', ['v1'], {}),
    'missing_keypoint': (drop_key('v1', 'keypoint'), 'missing_key', ['v1'], {}),
    'missing_total_frames': (drop_key('v1', 'total_frames'), 'missing_key', ['v1'], {}),
    'frame_dir_not_str': (edit_content(lambda c: c['annotations'].append(sample(7, 0))), 'frame_dir_type', ['#9'],
                          {}),
    'duplicate_frame_dir': (edit_content(lambda c: c['annotations'].append(sample('v2', 2))), 'duplicate_frame_dir',
                            ['v2'], {}),
    'label_float': (set_key('v4', 'label', 1.0), 'label_type', ['v4'], {}),
    'label_str': (set_key('v4', 'label', '1'), 'label_type', ['v4'], {}),
    'label_negative': (set_key('v4', 'label', -1), 'label_negative', ['v4'], {}),
    'label_too_big': (set_key('v4', 'label', 3), 'label_range', ['v4'], dict(num_classes=3)),
    'keypoint_int': (edit_keypoint('v5', lambda kp: kp.astype(np.int32)), 'dtype', ['v5'], {}),
    'keypoint_list': (edit_keypoint('v5', lambda kp: kp.tolist()), 'dtype', ['v5'], {}),
    'score_int': (set_key('v5', 'keypoint_score', np.ones((1, 6, 25), np.int64)), 'dtype', ['v5'], {}),
    'keypoint_rank': (edit_keypoint('v3', lambda kp: kp[0]), 'keypoint_rank', ['v3'], {}),
    'joints_vs_layout': (edit_keypoint('v3', lambda kp: kp[:, :, :17]), 'layout', ['v3'], dict(layout='nturgb+d')),
    'joints_vs_file': (edit_keypoint('v3', lambda kp: kp[:, :, :17]), 'layout', ['v3'], {}),
    'channels_vs_file': (edit_keypoint('v3', lambda kp: kp[..., :2]), 'layout', ['v3'], {}),
    'four_channels': (edit_keypoint('v3', lambda kp: np.concatenate([kp, kp[..., :1]], -1)), 'layout', ['v3'],
                      dict(layout='nturgb+d')),
    'score_shape': (set_key('v6', 'keypoint_score', np.ones((1, 5, 25), np.float32)), 'keypoint_score_shape', ['v6'],
                    {}),
    'nan': (edit_keypoint('v7', _nan), 'non_finite', ['v7'], {}),
    'inf_float16': (edit_keypoint('v7', _inf16), 'non_finite', ['v7'], {}),
    'score_nan': (set_key('v7', 'keypoint_score', np.full((1, 6, 25), np.nan, np.float32)), 'non_finite', ['v7'],
                  {}),
    'total_frames_mismatch': (set_key('v8', 'total_frames', 7), 'total_frames', ['v8'], {}),
    'total_frames_zero': (set_key('v8', 'total_frames', 0), 'total_frames', ['v8'], {}),
    'total_frames_float': (set_key('v8', 'total_frames', 6.0), 'total_frames', ['v8'], {}),
    'no_person': (edit_keypoint('v8', lambda kp: kp[:0]), 'empty_keypoint', ['v8'], {}),
    'img_shape': (set_key('v8', 'img_shape', (480, )), 'img_shape', ['v8'], {}),
    'split_reference': (edit_content(lambda c: c['split']['val'].append('ghost')), 'split_reference', ['ghost'], {}),
    'empty_split': (edit_content(lambda c: c['split'].update(test=[])), 'empty_split', [], {}),
    'split_not_list': (edit_content(lambda c: c['split'].update(test='v1')), 'split_type', [], {}),
    'split_overlap': (edit_content(lambda c: c['split']['val'].append('v0')), 'split_overlap', ['v0'], {}),
    'label_gap': (edit_content(lambda c: [a.update(label=0) for a in c['annotations'] if a['label'] == 1]),
                  'label_gap', [], {}),
    'label_gap_at_the_end': (lambda c: None, 'label_gap', [], dict(num_classes=4)),
}


def test_every_kind_has_a_case():
    assert {case[1] for case in DEFECTS.values()} == set(KINDS) - {'file_type', 'missing_annotations'}


def test_clean_file_passes(tmp_path):
    _, report = check_annotation_file(str(write(tmp_path, clean_content())), layout='nturgb+d', num_classes=3)
    assert report.ok and report.num_samples == 9, report.summary()
    assert report.class_counts == {'all': {0: 3, 1: 3, 2: 3}, 'train': {0: 2, 1: 2, 2: 2}, 'val': {0: 1, 1: 1, 2: 1}}


def test_clean_2d_file_with_scores_passes():
    annos = [sample(f'v{i}', i % 2, joints=17, channels=2, score=True) for i in range(4)]
    assert check_annotations(annos, layout='coco').ok


@pytest.mark.parametrize('case', sorted(DEFECTS))
def test_each_defect_is_reported_with_its_kind_and_sample(tmp_path, case):
    make, kind, names, options = DEFECTS[case]
    content = clean_content()
    make(content)
    _, report = check_annotation_file(str(write(tmp_path, content)), **options)
    assert {p.kind for p in report.problems} == {kind}, report.summary()
    assert sorted(n for p in report.problems for n in p.frame_dirs) == names
    assert all(isinstance(p, Problem) and p.message for p in report.problems)
    assert bool(report.errors) == (kind not in ('label_gap', 'split_overlap'))


def test_file_level_problems():
    assert [p.kind for p in check_annotations(np.zeros(3)).problems] == ['file_type']
    assert [p.kind for p in check_annotations(dict(split={})).problems] == ['missing_annotations']
    assert [p.kind for p in check_annotations(dict(annotations={'a': 1})).problems] == ['missing_annotations']


def test_all_problems_are_reported_not_only_the_first():
    content = clean_content()
    for make in ('nan', 'label_negative', 'split_reference', 'total_frames_mismatch', 'keypoint_rank'):
        DEFECTS[make][0](content)
    content['annotations'][0]['keypoint'][0, 0, 0, 0] = np.inf
    report = check_annotations(content)
    kinds = report.by_kind()
    assert set(kinds) == {'non_finite', 'label_negative', 'split_reference', 'total_frames', 'keypoint_rank'}
    assert [p.frame_dirs[0] for p in kinds['non_finite']] == ['v0', 'v7']
    assert report.errors == report.problems  # none of these may be intended
    summary = report.summary(max_examples=1)
    assert 'non_finite (2)' in summary and '... and 1 more' in summary and 'v0:' in summary


def test_fix_drops_bad_samples_references_and_empty_splits():
    content = clean_content()
    content['split']['test'] = ['v8']
    for make in ('nan', 'duplicate_frame_dir', 'split_reference', 'total_frames_mismatch'):
        DEFECTS[make][0](content)
    report = check_annotations(content)
    cleaned, dropped = fix_annotations(content, report)
    assert dropped == {'duplicate_frame_dir': ['v2 (#9)'], 'non_finite': ['v7'], 'total_frames': ['v8'],
                       'split_reference': ['val: v7', 'val: v8', 'val: ghost', 'test: v8'], 'empty_split': ['test']}
    assert [a['frame_dir'] for a in cleaned['annotations']] == [f'v{i}' for i in range(7) if i != 7]
    assert cleaned['split'] == dict(train=[f'v{i}' for i in range(6)], val=['v6'])
    assert check_annotations(cleaned).ok
    assert len(content['annotations']) == 10  # the input is left as it was


def test_fix_refuses_an_unreadable_structure():
    report = check_annotations(dict(split={}))
    with pytest.raises(ValueError, match='cannot be fixed'):
        fix_annotations(dict(split={}), report)


def test_balance_table():
    report = check_annotations(clean_content(), num_classes=4)
    lines = report.balance_table().splitlines()
    assert lines[0].split() == ['class', 'all', 'train', 'val']
    assert lines[1].split() == ['0', '3', '2', '1'] and lines[4].split() == ['3', '0', '0', '0']
    assert lines[-2].split() == ['min', '0', '0', '0'] and lines[-1].split() == ['max', '3', '2', '1']


# -- the command line ---------------------------------------------------------------------------------------------
def test_cli_clean_file_exits_0(tmp_path, capsys):
    path = write(tmp_path, clean_content())
    status, out, _ = run_data_tool(capsys, 'check_annotation', path, '--layout', 'nturgb+d', '--num-classes', 3)
    assert status == 0 and 'no problem found (9 samples)' in out and 'samples per class' in out


def test_cli_reports_fixes_and_never_touches_the_input(tmp_path, capsys):
    content = clean_content()
    for make in ('nan', 'label_too_big', 'split_reference'):
        DEFECTS[make][0](content)
    path = write(tmp_path, content)
    before = path.read_bytes()
    label_map = tmp_path / 'classes.txt'
    label_map.write_text('a\nb\nc\n')
    status, out, _ = run_data_tool(capsys, 'check_annotation', path, '--label-map', label_map, '--fix')
    assert status == 1
    assert re.search(r'non_finite \(1\).*\n.*v7:', out) and re.search(r'label_range \(1\).*\n.*v4:', out)
    assert "split 'val': no annotation has frame_dir 'ghost'" in out
    fixed = fixed_path(str(path))
    assert fixed.endswith('ann.fixed.pkl') and f'wrote {fixed}' in out
    assert 'dropped for non_finite (1): v7' in out and 'dropped for label_range (1): v4' in out
    assert path.read_bytes() == before
    status, out, _ = run_data_tool(capsys, 'check_annotation', fixed, '--label-map', label_map)
    assert status == 0 and 'no problem found (7 samples)' in out


def test_cli_custom_layout_and_unreadable_file(tmp_path, capsys):
    annos = [sample(f'v{i}', 0, joints=4) for i in range(2)]
    path = write(tmp_path, annos)
    layout = '{"num_node": 4, "inward": [[1, 0], [2, 1], [3, 1]], "center": 0}'
    assert run_data_tool(capsys, 'check_annotation', path, '--layout', layout)[0] == 0
    status, out, _ = run_data_tool(capsys, 'check_annotation', path, '--layout', 'coco')
    assert status == 1 and "layout 'coco' has 17" in out
    bad = tmp_path / 'bad.pkl'
    bad.write_bytes(b'not a pickle')
    status, _, err = run_data_tool(capsys, 'check_annotation', bad)
    assert status == 1 and 'not a readable annotation pickle' in err
