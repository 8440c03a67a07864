"""Skeletons from videos: pose back-ends (:mod:`.backends`) and the resumable extraction run (:mod:`.extract`)."""
from .backends import (BACKENDS, MEDIAPIPE_POSE_TO_COCO, FramePoses, MediaPipeHands, MediaPipePose, MMPoseTopDown,
                       PoseBackend, build_backend)
from .extract import (ExtractionReport, VideoEntry, extract_skeletons, extract_video, output_paths,
                      parse_video_list, stack_poses)

__all__ = [
    'BACKENDS', 'MEDIAPIPE_POSE_TO_COCO', 'FramePoses', 'MediaPipeHands', 'MediaPipePose', 'MMPoseTopDown',
    'PoseBackend', 'build_backend', 'ExtractionReport', 'VideoEntry', 'extract_skeletons', 'extract_video',
    'output_paths', 'parse_video_list', 'stack_poses'
]
