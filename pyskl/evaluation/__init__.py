from .functional import confusion_matrix, mean_class_accuracy, top_k_accuracy
from .metrics import AccMetric

__all__ = ['AccMetric', 'confusion_matrix', 'mean_class_accuracy', 'top_k_accuracy']
