"""tools/ensemble.py end to end: two streams trained and tested with the tools, then fused."""
import pickle
import subprocess
import sys

import numpy as np

from pyskl.evaluation.functional import mean_class_accuracy, top_k_accuracy

from .helpers import REPO, python_tool, tool_env, write_tiny_config, write_tiny_dataset


def run_side_by_side(*commands, timeout=300):
    """Run one-thread tool commands at the same time (the two streams are independent) and check each."""
    procs = [subprocess.Popen([sys.executable, str(REPO / 'tools' / name), *map(str, args)], cwd=REPO,
                              env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, *args in commands]
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, f'{proc.args} failed:\n{out[-3000:]}\n{err[-5000:]}'


def test_joint_and_bone_streams_are_fused_by_the_tool(tmp_path):
    joint = write_tiny_config(tmp_path, max_epochs=1)
    bone = tmp_path / 'tiny_bone_config.py'  # the same recipe on bones (PYSKL's 'b' stream)
    bone.write_text(joint.read_text().replace(
        "dict(type='UniformSample'", "dict(type='GenSkeFeat', dataset='nturgb+d', feats=['b']), "
        "dict(type='UniformSample'"))
    streams = dict(j=joint, b=bone)
    run_side_by_side(*[('train.py', cfg, '--work-dir', tmp_path / name, '--seed', 0) for name, cfg in streams.items()])
    outs = [tmp_path / f'{name}.pkl' for name in streams]
    run_side_by_side(*[('test.py', cfg, tmp_path / name / 'epoch_1.pth', '--out', out)
                       for (name, cfg), out in zip(streams.items(), outs)])

    proc = python_tool('ensemble.py', '--scores', *outs, '--weights', 2, 1, '--ann', tmp_path / 'tiny.pkl',
                       '--split', 'val')
    lines = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ['stream'])
    assert lines[header].split() == ['stream', 'top1', 'top3', 'mean_class']
    rows = {line.rsplit(None, 3)[0]: [float(v) for v in line.split()[-3:]] for line in lines[header + 1:]}
    assert list(rows) == [f'{outs[0]} (w=2)', f'{outs[1]} (w=1)', 'fusion 2:1 (prob)']

    # The same numbers straight from the pickles and the annotation file (tiny.pkl: val labels i % 3).
    labels = np.arange(7) % 3
    scores = [np.stack(pickle.load(open(out, 'rb'))) for out in outs]
    assert not np.allclose(scores[0], scores[1]), 'the bone stream scored like the joint stream'
    for name, s in zip(rows, scores + [2 * scores[0] + scores[1]]):
        top1, top3 = top_k_accuracy(s, labels, (1, 3))
        np.testing.assert_allclose(rows[name], [top1, top3, mean_class_accuracy(s, labels)], atol=1e-4)


def test_the_tool_refuses_a_stream_of_another_split(tmp_path):
    ann = write_tiny_dataset(tmp_path / 'tiny.pkl')  # 'val' has 7 samples
    scores = tmp_path / 'six.pkl'
    with open(scores, 'wb') as f:
        pickle.dump([np.full(3, 1 / 3, np.float32)] * 6, f)
    proc = python_tool('ensemble.py', '--scores', scores, scores, '--ann', ann, '--split', 'val', check=False)
    assert proc.returncode != 0
    assert "hold 6 samples but split 'val'" in proc.stderr and str(scores) in proc.stderr
