"""Accuracy arithmetic on hand-computed score matrices."""
import numpy as np
import pytest

from pyskl.evaluation import confusion_matrix, mean_class_accuracy, top_k_accuracy

# 5 samples, 4 classes. Predictions (argmax): 1, 0, 2, 3, 0. Rank of the true class: 1, 2, 1, 2, 1.
SCORES = np.array([
    [0.1, 0.6, 0.2, 0.1],
    [0.5, 0.1, 0.3, 0.1],
    [0.2, 0.3, 0.4, 0.1],
    [0.3, 0.1, 0.2, 0.4],
    [0.7, 0.1, 0.1, 0.1],
])
LABELS = np.array([1, 2, 2, 0, 0])


def test_top_k_accuracy():
    assert top_k_accuracy(SCORES, LABELS, (1, 2, 4)) == pytest.approx([0.6, 1.0, 1.0])
    assert top_k_accuracy(SCORES, LABELS) == pytest.approx([0.6])


def test_top_k_accuracy_breaks_ties_towards_the_lower_class():
    tied = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
    assert top_k_accuracy(tied, [0, 1], (1, 2)) == pytest.approx([0.5, 1.0])


def test_mean_class_accuracy_ignores_predicted_only_classes():
    # recall: class 0 -> 1/2, class 1 -> 1/1, class 2 -> 1/2. Class 3 is only ever predicted: PYSKL counted it as a
    # fourth class with 0 % and reported 0.5.
    assert mean_class_accuracy(SCORES, LABELS) == pytest.approx(2 / 3)


def test_mean_class_accuracy_weighs_classes_not_samples():
    scores = np.eye(2)[[0, 0, 0, 0, 1]]
    labels = [0, 0, 0, 1, 1]  # class 0: 3/3, class 1: 1/2; sample accuracy would be 4/5
    assert mean_class_accuracy(scores, labels) == pytest.approx(0.75)


def test_confusion_matrix_counts_and_normalisations():
    pred = SCORES.argmax(axis=1)
    expected = np.zeros((4, 4), dtype=np.int64)
    for true, guess in [(1, 1), (2, 0), (2, 2), (0, 3), (0, 0)]:
        expected[true, guess] += 1
    np.testing.assert_array_equal(confusion_matrix(pred, LABELS), expected)
    np.testing.assert_allclose(confusion_matrix(pred, LABELS, normalize='true')[2], [0.5, 0, 0.5, 0])
    np.testing.assert_allclose(confusion_matrix(pred, LABELS, normalize='pred')[:, 0], [0.5, 0, 0.5, 0])
    np.testing.assert_allclose(confusion_matrix(pred, LABELS, normalize='all').sum(), 1.0)
    assert confusion_matrix(pred, LABELS, num_classes=6).shape == (6, 6)
    with pytest.raises(ValueError, match='normalize'):
        confusion_matrix(pred, LABELS, normalize='rows')


def test_shape_errors():
    with pytest.raises(ValueError, match=r'\[N, K\]'):
        top_k_accuracy(SCORES, LABELS[:3])
    with pytest.raises(ValueError, match='at least one sample'):
        mean_class_accuracy(np.zeros((0, 3)), [])
