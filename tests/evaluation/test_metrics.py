"""AccMetric through mmengine's Evaluator on hand-computed scores, shuffled input, and its output files."""
import pickle

import cv2
import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator

from pyskl.evaluation import AccMetric
from pyskl.registry import METRICS
from pyskl.structures import ActionDataSample

# 5 samples, 4 classes (see test_functional.py): top-1 3/5, top-2 5/5, mean class accuracy (1/2 + 1 + 1/2) / 3.
SCORES = np.array([
    [0.1, 0.6, 0.2, 0.1],
    [0.5, 0.1, 0.3, 0.1],
    [0.2, 0.3, 0.4, 0.1],
    [0.3, 0.1, 0.2, 0.4],
    [0.7, 0.1, 0.1, 0.1],
], dtype=np.float32)
LABELS = [1, 2, 2, 0, 0]


def data_sample(idx, scores=SCORES, labels=LABELS):
    sample = ActionDataSample(metainfo=dict(sample_idx=idx, frame_dir=f'clip{idx}'))
    sample.set_gt_label(labels[idx])
    sample.set_pred_score(torch.from_numpy(scores[idx]))
    return sample


def run(metric, order, batch_size=2, as_dicts=True):
    """Feed the samples in ``order`` in batches, as the test loop does, and evaluate."""
    evaluator = Evaluator([metric])
    for start in range(0, len(order), batch_size):
        batch = [data_sample(i) for i in order[start:start + batch_size]]
        if as_dicts:
            evaluator.process(batch)  # the Evaluator turns samples into dicts, as in a real test loop
        else:
            metric.process(None, batch)
    return evaluator.evaluate(len(order))


def test_pyskl_keys_on_hand_computed_scores():
    results = run(AccMetric(topk=(1, 2)), order=[0, 1, 2, 3, 4])
    assert results == pytest.approx(dict(top1_acc=0.6, top2_acc=1.0, mean_class_accuracy=2 / 3))


def test_default_metrics_and_topk():
    results = run(AccMetric(), order=[0, 1, 2, 3, 4])
    assert set(results) == {'top1_acc', 'top5_acc', 'mean_class_accuracy'}


def test_mean_class_accuracy_ignores_predicted_only_classes():
    # Class 3 is predicted once but never the truth; PYSKL's union-of-labels average would give 0.5.
    results = run(AccMetric(metric_list='mean_class_accuracy'), order=[4, 3, 2, 1, 0])
    assert results == pytest.approx(dict(mean_class_accuracy=2 / 3))


def test_metrics_names_and_topk_are_checked():
    assert set(run(AccMetric(metric_list='top_k_accuracy', topk=3), order=list(range(5)))) == {'top3_acc'}
    with pytest.raises(KeyError, match="known metrics: \\['top_k_accuracy', 'mean_class_accuracy'\\]"):
        AccMetric(metric_list=['top_k_accuracy', 'mean_average_precison'])
    with pytest.raises(ValueError, match='topk'):
        AccMetric(topk=(1, 0))


def test_registered_and_prefix_is_optional():
    metric = METRICS.build(dict(type='AccMetric', metric_list=['top_k_accuracy'], topk=(1, ), prefix='val'))
    assert run(metric, order=[0, 1, 2, 3, 4]) == pytest.approx({'val/top1_acc': 0.6})


def test_out_file_is_in_dataset_order_whatever_the_processing_order(tmp_path):
    out = tmp_path / 'result' / 'scores.pkl'
    shuffled = [3, 0, 4, 2, 1]
    run(AccMetric(out_file=str(out)), order=shuffled, as_dicts=False)
    with open(out, 'rb') as f:
        dumped = pickle.load(f)
    assert isinstance(dumped, list) and len(dumped) == 5
    for row, expected in zip(dumped, SCORES):
        assert isinstance(row, np.ndarray) and row.shape == (4, )
        np.testing.assert_array_equal(row, expected)
    assert not [p for p in out.parent.iterdir() if p.name != 'scores.pkl']  # no temporary file left behind


def test_duplicate_and_missing_samples_are_an_error():
    metric = AccMetric()
    metric.process(None, [data_sample(i) for i in (0, 1, 1, 3, 4)])  # 1 twice, 2 never
    with pytest.raises(ValueError, match=r'\[1\] appear more than once and \[2\] are missing'):
        metric.compute_metrics(metric.results)


def test_missing_sample_idx_is_an_error():
    sample = ActionDataSample().set_gt_label(0).set_pred_score(torch.zeros(3))
    with pytest.raises(KeyError, match='sample_idx'):
        AccMetric().process(None, [sample])


def test_confusion_matrix_png_and_counts(tmp_path):
    png = tmp_path / 'plots' / 'confusion.png'
    run(AccMetric(confusion_matrix=str(png), classes=['drink', 'eat', 'brush teeth', 'wave']), order=[2, 4, 0, 3, 1])
    image = cv2.imread(str(png))
    assert image is not None and image.shape[0] > 300 and image.shape[1] > 300
    counts = np.load(png.with_suffix('.npy'))
    expected = np.zeros((4, 4), dtype=np.int64)
    for true, pred in [(1, 1), (2, 0), (2, 2), (0, 3), (0, 0)]:
        expected[true, pred] += 1
    np.testing.assert_array_equal(counts, expected)


def test_confusion_matrix_for_many_classes_uses_the_dataset_classes(tmp_path):
    rng = np.random.default_rng(0)
    num_classes, num_samples = 60, 120
    scores = rng.random((num_samples, num_classes)).astype(np.float32)
    labels = rng.integers(0, num_classes, num_samples).tolist()
    metric = AccMetric(metric_list='top_k_accuracy', topk=1, confusion_matrix=str(tmp_path / 'cm.png'))
    metric.dataset_meta = dict(classes=[f'action {i}' for i in range(num_classes)])
    metric.process(None, [data_sample(i, scores, labels) for i in range(num_samples)])
    top1 = metric.evaluate(num_samples)['top1_acc']
    assert top1 == pytest.approx(np.mean(scores.argmax(1) == np.array(labels)))
    image = cv2.imread(str(tmp_path / 'cm.png'))
    assert image is not None and min(image.shape[:2]) > 1000  # big enough for 60 readable labels
    assert np.load(tmp_path / 'cm.npy').sum() == num_samples


def test_config_dict_builds_through_mmengine_evaluator_as_the_runner_does():
    # The Runner wraps an evaluator dict (with no `metrics` key) in mmengine's Evaluator, which builds from METRICS.
    evaluator = Evaluator(dict(type='AccMetric', metric_list=['top_k_accuracy'], topk=(1, 2)))
    assert [type(m) for m in evaluator.metrics] == [AccMetric]
    evaluator.process([data_sample(i) for i in range(5)])
    assert evaluator.evaluate(5) == pytest.approx(dict(top1_acc=0.6, top2_acc=1.0))


# RGBPose: 4 samples, 3 classes; by hand, top-1 hits rgb {0, 2}, pose {1, 2, 3}, 1:1 = rgb + pose {1, 2, 3},
# 2:1 = 2 rgb + pose {0, 2}, 1:2 = rgb + 2 pose {1, 2, 3}; mean class accuracy over classes 0 (samples 0, 3), 1, 2.
RGB = np.array([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1], [0.2, 0.2, 0.6], [0.3, 0.6, 0.1]], dtype=np.float32)
POSE = np.array([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7], [0.65, 0.25, 0.1]], dtype=np.float32)
RGBPOSE_LABELS = [0, 1, 2, 0]


def rgbpose_sample(idx):
    sample = ActionDataSample(metainfo=dict(sample_idx=idx, frame_dir=f'clip{idx}')).set_gt_label(RGBPOSE_LABELS[idx])
    sample.pred_scores = dict(rgb=torch.from_numpy(RGB[idx]), pose=torch.from_numpy(POSE[idx]))
    return sample.set_pred_score((sample.pred_scores['rgb'] + sample.pred_scores['pose']) / 2)


def test_rgbpose_streams_and_pyskls_mixes_on_hand_computed_scores(tmp_path):
    evaluator = Evaluator([AccMetric(metric_list=['top_k_accuracy', 'mean_class_accuracy'], topk=(1, ),
                                     out_file=str(tmp_path / 'scores.pkl'), confusion_matrix=str(tmp_path / 'cm.png'))])
    for order in ([3, 1], [0, 2]):
        evaluator.process([rgbpose_sample(i) for i in order])
    results = evaluator.evaluate(4)
    expected = {'rgb_top1_acc': 0.5, 'rgb_mean_class_accuracy': 0.5,
                'pose_top1_acc': 0.75, 'pose_mean_class_accuracy': 2.5 / 3,
                'RGBPose_1:1_top1_acc': 0.75, 'RGBPose_1:1_mean_class_accuracy': 2.5 / 3,
                'RGBPose_2:1_top1_acc': 0.5, 'RGBPose_2:1_mean_class_accuracy': 0.5,
                'RGBPose_1:2_top1_acc': 0.75, 'RGBPose_1:2_mean_class_accuracy': 2.5 / 3}
    assert list(results) == list(expected) and results == pytest.approx(expected)
    # --out: PYSKL's per-sample dicts, in dataset order
    with open(tmp_path / 'scores.pkl', 'rb') as f:
        dumped = pickle.load(f)
    assert [list(row) for row in dumped] == [['rgb', 'pose']] * 4
    np.testing.assert_array_equal(np.stack([row['rgb'] for row in dumped]), RGB)
    np.testing.assert_array_equal(np.stack([row['pose'] for row in dumped]), POSE)
    # the confusion matrix counts the 1:1 mix's predictions: 1, 1, 2, 0
    expected_counts = np.zeros((3, 3), dtype=np.int64)
    for true, pred in [(0, 1), (1, 1), (2, 2), (0, 0)]:
        expected_counts[true, pred] += 1
    np.testing.assert_array_equal(np.load(tmp_path / 'cm.npy'), expected_counts)


def test_streams_other_than_rgb_and_pose_get_no_mixes_and_must_agree():
    metric = AccMetric(metric_list='top_k_accuracy', topk=1)
    samples = [rgbpose_sample(i) for i in range(4)]
    for sample in samples:
        sample.pred_scores = dict(a=sample.pred_scores['rgb'], b=sample.pred_scores['pose'])
    metric.process(None, samples)
    assert metric.evaluate(4) == pytest.approx(dict(a_top1_acc=0.5, b_top1_acc=0.75))
    samples[2].pred_scores = dict(a=samples[2].pred_scores['a'])
    metric.process(None, samples)
    with pytest.raises(ValueError, match=r"same streams \['a', 'b'\]"):
        metric.evaluate(4)
