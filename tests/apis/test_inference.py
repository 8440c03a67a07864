"""init_recognizer / inference_recognizer reproduce PYSKL's gesture demo on its real checkpoint."""
import numpy as np
import torch

from pyskl.apis import inference_recognizer, init_recognizer
from tests.conftest import REPO_ROOT, load_ref, shared_file


def test_gesture_demo_matches_pyskl():
    case = load_ref('dev_hagrid_stgcnpp_gesture')
    model = init_recognizer(str(REPO_ROOT / 'demo' / 'stgcnpp_gesture.py'), str(shared_file('data', 'hagrid.pth')),
                            device='cpu')
    anno = {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in case['demo_annotation'].items()}
    top5 = inference_recognizer(model, anno)
    expected = case['demo_recognizer_test_output'][0]
    np.testing.assert_allclose(model.last_scores.numpy(), expected.numpy(), atol=1e-4)
    assert [i for i, _ in top5] == expected.argsort(descending=True)[:5].tolist()
    assert top5[0][1] == max(s for _, s in top5)


def test_inference_is_deterministic_in_test_mode():
    """PYSKL's inference forgot test_mode and sampled frames at random; here two calls agree."""
    model = init_recognizer(str(REPO_ROOT / 'demo' / 'stgcnpp_gesture.py'), str(shared_file('data', 'hagrid.pth')),
                            device='cpu')
    rng = np.random.default_rng(0)
    anno = dict(keypoint=rng.uniform(0.3, 0.7, size=(1, 40, 21, 2)).astype(np.float32), total_frames=40)
    first = inference_recognizer(model, anno)
    assert inference_recognizer(model, anno) == first
