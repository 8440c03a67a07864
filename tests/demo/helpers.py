"""Loading the demo scripts (demo/ is not a package) and reading the videos they write."""
import importlib.util

import cv2

from tests.conftest import REPO_ROOT


def load_demo(name: str):
    spec = importlib.util.spec_from_file_location(f'pyskl_demo_{name}', REPO_ROOT / 'demo' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_video(path):
    """Every decodable frame, and the stated frame rate: what a player gets."""
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
