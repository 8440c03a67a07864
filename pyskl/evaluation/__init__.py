from .functional import confusion_matrix, mean_class_accuracy, top_k_accuracy

__all__ = ['confusion_matrix', 'mean_class_accuracy', 'top_k_accuracy']
