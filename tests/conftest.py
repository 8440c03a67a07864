"""Shared test helpers: where ../shared lives, loaders that skip with a reason when it is absent, the repository's
scripts as modules, and writing and reading videos."""
import importlib.util
import os
import re
from functools import lru_cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('PYSKL_SHARED', REPO_ROOT.parent / 'shared'))
SHARED_DATA = SHARED / 'data'
PYSKL_REF = SHARED / 'fixtures' / 'pyskl_ref'


def shared_file(*parts) -> Path:
    """A file under ../shared, or skip the test saying which file is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f'{path} is absent: the reference data in ../shared (beside the checkout) is needed for this test')
    return path


def coloured_frames(num, size=(40, 32)):
    """BGR frames of one flat colour each, ``(40 i, 255 - 30 i, 100)``: distinct enough to survive compression."""
    import numpy as np
    w, h = size
    return [np.full((h, w, 3), (40 * i % 256, 255 - 30 * i % 256, 100), np.uint8) for i in range(num)]


def write_video(path, frames, fps=10):
    """Write BGR ``frames`` to ``path`` (mp4 or gif, with pyskl's VideoWriter); returns ``str(path)``."""
    from pyskl.utils.video import VideoWriter
    with VideoWriter(str(path), fps) as writer:
        for frame in frames:
            writer.write(frame)
    return str(path)


def read_video(path):
    """Every decodable frame and the frame rate the file states (OpenCV's, with no fallback): what a player gets."""
    import cv2
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return frames, fps


@lru_cache(maxsize=None)
def load_script(relpath: str):
    """The script ``<repo>/<relpath>`` (tools/ and demo/ are not packages) imported as a module, once per session: the
    tests that load it share it, so none may leave its attributes changed."""
    name = 'script_' + re.sub(r'\W', '_', relpath.removesuffix('.py'))
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / relpath)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_ref(name: str) -> dict:
    """A PYSKL reference case (``../shared/fixtures/pyskl_ref/<name>.pt``), or skip."""
    import torch
    return torch.load(shared_file('fixtures', 'pyskl_ref', f'{name}.pt'), map_location='cpu', weights_only=True)


@pytest.fixture(scope='session', autouse=True)
def _registered():
    from pyskl.utils import register_all_modules
    register_all_modules()


@pytest.fixture(scope='module')
def one_thread():
    """For modules of tiny tensors (``pytestmark = pytest.mark.usefixtures('one_thread')``): a second thread only
    adds contention when several test runs share the machine."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
