"""tools/data/compress_videos.py: a folder of videos re-encoded smaller, mirrored subfolders, NTU's name ending
dropped, failures listed, and a rerun that only does what is missing."""
import pytest

from pyskl.utils.video import compress_folder, open_video
from tests.conftest import coloured_frames, write_video

from .data_tools import data_tool, run_data_tool


def source_folder(tmp_path):
    src = tmp_path / 'raw'
    write_video(src / 'S001C001P001R001A001_rgb.mp4', coloured_frames(5, size=(96, 64)))
    write_video(src / 'more' / 'S001C001P001R001A002_rgb.mp4', coloured_frames(4, size=(64, 96)))
    (src / 'notes.txt').write_text('not a video')
    (src / 'broken.avi').write_bytes(b'not a video either')
    return src


def test_compresses_a_folder_and_resumes(tmp_path, capsys):
    src, dst = source_folder(tmp_path), tmp_path / 'videos'
    status, out, err = run_data_tool(capsys, 'compress_videos', src, dst, '--height', '32', '--workers', '2',
                                     '--strip-suffix', '_rgb', '--encoder', 'opencv', '--no-progress')
    assert status == 1  # the broken video
    assert '2 video(s) compressed with opencv, 0 already done, 1 failed' in out
    assert 'broken.avi: OpenCV cannot open it' in err
    landscape, portrait = dst / 'S001C001P001R001A001.mp4', dst / 'more' / 'S001C001P001R001A002.mp4'
    with open_video(str(landscape), 'opencv') as reader:
        assert reader.num_frames == 5 and reader.frames([0]).shape == (1, 32, 48, 3)
    with open_video(str(portrait), 'opencv') as reader:
        assert reader.num_frames == 4 and reader.frames([0]).shape == (1, 48, 32, 3)
    assert sorted(p.name for p in dst.rglob('*')) == sorted(['S001C001P001R001A001.mp4', 'more',
                                                             'S001C001P001R001A002.mp4'])  # no temporary files

    landscape.write_bytes(b'done before')  # an existing output counts as done
    (src / 'broken.avi').unlink()
    status, out, _ = run_data_tool(capsys, 'compress_videos', src, dst, '--height', '32', '--strip-suffix', '_rgb',
                                   '--encoder', 'opencv', '--no-progress')
    assert status == 0 and '0 video(s) compressed with opencv, 2 already done, 0 failed' in out
    assert landscape.read_bytes() == b'done before'


def test_outputs_inside_the_source_folder_are_not_inputs(tmp_path):
    src = source_folder(tmp_path)
    (src / 'broken.avi').unlink()
    report = compress_folder(str(src), str(src / 'small'), height=32, encoder='opencv', progress=False)
    assert len(report['done']) == 2
    again = compress_folder(str(src), str(src / 'small'), height=32, encoder='opencv', progress=False)
    assert again['done'] == [] and len(again['skipped']) == 2


def test_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        data_tool('compress_videos').main([str(tmp_path / 'none'), str(tmp_path / 'out'), '--no-progress'])
    assert exit_info.value.code == 2 and 'source folder' in capsys.readouterr().err
    (tmp_path / 'empty').mkdir()
    with pytest.raises(SystemExit):
        data_tool('compress_videos').main([str(tmp_path / 'empty'), str(tmp_path / 'out'), '--no-progress'])
    assert 'no video' in capsys.readouterr().err
    write_video(tmp_path / 'two' / 'a_rgb.mp4', coloured_frames(2))
    write_video(tmp_path / 'two' / 'a.mp4', coloured_frames(2))
    with pytest.raises(SystemExit):
        data_tool('compress_videos').main([str(tmp_path / 'two'), str(tmp_path / 'out'), '--strip-suffix', '_rgb'])
    assert 'would both be written to' in capsys.readouterr().err
