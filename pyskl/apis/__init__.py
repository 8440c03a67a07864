from .inference import (VIDEO_LAYOUTS, Prediction, VideoInput, extract_skeletons, find_step, get_test_pipeline,
                        inference_recognizer, init_recognizer, video_input, video_sample)

__all__ = [
    'Prediction', 'init_recognizer', 'inference_recognizer', 'get_test_pipeline', 'find_step', 'extract_skeletons',
    'video_input', 'video_sample', 'VideoInput', 'VIDEO_LAYOUTS'
]
