from .inference import Prediction, get_test_pipeline, inference_recognizer, init_recognizer

__all__ = ['Prediction', 'init_recognizer', 'inference_recognizer', 'get_test_pipeline']
