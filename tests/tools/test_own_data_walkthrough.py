"""Own data, end to end with the command-line tools: numpy arrays + a labels CSV -> convert_skeletons.py ->
check_annotation.py -> one training iteration (tools/train.py) -> tools/test.py --out. The data tools run in this
process (their ``main``), training and testing as commands."""
import pickle

import numpy as np

from .data_tools import run_data_tool
from .helpers import CONFIG, python_tool


def test_arrays_to_trained_and_tested_model(tmp_path, capsys):
    arrays = tmp_path / 'arrays'
    arrays.mkdir()
    rng = np.random.default_rng(0)
    rows = ['name,label,split']
    for i in range(9):
        label, split = i % 3, ('train' if i < 6 else 'val')
        t = np.arange(12)[:, None, None]
        np.save(arrays / f'clip{i}.npy', (rng.normal(0, 0.3, (1, 25, 3)) + 0.2 * np.sin(t * (0.3 + 0.4 * label)))
                .astype(np.float32))  # [T, V, C] = [12, 25, 3]
        rows.append(f'clip{i},{label},{split}')
    (tmp_path / 'labels.csv').write_text('\n'.join(rows) + '\n')
    ann = tmp_path / 'mine.pkl'

    status, out, _ = run_data_tool(capsys, 'convert_skeletons', 'numpy', arrays, '--labels', tmp_path / 'labels.csv',
                                   '--out', ann)
    assert status == 0 and '9 samples (train: 6, val: 3); layout: nturgb+d' in out

    status, out, _ = run_data_tool(capsys, 'check_annotation', ann, '--layout', 'nturgb+d', '--num-classes', 3)
    assert status == 0 and 'no problem found (9 samples)' in out

    cfg = tmp_path / 'config.py'
    cfg.write_text(CONFIG.format(num_classes=3, ann_file=str(ann), max_epochs=1, batch_size=6,
                                 work_dir=str(tmp_path / 'work')))
    python_tool('train.py', cfg, '--seed', 0)  # 6 training samples, batch 6: one iteration
    checkpoint = tmp_path / 'work' / 'epoch_1.pth'
    assert checkpoint.exists()

    scores_file = tmp_path / 'scores.pkl'
    proc = python_tool('test.py', cfg, checkpoint, '--out', scores_file)
    assert 'top1_acc' in proc.stdout
    with open(scores_file, 'rb') as f:
        scores = pickle.load(f)
    assert len(scores) == 3 and all(s.shape == (3, ) for s in scores)
