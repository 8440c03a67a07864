"""pyskl.utils.video: decoding frame by frame with clear errors, writing mp4 / gif whole or not at all."""
import numpy as np
import pytest

from pyskl.utils.video import VideoError, VideoWriter, iter_frames, video_fps


def coloured_frames(num, size=(40, 32)):
    """Frames of one flat colour each, distinct enough to survive compression."""
    w, h = size
    return [np.full((h, w, 3), (40 * i % 256, 255 - 30 * i % 256, 100), np.uint8) for i in range(num)]


@pytest.mark.parametrize('suffix', ['.mp4', '.gif'])
def test_written_videos_read_back_frame_for_frame(tmp_path, suffix):
    path = str(tmp_path / f'clip{suffix}')
    frames = coloured_frames(7)
    with VideoWriter(path, fps=10) as writer:
        for frame in frames:
            writer.write(frame)
    assert writer.num_frames == 7 and writer.size == (40, 32)
    decoded = list(iter_frames(path))
    assert len(decoded) == 7 and decoded[0].shape == (32, 40, 3)
    for got, want in zip(decoded, frames):
        assert np.abs(got.astype(int) - want).mean() < 12
    assert sorted(p.name for p in tmp_path.iterdir()) == [f'clip{suffix}']  # no temporary file left


def test_mp4_keeps_the_frame_rate(tmp_path):
    path = str(tmp_path / 'clip.mp4')
    with VideoWriter(path, fps=12.5) as writer:
        for frame in coloured_frames(3):
            writer.write(frame)
    assert video_fps(path) == pytest.approx(12.5)
    assert video_fps(str(tmp_path / 'missing.mp4'), default=7) == 7


def test_a_failed_render_leaves_no_file(tmp_path):
    path = tmp_path / 'clip.mp4'
    with pytest.raises(RuntimeError, match='boom'):
        with VideoWriter(str(path), fps=10) as writer:
            writer.write(coloured_frames(1)[0])
            raise RuntimeError('boom')
    assert list(tmp_path.iterdir()) == []


def test_writer_errors(tmp_path):
    with pytest.raises(ValueError, match='.mp4 or .gif'):
        VideoWriter(str(tmp_path / 'clip.avi'), fps=10)
    with pytest.raises(ValueError, match='frame rate'):
        VideoWriter(str(tmp_path / 'clip.mp4'), fps=0)
    writer = VideoWriter(str(tmp_path / 'clip.gif'), fps=10)
    writer.write(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match='frame 1 is 9x8, the first was 8x8'):
        writer.write(np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(ValueError, match='no frame'):
        VideoWriter(str(tmp_path / 'empty.mp4'), fps=10).close()


def test_unreadable_videos_are_named(tmp_path):
    with pytest.raises(VideoError, match='missing.mp4: no such file'):
        next(iter_frames(str(tmp_path / 'missing.mp4')))
    junk = tmp_path / 'junk.mp4'
    junk.write_bytes(b'this is not a video' * 10)
    with pytest.raises(VideoError, match='junk.mp4: OpenCV cannot open it'):
        list(iter_frames(str(junk)))

