from .functional import confusion_matrix, mean_class_accuracy, top_k_accuracy
from .fusion import FusionError, ensemble, fuse, load_scores, search_weights
from .metrics import AccMetric

__all__ = [
    'AccMetric', 'confusion_matrix', 'mean_class_accuracy', 'top_k_accuracy', 'FusionError', 'ensemble', 'fuse',
    'load_scores', 'search_weights'
]
