from .preprocessor import ActionDataPreprocessor

__all__ = ['ActionDataPreprocessor']
