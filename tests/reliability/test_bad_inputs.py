"""The bad-input suite: every kind of broken input, through tools/train.py, tools/test.py and the API.

Each one must end with exit status 2 (an exception from the API) and one line, ``error: <message>``, naming the file,
the sample (``frame_dir``) or key, and what is wrong, with no traceback on the console; nothing may be written (no
checkpoint, no ``--out``), and a bad training sample must be refused before the first iteration. The tools run in
this process through their ``__main__`` wrapper (``run_tool``); ``test_the_console_shows_one_line_*`` check real
processes.
"""
import copy
import itertools
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from pyskl.apis import runner as runner_api
from pyskl.datasets import AnnotationError, PoseDataset
from pyskl.utils import CheckpointError
from pyskl.utils.errors import ConfigError, UserError
from tests.tools.helpers import bash_tool, tool_env

from .helpers import REPO, last_line, run_tool_here, tiny_with_checkpoint, write_pickle


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return tiny_with_checkpoint(tmp_path_factory.mktemp('bad_inputs'))


_RUNS = itertools.count()


def config_for(tiny, ann_file, name, edit=lambda text: text, folder=None):
    """A copy of the tiny config reading ``ann_file``, under a name no other run has used: mmengine names its logger
    and visualizer after the config file and the second, and reuses the ones of an earlier run of that name."""
    tmp, cfg_file, _, _ = tiny
    cfg = (folder or ann_file.parent) / f'{name}_{next(_RUNS)}_config.py'
    cfg.write_text(edit(cfg_file.read_text().replace(str(tmp / 'tiny.pkl'), str(ann_file))))
    return cfg


def fresh_config(tiny, tmp_path, name='tiny'):
    """The tiny config itself, under a fresh name."""
    return config_for(tiny, tiny[0] / 'tiny.pkl', name, folder=tmp_path)


# -- the broken annotations ------------------------------------------------------------------------------------------
# Each case gets a deep copy of the tiny data and the split to break; it returns what to write (the data, or bytes)
# and the fragments the error must contain ('{name}' stands for the broken sample's frame_dir).
def _first(data, split):
    name = data['split'][split][0]
    return next(a for a in data['annotations'] if a['frame_dir'] == name)


def truncated_pickle(data, split):
    return pickle.dumps(data)[:300], ['not a readable annotation pickle', 'truncated']


def text_file(data, split):
    return b'frame_dir,label\nclip,1\n', ['not a readable annotation pickle']


def wrong_top_level_type(data, split):
    return 42, ['expected dict(split=..., annotations=[...])', 'got int']


def list_of_non_dicts(data, split):
    return [1, 2, 3], ['a list of annotation dicts, got a list of int']


def missing_annotations(data, split):
    return dict(split=data['split']), ["needs an 'annotations' list, found none", "keys: ['split']"]


def unknown_split(data, split):
    data['split'] = {f'xsub_{name}': names for name, names in data['split'].items()}
    return data, [f"split '{split}' is not in the file", "available splits: ['xsub_train', 'xsub_val']"]


def empty_split(data, split):
    data['split'][split] = []
    return data, [f"split '{split}' selects no samples: none of its 0 names matches a 'frame_dir'"]


def split_names_absent_frame_dir(data, split):
    data['split'][split].append('ghost_clip')
    return data, [f"split '{split}': no annotation has frame_dir 'ghost_clip'"]


def duplicate_frame_dir(data, split):
    data['annotations'].append(copy.deepcopy(_first(data, split)))
    return data, ["sample '{name}'", 'also annotation #', f"this one is #{len(data['annotations']) - 1}"]


def keypoint_of_wrong_rank(data, split):
    anno = _first(data, split)
    anno['keypoint'] = anno['keypoint'][0]
    return data, ["sample '{name}'", "'keypoint' must be [M, T, V, C], got shape"]


def nan_keypoint(data, split):
    _first(data, split)['keypoint'][0, 1, 2, 0] = np.nan
    return data, ["sample '{name}'", "'keypoint' has 1 NaN/inf value(s)"]


def inf_keypoint(data, split):
    _first(data, split)['keypoint'][0, 0, 0, 1] = np.inf
    return data, ["sample '{name}'", "'keypoint' has 1 NaN/inf value(s)"]


def negative_label(data, split):
    _first(data, split)['label'] = -1
    return data, ["sample '{name}'", "'label' is -1"]


def float_label(data, split):
    _first(data, split)['label'] = 1.0
    return data, ["sample '{name}'", "'label' must be an integer class index, got 1.0"]


def too_large_label(data, split):  # no label map: the bound is the model's cls_head.num_classes = 3
    _first(data, split)['label'] = 999
    return data, ["sample '{name}'", "'label' is 999, but there are 3 classes (0..2) in the model"]


def total_frames_zero(data, split):
    _first(data, split)['total_frames'] = 0
    return data, ["sample '{name}'", "'total_frames' is 0"]


def total_frames_disagreeing(data, split):
    anno = _first(data, split)
    anno['total_frames'] += 3
    return data, ["sample '{name}'", f"'total_frames' is {anno['total_frames']} but 'keypoint' has "
                  f"{anno['total_frames'] - 3} frames"]


def empty_keypoint(data, split):
    anno = _first(data, split)
    anno['keypoint'], anno['total_frames'] = anno['keypoint'][:, :0], 0
    return data, ["sample '{name}'", "'keypoint' is empty, shape (1, 0, 25, 3)"]


def joints_disagreeing_with_layout(data, split):  # every sample has 17 joints: consistent, not the model's 25
    for anno in data['annotations']:
        anno['keypoint'] = np.ascontiguousarray(anno['keypoint'][:, :, :17])
    return data, ['V=17 joints', '(samples: {name})', "expects V=25 (graph layout 'nturgb+d')"]


def channels_disagreeing_with_layout(data, split):  # 2D skeletons for a model of 3D ones
    for anno in data['annotations']:
        anno['keypoint'] = np.ascontiguousarray(anno['keypoint'][..., :2])
    return data, ['C=2 channels', '(samples: {name})', 'C=3 (in_channels)']


def one_sample_with_other_joints(data, split):
    anno = _first(data, split)
    anno['keypoint'] = np.ascontiguousarray(anno['keypoint'][:, :, :17])
    return data, ["sample '{name}'", "'keypoint' has V=17 joints; most samples of the file have V=25"]


CASES = [truncated_pickle, text_file, wrong_top_level_type, list_of_non_dicts, missing_annotations, unknown_split,
         empty_split, split_names_absent_frame_dir, duplicate_frame_dir, keypoint_of_wrong_rank, nan_keypoint,
         inf_keypoint, negative_label, float_label, too_large_label, total_frames_zero, total_frames_disagreeing,
         empty_keypoint, joints_disagreeing_with_layout, channels_disagreeing_with_layout, one_sample_with_other_joints]
# Consistent files whose skeletons only the model refuses (InputCheckHook, before the first iteration).
MODEL_LEVEL = {joints_disagreeing_with_layout, channels_disagreeing_with_layout}


def broken_file(tiny, tmp_path, case, split):
    """Write the broken annotation; return its path and the fragments its error must contain."""
    data = copy.deepcopy(tiny[3])
    name = data['split'][split][0]
    content, fragments = case(data, split)
    path = tmp_path / f'{case.__name__}.pkl'
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        write_pickle(path, content)
    return path, [f.replace('{name}', name) for f in fragments]


def assert_one_line_error(status, out, err, ann_file, fragments):
    line = last_line(err)
    assert status == 2, (status, err[-2000:])
    assert line.startswith('error: ') and str(ann_file) in line, line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert 'Traceback' not in err and 'Traceback' not in out


@pytest.mark.parametrize('case', CASES, ids=lambda c: c.__name__)
def test_train_tool_refuses_before_the_first_iteration(tiny, tmp_path, case, capsys):
    ann_file, fragments = broken_file(tiny, tmp_path, case, 'train')
    work = tmp_path / 'work'
    status, out, err = run_tool_here('train.py', config_for(tiny, ann_file, case.__name__), '--work-dir', work,
                                     capsys=capsys)
    assert_one_line_error(status, out, err, ann_file, fragments)
    assert 'Epoch(train)' not in out and not list(work.rglob('*.pth'))


@pytest.mark.parametrize('case', CASES, ids=lambda c: c.__name__)
def test_test_tool_refuses_and_writes_nothing(tiny, tmp_path, case, capsys):
    ann_file, fragments = broken_file(tiny, tmp_path, case, 'val')
    out_file = tmp_path / 'result.pkl'
    status, out, err = run_tool_here('test.py', config_for(tiny, ann_file, case.__name__), tiny[2], '--out', out_file,
                                     '--work-dir', tmp_path / 'work', capsys=capsys)
    assert_one_line_error(status, out, err, ann_file, fragments)
    assert not out_file.exists() and not list(tmp_path.glob('result*')) and not list(tmp_path.rglob('*confusion*'))


@pytest.mark.parametrize('case', [c for c in CASES if c not in MODEL_LEVEL], ids=lambda c: c.__name__)
def test_the_dataset_api_raises_the_same_error(tiny, tmp_path, case):
    ann_file, fragments = broken_file(tiny, tmp_path, case, 'train')
    with pytest.raises(AnnotationError) as info:
        PoseDataset(str(ann_file), split='train', num_classes=3)
    message = str(info.value)
    assert str(ann_file) in message and all(f in message for f in fragments), message


@pytest.mark.parametrize('case', sorted(MODEL_LEVEL, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_the_runner_api_raises_the_model_level_errors(tiny, tmp_path, case):
    ann_file, fragments = broken_file(tiny, tmp_path, case, 'train')
    cfg = runner_api.train_config(str(config_for(tiny, ann_file, f'api_{case.__name__}')),
                                  work_dir=str(tmp_path / 'work'))
    with pytest.raises(AnnotationError) as info:
        runner_api.train(cfg)
    assert str(ann_file) in str(info.value) and all(f in str(info.value) for f in fragments)


@pytest.mark.parametrize('tool', ['train.py', 'test.py'])
def test_a_missing_annotation_file(tiny, tmp_path, tool, capsys):
    missing = tmp_path / 'nowhere.pkl'
    args = [config_for(tiny, missing, 'missing')] + ([tiny[2]] if tool == 'test.py' else [])
    status, out, err = run_tool_here(tool, *args, '--work-dir', tmp_path / 'w', capsys=capsys)
    assert_one_line_error(status, out, err, missing, ['does not exist'])


def test_a_split_chosen_on_the_command_line_that_is_not_in_the_file(tiny, tmp_path, capsys):
    out_file = tmp_path / 'result.pkl'
    status, out, err = run_tool_here('test.py', fresh_config(tiny, tmp_path), tiny[2], '--out', out_file,
                                     '--work-dir', tmp_path / 'w', '--cfg-options',
                                     'test_dataloader.dataset.split=xsub_val', capsys=capsys)
    assert_one_line_error(status, out, err, tiny[0] / 'tiny.pkl',
                          ["split 'xsub_val' is not in the file", "available splits: ['train', 'val']"])
    assert not out_file.exists()


# -- skip_invalid ----------------------------------------------------------------------------------------------------
def test_skip_invalid_drops_the_bad_samples_with_one_warning_listing_them(tiny, tmp_path):
    from mmengine.logging import MMLogger
    data = copy.deepcopy(tiny[3])
    train_names = data['split']['train']
    annos = {a['frame_dir']: a for a in data['annotations']}
    annos[train_names[0]]['label'] = -1
    annos[train_names[1]]['keypoint'][0, 0, 0, 0] = np.nan
    data['split']['train'].append('ghost_clip')
    ann_file = write_pickle(tmp_path / 'some_bad.pkl', data)
    records = []
    logger = MMLogger.get_current_instance()
    handler = type('Keep', (__import__('logging').Handler, ), {'emit': lambda self, r: records.append(r)})()
    logger.addHandler(handler)
    try:
        dataset = PoseDataset(str(ann_file), split='train', skip_invalid=True)
    finally:
        logger.removeHandler(handler)
    kept = [dataset.get_data_info(i)['frame_dir'] for i in range(len(dataset))]
    assert kept == train_names[2:-1]  # file order, without the two bad ones ('ghost_clip' names no sample)
    warnings = [r.getMessage() for r in records if r.levelname == 'WARNING']
    assert len(warnings) == 1, warnings
    for fragment in (str(ann_file), 'dropped 2 of 12 samples', f'label_negative: {train_names[0]}',
                     f'non_finite: {train_names[1]}', 'train: ghost_clip'):
        assert fragment in warnings[0], (fragment, warnings[0])


def test_skip_invalid_still_refuses_a_file_it_cannot_read(tmp_path):
    broken = tmp_path / 'broken.pkl'
    broken.write_bytes(b'not a pickle')
    with pytest.raises(AnnotationError, match='not a readable annotation pickle'):
        PoseDataset(str(broken), skip_invalid=True)


def test_more_problems_than_shown_are_counted_and_point_to_the_checker(tiny, tmp_path):
    data = copy.deepcopy(tiny[3])
    for anno in data['annotations'][:5]:
        anno['label'] = -2
    ann_file = write_pickle(tmp_path / 'many.pkl', data)
    with pytest.raises(AnnotationError) as info:
        PoseDataset(str(ann_file))
    message = str(info.value)
    assert message.count("'label' is -2") == 3 and 'and 2 more problem(s)' in message
    assert f'tools/data/check_annotation.py {ann_file} lists them all' in message


# -- checkpoints -----------------------------------------------------------------------------------------------------
def bad_checkpoint(tiny, tmp_path, kind):
    state = torch.load(tiny[2], weights_only=True)
    if kind == 'missing':
        del state['cls_head.fc_cls.bias']
        fragments = ['missing keys (1): cls_head.fc_cls.bias']
    elif kind == 'unexpected':
        state['backbone.extra.weight'] = torch.zeros(1)
        fragments = ['unexpected keys (1): backbone.extra.weight']
    else:
        state['cls_head.fc_cls.weight'] = torch.zeros(5, 8)
        fragments = ["shape mismatches (key, checkpoint, model): ('cls_head.fc_cls.weight', (5, 8), (3, 8))"]
    path = tmp_path / f'{kind}.pth'
    torch.save(state, path)
    return path, fragments


KEY_PROBLEMS = ['missing', 'unexpected', 'misshaped']


@pytest.mark.parametrize('kind', KEY_PROBLEMS)
def test_test_tool_refuses_a_checkpoint_that_does_not_fit(tiny, tmp_path, kind, capsys):
    ckpt, fragments = bad_checkpoint(tiny, tmp_path, kind)
    out_file = tmp_path / 'result.pkl'
    status, out, err = run_tool_here('test.py', fresh_config(tiny, tmp_path),
                                     ckpt, '--out', out_file, '--work-dir', tmp_path / 'w',
                                     capsys=capsys)
    assert_one_line_error(status, out, err, ckpt, fragments)
    assert not out_file.exists()


@pytest.mark.parametrize('kind', KEY_PROBLEMS)
def test_load_from_refuses_a_checkpoint_that_does_not_fit(tiny, tmp_path, kind, capsys):
    ckpt, fragments = bad_checkpoint(tiny, tmp_path, kind)
    work = tmp_path / 'work'
    status, out, err = run_tool_here('train.py', fresh_config(tiny, tmp_path),
                                     '--work-dir', work, '--cfg-options', f'load_from={ckpt}',
                                     capsys=capsys)
    assert_one_line_error(status, out, err, ckpt, fragments + ['--no-strict-load'])
    assert 'Epoch(train)' not in out and not list(work.rglob('*.pth'))


def test_resume_refuses_a_checkpoint_that_does_not_fit(tiny, tmp_path, capsys):
    ckpt, fragments = bad_checkpoint(tiny, tmp_path, 'unexpected')
    status, out, err = run_tool_here('train.py', fresh_config(tiny, tmp_path),
                                     '--work-dir', tmp_path / 'work', '--resume', ckpt,
                                     capsys=capsys)
    assert_one_line_error(status, out, err, ckpt, fragments)


def test_no_strict_load_loads_what_fits_and_trains_on(tiny, tmp_path, capsys):
    ckpt, _ = bad_checkpoint(tiny, tmp_path, 'misshaped')  # a new head: fine-tuning
    work = tmp_path / 'work'
    status, out, err = run_tool_here('train.py', fresh_config(tiny, tmp_path),
                                     '--work-dir', work, '--no-strict-load', '--cfg-options',
                                     f'load_from={ckpt}', 'train_cfg.max_epochs=1', capsys=capsys)
    assert status == 0, err[-3000:]
    assert 'cls_head.fc_cls.weight' in out + err and (work / 'epoch_1.pth').exists()


def test_a_corrupt_checkpoint_file(tiny, tmp_path, capsys):
    ckpt = tmp_path / 'cut.pth'
    ckpt.write_bytes(tiny[2].read_bytes()[:1000])
    status, out, err = run_tool_here('test.py', fresh_config(tiny, tmp_path),
                                     ckpt, '--work-dir', tmp_path / 'w', capsys=capsys)
    assert_one_line_error(status, out, err, ckpt, ['Cannot read checkpoint', 'corrupt'])


def test_the_checkpoint_api_raises(tiny, tmp_path):
    ckpt, fragments = bad_checkpoint(tiny, tmp_path, 'missing')
    with pytest.raises(CheckpointError) as info:
        runner_api.test(runner_api.test_config(str(tiny[1]), work_dir=str(tmp_path / 'w')), str(ckpt))
    assert str(ckpt) in str(info.value) and fragments[0] in str(info.value)


# -- configs ---------------------------------------------------------------------------------------------------------
CONFIG_CASES = {
    'unknown_type': (lambda t: t.replace("type='STGCN'", "type='STGCNN'"),
                     ["unknown type 'STGCNN'", "Did you mean 'STGCN'"]),
    'misspelled_key': (lambda t: t.replace('num_classes=3', 'num_clases=3'),
                       ["model.cls_head (type='GCNHead'): unknown key 'num_clases' (did you mean 'num_classes'",
                        "missing required key(s) 'num_classes'"]),
    'misspelled_transform_argument': (lambda t: t.replace("UniformSample', clip_len=8)", "UniformSample', clip_lne=8)"),
                                      ["train_dataloader.dataset.pipeline[0] (type='UniformSample'): unknown key "
                                       "'clip_lne' (did you mean 'clip_len'?)", 'UniformSample takes: clip_len,']),
    'misspelled_dataset_argument': (lambda t: t.replace("split='val'", "splt='val'"),
                                    ["val_dataloader.dataset (type='PoseDataset'): unknown key 'splt' (did you mean "
                                     "'split'"]),
}


@pytest.mark.parametrize('tool', ['train.py', 'test.py'])
@pytest.mark.parametrize('name', sorted(CONFIG_CASES))
def test_a_config_mistake_names_the_key_and_the_close_names(tiny, tmp_path, name, tool, capsys):
    edit, fragments = CONFIG_CASES[name]
    cfg = config_for(tiny, tiny[0] / 'tiny.pkl', name, edit)
    args = [cfg] + ([tiny[2]] if tool == 'test.py' else []) + ['--work-dir', tmp_path / 'w']
    status, out, err = run_tool_here(tool, *args, capsys=capsys)
    assert_one_line_error(status, out, err, cfg, fragments)
    assert 'UniformSampleFrames' not in last_line(err)  # the name the config wrote, not the class behind it
    with pytest.raises(ConfigError) as info:
        runner_api.load_config(str(cfg))
    assert all(f in str(info.value) for f in fragments)


@pytest.mark.parametrize('text, what', [('model = dict(type="STGCN"\n', "'(' was never closed (line 1)"),
                                        ('model = dict(type=STGCN)\n', "name 'STGCN' is not defined")])
def test_a_config_that_is_not_valid_python(tmp_path, capsys, text, what):
    cfg = tmp_path / 'broken_config.py'
    cfg.write_text(text)
    status, out, err = run_tool_here('train.py', cfg, capsys=capsys)
    assert_one_line_error(status, out, err, cfg, ['is not a valid config', what])


def test_a_missing_config_file(tmp_path, capsys):
    status, out, err = run_tool_here('train.py', tmp_path / 'nope.py', capsys=capsys)
    assert_one_line_error(status, out, err, tmp_path / 'nope.py', ['config file', 'does not exist'])


def test_cfg_options_on_a_variable_the_parts_copied_names_the_keys_to_set(tiny, tmp_path, capsys):
    status, out, err = run_tool_here('train.py', fresh_config(tiny, tmp_path),
                                     '--work-dir', tmp_path / 'w', '--cfg-options',
                                     f'ann_file={tmp_path}/other.pkl', capsys=capsys)
    assert_one_line_error(status, out, err, '_config.py', [
        "--cfg-options ann_file: 'ann_file' is a variable of", 'nothing reads once the file is loaded',
        f'train_dataloader.dataset.ann_file={tmp_path}/other.pkl', f'val_dataloader.dataset.ann_file={tmp_path}'])


def test_cfg_options_on_the_dataloader_key_takes_effect(tiny, tmp_path):
    other = tmp_path / 'other.pkl'
    write_pickle(other, tiny[3])
    cfg = runner_api.test_config(str(tiny[1]), cfg_options={'test_dataloader.dataset.ann_file': str(other)})
    assert cfg.test_dataloader.dataset.ann_file == str(other)


def test_other_errors_keep_their_traceback(tiny, tmp_path, capsys, monkeypatch):
    """A bug is not a user error: the traceback stays."""
    def broken(*args, **kwargs):
        raise ZeroDivisionError('a bug')

    monkeypatch.setattr(runner_api, 'train', broken)
    with pytest.raises(ZeroDivisionError):
        run_tool_here('train.py', fresh_config(tiny, tmp_path), '--work-dir', tmp_path / 'w', capsys=capsys)


def test_every_user_error_class_is_one(tmp_path):
    from pyskl.datasets.converters import ConversionError
    from pyskl.datasets.kpstore import KeypointStoreError
    from pyskl.datasets.ntu_raw import SkeletonFileError
    from pyskl.evaluation.fusion import FusionError
    from pyskl.utils.video import VideoError
    for error in (AnnotationError, CheckpointError, ConfigError, ConversionError, KeypointStoreError,
                  SkeletonFileError, FusionError, VideoError):
        assert issubclass(error, UserError), error


# -- videos ----------------------------------------------------------------------------------------------------------
def test_a_missing_or_undecodable_video_is_named_and_no_annotation_is_written(tmp_path, capsys):
    from pyskl.extraction import extract_skeletons, parse_video_list
    from tests.tools.spots import BrightSpots, moving_spot, write_spots_video
    good = write_spots_video(tmp_path / 'good.mp4', moving_spot(5))
    junk = tmp_path / 'junk.mp4'
    junk.write_text('not a video')
    listing = tmp_path / 'videos.txt'
    listing.write_text(f'{good} 0\n{junk} 1\n{tmp_path}/gone.mp4 2\n')
    out = tmp_path / 'out.pkl'
    report = extract_skeletons(parse_video_list(str(listing)), str(out), BrightSpots, progress=False)
    assert sorted(report.failed) == [f'{tmp_path}/gone.mp4', str(junk)]
    assert 'no such file' in report.failed[f'{tmp_path}/gone.mp4']
    assert 'OpenCV cannot open it' in report.failed[str(junk)]
    assert not out.exists()
    coco = write_pickle(tmp_path / 'coco.pkl', [dict(  # a 2D skeleton, to be drawn over the video
        frame_dir='good', label=0, total_frames=5, img_shape=(64, 64), keypoint=np.full((1, 5, 17, 2), 32, np.float32),
        keypoint_score=np.ones((1, 5, 17), np.float32))])
    for video, what in ((junk, 'OpenCV cannot open it'), (tmp_path / 'gone.mp4', 'no such file')):
        status, _, err = run_tool_here('visualize_skeleton.py', coco, '--out', tmp_path / 'v.mp4',
                                       '--video', video, capsys=capsys)
        line = last_line(err)
        assert status == 2 and line.startswith('error: ') and str(video) in line and what in line, line
        assert not (tmp_path / 'v.mp4').exists()


# -- real processes --------------------------------------------------------------------------------------------------
def test_the_console_shows_one_line_and_the_log_keeps_the_traceback(tiny, tmp_path):
    ann_file, fragments = broken_file(tiny, tmp_path, too_large_label, 'train')
    work = tmp_path / 'work'
    proc = subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'), str(config_for(tiny, ann_file, 'proc')),
                           '--work-dir', str(work)], cwd=REPO, env=tool_env(), capture_output=True, text=True,
                          timeout=300)
    assert_one_line_error(proc.returncode, proc.stdout, proc.stderr, ann_file, fragments)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr  # mmengine's log goes to stdout
    logs = list(work.rglob('*.log'))
    assert logs and any('Traceback' in log.read_text() and 'AnnotationError' in log.read_text() for log in logs)


def test_dist_train_prints_the_error_last(tiny, tmp_path):
    ann_file, fragments = broken_file(tiny, tmp_path, duplicate_frame_dir, 'train')
    proc = bash_tool('dist_train.sh', config_for(tiny, ann_file, 'dist'), 2, '--work-dir', tmp_path / 'work',
                     check=False)
    assert proc.returncode != 0
    line = last_line(proc.stderr)
    assert line.startswith('error: ') and str(ann_file) in line and all(f in line for f in fragments), line
    # each rank printed it as it failed; after torchrun's report of the failed ranks it comes once more, once for all
    assert proc.stderr.rpartition('ChildFailedError')[2].count(line) == 1, proc.stderr


def test_dist_scripts_say_which_python_to_use(tmp_path):
    env = dict(PATH=f'{tmp_path}:/usr/bin:/bin', HOME=os.environ.get('HOME', '/tmp'))  # no python with torch
    for name, args in (('dist_train.sh', ['cfg.py', '1']), ('dist_test.sh', ['cfg.py', 'x.pth', '1'])):
        proc = subprocess.run(['bash', str(REPO / 'tools' / name), *args], env=env, capture_output=True, text=True,
                              timeout=60)
        if proc.returncode == 0 or 'error:' not in proc.stderr:  # a system python with torch: nothing to show
            pytest.skip('a python on the system PATH imports torch')
        assert proc.returncode == 2 and 'set PYTHON=/path/to/its/python' in proc.stderr, proc.stderr


# -- inference_recognizer --------------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def tiny_model(tiny):
    from pyskl.apis import init_recognizer
    return init_recognizer(str(tiny[1]), str(tiny[2]), device='cpu')


def _sample(tiny):
    anno = tiny[3]['annotations'][0]
    return dict(frame_dir='walk_1', keypoint=anno['keypoint'].copy())


@pytest.mark.parametrize('value', [np.nan, np.inf])
def test_inference_refuses_nan_and_inf_naming_the_sample(tiny, tiny_model, value):
    from pyskl.apis import inference_recognizer
    good, bad = _sample(tiny), _sample(tiny)
    bad['frame_dir'] = 'walk_2'
    bad['keypoint'][0, 3, 4, 1] = value
    with pytest.raises(AnnotationError) as info:  # not NaN scores
        inference_recognizer(tiny_model, [good, bad])
    assert str(info.value) == ("inference input: sample 'walk_2': 'keypoint' has 1 NaN/inf value(s) (shape "
                               f"{bad['keypoint'].shape})")


def test_inference_takes_nested_python_lists(tiny, tiny_model):
    from pyskl.apis import inference_recognizer
    sample = _sample(tiny)
    from_array = inference_recognizer(tiny_model, sample)
    from_lists = inference_recognizer(tiny_model, dict(sample, keypoint=sample['keypoint'].tolist()))
    np.testing.assert_allclose(from_lists.scores, from_array.scores, rtol=0, atol=1e-6)
    assert np.isfinite(from_array.scores).all()
    ragged = sample['keypoint'].tolist()
    ragged[0][2] = ragged[0][2][:-1]  # one frame with a joint missing
    with pytest.raises(AnnotationError, match="inference input: sample 'walk_1': 'keypoint' is not an array of "
                                              'numbers of one shape'):
        inference_recognizer(tiny_model, dict(sample, keypoint=ragged))
