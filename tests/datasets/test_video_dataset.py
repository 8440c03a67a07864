"""VideoDataset: text and JSON video lists, the data prefix, errors that name the list and the line, and a video
through DecordInit -> sampler -> DecordDecode."""
import json

import pytest
import torch

from pyskl.datasets import VideoDataset, VideoListError
from tests.conftest import coloured_frames, write_video

PIPELINE = [dict(type='DecordInit'), dict(type='UniformSampleFrames', clip_len=3), dict(type='DecordDecode'),
            dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]


def test_a_text_list_under_the_data_prefix(tmp_path):
    write_video(tmp_path / 'videos' / 'a.mp4', coloured_frames(5))
    write_video(tmp_path / 'videos' / 'sub' / 'b.mp4', coloured_frames(7))
    (tmp_path / 'list.txt').write_text('# path label\na.mp4 2\n\nsub/b.mp4 0\n')
    dataset = VideoDataset(str(tmp_path / 'list.txt'), PIPELINE, data_prefix=str(tmp_path / 'videos'),
                           test_mode=True)
    assert len(dataset) == 2
    info = dataset.get_data_info(1)
    assert info['filename'] == str(tmp_path / 'videos' / 'sub' / 'b.mp4') and info['label'] == 0
    assert info['modality'] == 'RGB' and info['start_index'] == 0 and info['test_mode'] is True
    sample = dataset[0]
    assert sample['inputs'].shape == (1, 3, 3, 32, 40) and sample['inputs'].dtype == torch.uint8
    assert sample['data_samples'].gt_label.tolist() == [2] and sample['data_samples'].metainfo['total_frames'] == 5


def test_a_json_list_and_data_root(tmp_path):
    write_video(tmp_path / 'root' / 'clips' / 'a.mp4', coloured_frames(3))
    (tmp_path / 'list.json').write_text(json.dumps([dict(filename='a.mp4', label=4)]))
    dataset = VideoDataset(str(tmp_path / 'list.json'), data_root=str(tmp_path / 'root'), data_prefix='clips')
    assert dataset.get_data_info(0)['filename'] == str(tmp_path / 'root' / 'clips' / 'a.mp4')
    assert dataset.get_data_info(0)['label'] == 4


@pytest.mark.parametrize('content, message', [
    ('a.mp4\n', r"list.txt, line 1: expected 'path label', got 'a.mp4'"),
    ('a.mp4 1\nb.mp4 one\n', r"list.txt, line 2: the label must be a non-negative integer, got 'one'"),
    ('a.mp4 -3\n', r"line 1: the label must be a non-negative integer, got '-3'"),
    ('a.mp4 1\nmissing.mp4 0\n', r'list.txt: 1 of its 2 videos do not exist: .*missing.mp4'),
    ('# nothing\n', r'list.txt: the list names no video'),
])
def test_bad_lists_are_named_at_load_time(tmp_path, content, message):
    write_video(tmp_path / 'a.mp4', coloured_frames(2))
    (tmp_path / 'list.txt').write_text(content)
    with pytest.raises(VideoListError, match=message):
        VideoDataset(str(tmp_path / 'list.txt'), data_prefix=str(tmp_path))


def test_bad_json_and_unsupported_options(tmp_path):
    (tmp_path / 'list.json').write_text(json.dumps([dict(filename='a.mp4')]))
    with pytest.raises(VideoListError, match=r'list.json, entry 0: expected \{"filename": ..., "label": ...\}'):
        VideoDataset(str(tmp_path / 'list.json'))
    with pytest.raises(FileNotFoundError, match='video list .*nope.txt does not exist'):
        VideoDataset(str(tmp_path / 'nope.txt'))
    with pytest.raises(ValueError, match='multi-label'):
        VideoDataset(str(tmp_path / 'list.json'), multi_class=True)
    unchecked = tmp_path / 'later.txt'
    unchecked.write_text('not_yet.mp4 1\n')
    assert VideoDataset(str(unchecked), check_files=False).get_data_info(0)['label'] == 1
