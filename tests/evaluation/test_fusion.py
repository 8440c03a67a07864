"""Late fusion of stream score files (pyskl/evaluation/fusion.py) on hand-made scores with hand-computed results."""
import os
import pickle

import numpy as np
import pytest

from pyskl.evaluation.fusion import (FusionError, ensemble, evaluate, format_table, fuse, load_scores, search_weights,
                                     weight_grid)

# Split 'val': 4 samples, labels 0, 1, 2, 1; three classes.
VAL_LABELS = [0, 1, 2, 1]
A = [[0.6, 0.3, 0.1],   # -> 0, right
     [0.5, 0.4, 0.1],   # -> 0, wrong
     [0.2, 0.2, 0.6],   # -> 2, right
     [0.1, 0.2, 0.7]]   # -> 2, wrong: top-1 1/2; per class 1, 0, 1
B = [[0.2, 0.7, 0.1],   # -> 1, wrong
     [0.1, 0.8, 0.1],   # -> 1, right
     [0.3, 0.4, 0.3],   # -> 1, wrong
     [0.1, 0.6, 0.3]]   # -> 1, right: top-1 1/2; per class 0, 1, 0
# 2A + B: [1.4 1.3 .3] -> 0 right, [1.1 1.6 .3] -> 1 right, [.7 .8 1.5] -> 2 right, [.3 1. 1.7] -> 2 wrong.
# top-1 3/4; per class 1, 1/2, 1 -> mean 5/6.
# 2A + 3B: [1.8 2.7 .5] -> 1 wrong, [1.3 3.2 .5] -> 1 right, [1.3 1.6 2.1] -> 2 right, [.5 2.2 2.3] -> 2 wrong: 1/2.

# Split 'held' (for the weight search): with r = w_B / (w_A + w_B), h0 is right only for r > 0.8 / 1.4 = 0.571 and
# h1 only for r < 0.6 / 0.92 = 0.652; h2 always. Of the grid {0, 1, 2, 3}^2 only 2:3 (r = 0.6) gets all three.
HELD_LABELS = [1, 0, 2]
HELD_A = [[0.9, 0.1, 0.0], [0.8, 0.2, 0.0], [0.1, 0.1, 0.8]]
HELD_B = [[0.2, 0.8, 0.0], [0.34, 0.66, 0.0], [0.1, 0.1, 0.8]]


def write_annotations(path, splits):
    annotations, split = [], {}
    for name, labels in splits.items():
        split[name] = []
        for i, label in enumerate(labels):
            frame_dir = f'{name}_{i}'
            keypoint = np.zeros((1, 4, 25, 3), np.float32)
            annotations.append(dict(frame_dir=frame_dir, label=label, total_frames=4, keypoint=keypoint))
            split[name].append(frame_dir)
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annotations), f)
    return str(path)


def write_scores(path, rows, protocol=2):
    """``tools/test.py --out``'s format: a list of float32 vectors (protocol 2, as PYSKL's mmcv.dump wrote)."""
    with open(path, 'wb') as f:
        pickle.dump([np.asarray(r, np.float32) for r in rows], f, protocol=protocol)
    return str(path)


@pytest.fixture
def files(tmp_path):
    ann = write_annotations(tmp_path / 'ann.pkl', {'val': VAL_LABELS, 'held': HELD_LABELS})
    return dict(ann=ann, a=write_scores(tmp_path / 'a.pkl', A), b=write_scores(tmp_path / 'b.pkl', B),
                held_a=write_scores(tmp_path / 'held_a.pkl', HELD_A),
                held_b=write_scores(tmp_path / 'held_b.pkl', HELD_B), tmp=tmp_path)


def test_fusion_and_metrics_by_hand():
    labels = np.array(VAL_LABELS)
    a, b = np.array(A), np.array(B)
    assert evaluate(a, labels) == pytest.approx(dict(top1=0.5, top3=1.0, mean_class=2 / 3))
    assert evaluate(b, labels)['top1'] == 0.5
    fused = fuse([a, b], [2, 1])
    np.testing.assert_allclose(fused[0], [1.4, 1.3, 0.3])
    assert evaluate(fused, labels) == pytest.approx(dict(top1=0.75, top3=1.0, mean_class=5 / 6))


def test_ensemble_reports_each_stream_and_the_fusion(files):
    report = ensemble([files['a'], files['b']], files['ann'], 'val', weights=[2, 1])
    names = [name for name, _ in report['rows']]
    assert names == [f"{files['a']} (w=2)", f"{files['b']} (w=1)", 'fusion 2:1 (prob)']
    assert [m['top1'] for _, m in report['rows']] == pytest.approx([0.5, 0.5, 0.75])
    assert report['rows'][2][1]['mean_class'] == pytest.approx(5 / 6)
    table = format_table(report['rows']).splitlines()
    assert table[0].split() == ['stream', 'top1', 'top3', 'mean_class']
    assert table[-1].split()[-3:] == ['0.7500', '1.0000', '0.8333']


def test_weight_search_picks_the_weights_designed_to_win(files):
    weights, metrics = search_weights([np.array(HELD_A), np.array(HELD_B)], np.array(HELD_LABELS))
    assert weights == (2, 3) and metrics['top1'] == 1.0

    report = ensemble([files['a'], files['b']], files['ann'], 'val', weights=[1, 1],
                      search_files=[files['held_a'], files['held_b']], search_split='held')
    assert report['searched']['weights'] == (2, 3)
    name, metrics = report['rows'][-1]
    assert name == 'fusion 2:3 (prob, searched on held)'
    assert metrics['top1'] == 0.5  # 2A + 3B on 'val', by hand above


def test_weight_grid_skips_zero_and_multiples():
    assert weight_grid(2, (0, 1, 2)) == [(0, 1), (1, 0), (1, 1), (1, 2), (2, 1)]
    with pytest.raises(FusionError, match='no usable weights'):
        weight_grid(2, (0, ))


def test_score_mode_fuses_logits_as_they_are_and_prob_mode_refuses_them(files):
    logits = [[2.0, -1.0, 0.5], [0.0, 3.0, 1.0], [1.0, 1.0, 4.0], [5.0, 0.0, 0.0]]  # right, right, right, wrong
    path = write_scores(files['tmp'] / 'logits.pkl', logits)
    with pytest.raises(FusionError, match='--mode score') as err:
        ensemble([files['a'], path], files['ann'], 'val', mode='prob')
    assert path in str(err.value)
    report = ensemble([path, path], files['ann'], 'val', weights=[1, 2], mode='score')
    assert report['rows'][-1][0] == 'fusion 1:2 (score)' and report['rows'][-1][1]['top1'] == 0.75


def test_refuses_files_of_different_lengths_naming_them(files):
    short = write_scores(files['tmp'] / 'short.pkl', A[:3])
    with pytest.raises(FusionError, match='different numbers of samples') as err:
        ensemble([files['a'], short], files['ann'], 'val')
    assert f"{files['a']}: 4" in str(err.value) and f'{short}: 3' in str(err.value)


def test_refuses_a_length_other_than_the_splits(files):
    with pytest.raises(FusionError, match="hold 4 samples but split 'held'") as err:
        ensemble([files['a'], files['b']], files['ann'], 'held')
    assert files['a'] in str(err.value) and files['b'] in str(err.value)


def test_refuses_different_class_counts(files):
    four = write_scores(files['tmp'] / 'four.pkl', [r + [0.0] for r in B])
    with pytest.raises(FusionError, match='different class counts') as err:
        ensemble([files['a'], four], files['ann'], 'val')
    assert f"{files['a']}: 3" in str(err.value) and f'{four}: 4' in str(err.value)


def test_refuses_mismatched_weights_and_search_files(files):
    with pytest.raises(FusionError, match='3 weights for 2 score files'):
        ensemble([files['a'], files['b']], files['ann'], 'val', weights=[1, 1, 1])
    with pytest.raises(FusionError, match='1 --search-scores files for 2'):
        ensemble([files['a'], files['b']], files['ann'], 'val', search_files=[files['held_a']], search_split='held')


def test_score_files_are_read_as_data_only(tmp_path):
    for protocol in (2, 5):
        np.testing.assert_allclose(load_scores(write_scores(tmp_path / f'p{protocol}.pkl', A, protocol)), A,
                                   rtol=1e-6)

    class Payload:
        def __reduce__(self):
            return os.system, ('echo should never run', )

    with open(tmp_path / 'evil.pkl', 'wb') as f:
        pickle.dump([Payload()], f)
    with pytest.raises(FusionError, match='system is not allowed'):
        load_scores(str(tmp_path / 'evil.pkl'))
    with open(tmp_path / 'ragged.pkl', 'wb') as f:
        pickle.dump([np.zeros(3), np.zeros(4)], f)
    with pytest.raises(FusionError, match=r'ragged.pkl: the score vectors do not form'):
        load_scores(str(tmp_path / 'ragged.pkl'))
