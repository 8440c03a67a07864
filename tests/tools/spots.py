"""A model-free pose back-end and the small videos it reads, for testing the extraction machinery."""
import cv2
import numpy as np

from pyskl.extraction import FramePoses, PoseBackend


class BrightSpots(PoseBackend):
    """Each bright blob is a person with one joint at its centre, score 1; the blobs come in reversed order every
    other frame, so that extraction has to link them."""
    name, layout, num_joints = 'bright-spots', '', 1

    def __init__(self, max_persons: int = 1, threshold: int = 128):
        self.max_persons, self.threshold, self.frame = max_persons, threshold, 0

    def detect(self, frame):
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        _, _, stats, centres = cv2.connectedComponentsWithStats((gray > self.threshold).astype(np.uint8))
        centres = centres[1:][stats[1:, cv2.CC_STAT_AREA] >= 4].astype(np.float32)
        if self.frame % 2:
            centres = centres[::-1]
        self.frame += 1
        return FramePoses(centres[:, None], np.ones((len(centres), 1), np.float32))

    def reset(self):
        self.frame = 0

    def settings(self):
        return dict(super().settings(), threshold=self.threshold)


def write_spots_video(path, centres, size=(64, 48)):
    """``centres [T, K, 2]``: frame t shows K white 6x6 squares centred there (black elsewhere)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10, size)
    for frame_centres in centres:
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        for x, y in np.round(frame_centres).astype(int):
            frame[y - 3:y + 3, x - 3:x + 3] = 255
        writer.write(frame)
    writer.release()
    return str(path)


def moving_spot(num_frames=8, start=(10, 12), step=(4, 2)):
    return np.array(start, float) + np.arange(num_frames)[:, None, None] * np.array(step, float)


class SpotHands(BrightSpots):
    """A model-free hand back-end (layout ``handmp``): the brightest blob is one hand whose 21 joints lie at
    :data:`HAND_OFFSETS` pixels from its centre; nothing on a dark frame."""
    name, layout, num_joints = 'spot-hands', 'handmp', 21

    def detect(self, frame):
        found = super().detect(frame)
        if len(found.keypoint) == 0:
            return FramePoses(np.zeros((0, 21, 2), np.float32), np.zeros((0, 21), np.float32))
        centre = found.keypoint[:1]  # [1, 1, 2]
        return FramePoses(centre + HAND_OFFSETS, np.ones((1, 21), np.float32))


#: A hand's 21 joints around its centre (pixels): the wrist below, five fingers of four joints fanning upwards.
HAND_OFFSETS = np.concatenate([[[0, 6]], [[(f - 2) * 2.5, -k * 2.] for f in range(5) for k in range(4)]]).astype(
    np.float32)
