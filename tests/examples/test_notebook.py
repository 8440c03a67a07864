"""examples/quickstart_notebook.ipynb runs headless: its code cells, in order, in one namespace, as a kernel would
run them (QUICK=1 shrinks the training to one iteration; the outputs go to a temporary folder)."""
import json

import matplotlib
import pytest

from tests.conftest import REPO_ROOT

NOTEBOOK = REPO_ROOT / 'examples' / 'quickstart_notebook.ipynb'

pytestmark = pytest.mark.usefixtures('one_thread')


def code_cells(path):
    notebook = json.loads(path.read_text())
    assert notebook['nbformat'] == 4
    cells = [cell for cell in notebook['cells'] if cell['cell_type'] == 'code']
    for cell in cells:  # committed clean: no outputs, no execution counts
        assert cell['outputs'] == [] and cell['execution_count'] is None
    return [''.join(cell['source']) for cell in cells]


def test_the_notebook_trains_classifies_and_plots(tmp_path, monkeypatch):
    monkeypatch.setenv('QUICK', '1')
    monkeypatch.setenv('PYSKL_NOTEBOOK_OUT', str(tmp_path))
    monkeypatch.chdir(tmp_path)
    backend = matplotlib.get_backend()
    matplotlib.use('Agg')  # plt.show() draws nothing headless
    namespace = {'__name__': '__main__'}
    try:
        for number, source in enumerate(code_cells(NOTEBOOK)):
            exec(compile(source, f'{NOTEBOOK.name}, code cell {number}', 'exec'), namespace)
    finally:
        import matplotlib.pyplot as plt
        figures = plt.get_fignums()
        plt.close('all')
        matplotlib.use(backend)
    assert namespace['QUICK'] and (tmp_path / 'data' / 'synthetic' / 'coco2d.pkl').is_file()
    checkpoint = namespace['checkpoint']
    assert checkpoint.startswith(str(tmp_path / 'work_dirs')) and checkpoint.endswith('.pth')
    predictions, classes = namespace['predictions'], namespace['class_names']
    assert len(predictions) == 4 and len(classes) == 15  # QUICK: 4 validation samples
    assert all(len(pred.topk) == 3 and {name for _, name, _ in pred.topk} <= set(classes) for pred in predictions)
    assert len(figures) == 2  # the skeleton frames and the scores
