from .hooks import InputCheckHook

__all__ = ['InputCheckHook']
