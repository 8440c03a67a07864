"""``tools/test.py`` prints one line per metric, and RGBPose's streams and fusions side by side."""
from pyskl.apis.runner import format_metrics


def test_plain_metrics_one_per_line():
    assert format_metrics({'top1_acc': 0.5, 'top5_acc': 1.0}) == ['top1_acc: 0.5000', 'top5_acc: 1.0000']


def test_rgbpose_streams_and_fusions_in_one_table():
    metrics = {}
    for prefix, top1 in [('rgb_', .81), ('pose_', .82), ('RGBPose_1:1_', .9), ('RGBPose_2:1_', .88),
                         ('RGBPose_1:2_', .89)]:
        metrics.update({f'{prefix}top1_acc': top1, f'{prefix}mean_class_accuracy': top1 - .01})
    header, top1, mean_class = format_metrics(metrics)
    assert header.split() == ['rgb', 'pose', 'RGBPose_1:1', 'RGBPose_2:1', 'RGBPose_1:2']
    assert top1.split() == ['top1_acc', '0.8100', '0.8200', '0.9000', '0.8800', '0.8900']
    assert mean_class.split()[0] == 'mean_class_accuracy' and mean_class.split()[3] == '0.8900'
