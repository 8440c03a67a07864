"""Skeleton extraction in a pool of spawned processes (each one imports pyskl afresh: seconds of start-up) gives
the annotation one process gives."""
import pickle

import numpy as np

from pyskl.extraction import extract_skeletons, parse_video_list
from tests.tools.spots import BrightSpots, moving_spot, write_spots_video


def test_a_process_pool_gives_the_same_annotation(tmp_path):
    centres = [moving_spot(7), moving_spot(5, start=(30, 30), step=(2, -3)), moving_spot(6, step=(1, 3))]
    listing = tmp_path / 'videos.txt'
    listing.write_text(''.join(f'{write_spots_video(tmp_path / f"v{i}.mp4", c)} {i}\n' for i, c in enumerate(centres)))
    results = []
    for workers in (1, 2):
        out = str(tmp_path / f'out{workers}.pkl')
        report = extract_skeletons(parse_video_list(str(listing)), out, BrightSpots, workers=workers, progress=False)
        assert (report.extracted, report.failed) == (3, {})
        with open(out, 'rb') as f:
            results.append(pickle.load(f))
    assert isinstance(results[0], list) and [a['frame_dir'] for a in results[1]] == ['v0', 'v1', 'v2']
    for one, two in zip(*results):
        np.testing.assert_array_equal(one['keypoint'], two['keypoint'])
        assert one['total_frames'] == two['total_frames']
