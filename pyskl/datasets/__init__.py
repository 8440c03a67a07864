from .transforms import *  # noqa: F401,F403
from .pose_dataset import AnnotationError, PoseDataset, validate_annotation  # noqa: F401
from .samplers import ClassSpecificDistributedSampler  # noqa: F401
from .video_dataset import VideoDataset, VideoListError  # noqa: F401
