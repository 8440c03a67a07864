"""Exactly once: testing with 1, 2 and 3 processes on 7 samples (2 and 3 do not divide 7; the samplers pad with
repeated samples) gives the same --out scores in the same order and the same metrics, and so does the validation
during a 3-process training."""
import re

import numpy as np
import pytest

from tests.tools.helpers import bash_tool

from .helpers import read_pickle, write_tiny_config


def _metrics(stdout):
    return dict(re.findall(r'^(top1_acc|top2_acc|mean_class_accuracy): ([0-9.]+)$', stdout, re.M))


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('once')
    cfg = write_tiny_config(tmp, max_epochs=1)
    val_out = tmp / 'val_scores.pkl'
    bash_tool('dist_train.sh', cfg, 3, '--validate', '--seed', 0, '--cfg-options', f'val_evaluator.out_file={val_out}',
              timeout=600)
    return cfg, tmp / 'work' / 'epoch_1.pth', val_out


def test_every_process_count_scores_each_sample_once_in_order(trained, tmp_path):
    cfg, ckpt, val_out = trained
    scores, metrics = {}, {}
    for nproc in (1, 2, 3):
        out = tmp_path / f'result_{nproc}.pkl'
        proc = bash_tool('dist_test.sh', cfg, ckpt, nproc, '--out', out, timeout=600)
        scores[nproc], metrics[nproc] = np.stack(read_pickle(out)), _metrics(proc.stdout)
    assert scores[1].shape == (7, 3) and len(metrics[1]) == 3, metrics
    # each row is its sample's: the samples differ, so a shifted or repeated row would not match
    assert len({row.tobytes() for row in scores[1]}) == 7
    for nproc in (2, 3):
        np.testing.assert_allclose(scores[nproc], scores[1], rtol=0, atol=1e-6)
        assert metrics[nproc] == metrics[1]
    # validation during the 3-process training scored the same 7 samples, in order, as the 1-process test
    np.testing.assert_allclose(np.stack(read_pickle(val_out)), scores[1], rtol=0, atol=1e-6)
