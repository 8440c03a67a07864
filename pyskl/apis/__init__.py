from .inference import inference_recognizer, init_recognizer

__all__ = ['init_recognizer', 'inference_recognizer']
