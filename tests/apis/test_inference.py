"""init_recognizer / inference_recognizer: PYSKL's gesture demo on its real checkpoint, the same scores as tools/test.py
(the gesture checkpoint and a quickstart checkpoint), label names, batches and bad input."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config

from pyskl.apis import Prediction, inference_recognizer, init_recognizer
from pyskl.utils.label_maps import load_label_map
from tests.conftest import REPO_ROOT, load_ref, load_script, shared_file

GESTURE_CONFIG = str(REPO_ROOT / 'demo' / 'stgcnpp_gesture.py')
QUICKSTART_CONFIG = str(REPO_ROOT / 'configs' / 'quickstart' / 'stgcn++_synthetic_ntu3d_j.py')

pytestmark = pytest.mark.usefixtures('one_thread')


def run_test_tool(argv):
    """tools/test.py's main, in this process."""
    return load_script('tools/test.py').main([str(a) for a in argv])


def read_scores(path):
    with open(path, 'rb') as f:
        return np.stack(pickle.load(f))


@pytest.fixture(scope='module')
def gesture_case():
    return load_ref('dev_hagrid_stgcnpp_gesture')


@pytest.fixture(scope='module')
def gesture_model():
    return init_recognizer(GESTURE_CONFIG, str(shared_file('data', 'hagrid.pth')))


def demo_annotation(case):
    return {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in case['demo_annotation'].items()}


def test_gesture_checkpoint_through_the_api_gives_pyskls_logits(gesture_case, gesture_model):
    """hagrid.pth loaded by init_recognizer (BatchNorms folded, the default) computes PYSKL's backbone features and
    logits, and its recognizer's clip-averaged probabilities."""
    case, model = gesture_case, gesture_model
    with torch.no_grad():
        feats = model.backbone(case['backbone_input'])
        logits = model.cls_head(feats)
        averaged = model(case['recognizer_input'], mode='tensor').softmax(-1).mean(1)
    torch.testing.assert_close(feats, case['backbone_output'], rtol=0, atol=1e-4)
    torch.testing.assert_close(logits, case['head_output'], rtol=0, atol=1e-4)
    torch.testing.assert_close(averaged, case['recognizer_test_output'], rtol=0, atol=1e-4)


def test_gesture_demo_matches_pyskl_and_names_the_classes(gesture_case, gesture_model):
    pred = inference_recognizer(gesture_model, demo_annotation(gesture_case))
    expected = gesture_case['demo_recognizer_test_output'][0].numpy()
    assert isinstance(pred, Prediction) and pred.scores.shape == (40, )
    np.testing.assert_allclose(pred.scores, expected, rtol=0, atol=1e-4)
    names = load_label_map('gesture')
    assert [i for i, _, _ in pred.topk] == np.argsort(-expected)[:5].tolist()
    assert [name for _, name, _ in pred.topk] == [names[i] for i, _, _ in pred.topk]
    assert pred.label == pred.topk[0][0] and pred.name == names[pred.label] and pred.score == pred.topk[0][2]
    assert pred.label_names == tuple(names)


def test_gesture_api_scores_equal_test_tool_scores_on_the_same_annotation(gesture_case, gesture_model, tmp_path):
    """tools/test.py (unfused model, the dataset's pipeline) and the API (folded model) on one hand annotation."""
    anno = demo_annotation(gesture_case)
    ann_file = tmp_path / 'hand.pkl'
    with open(ann_file, 'wb') as f:
        pickle.dump([dict(anno, frame_dir='hand_0', label=0)], f)
    cfg = Config.fromfile(GESTURE_CONFIG)
    cfg.test_dataloader = dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                               dataset=dict(type='PoseDataset', ann_file=str(ann_file), pipeline=cfg.test_pipeline,
                                            test_mode=True))
    cfg.test_evaluator = dict(type='AccMetric')
    cfg.test_cfg = dict(type='TestLoop')
    config = tmp_path / 'gesture_test.py'
    cfg.dump(str(config))
    run_test_tool([config, shared_file('data', 'hagrid.pth'), '--out', tmp_path / 'scores.pkl',
                   '--work-dir', tmp_path / 'work'])
    tool_scores = read_scores(tmp_path / 'scores.pkl')
    pred = inference_recognizer(gesture_model, {k: v for k, v in anno.items() if k != 'test_mode'})
    np.testing.assert_allclose(pred.scores, tool_scores[0], rtol=0, atol=1e-5)
    np.testing.assert_allclose(tool_scores[0], gesture_case['demo_recognizer_test_output'][0].numpy(), atol=1e-4)


def test_inference_is_deterministic_in_test_mode(gesture_model):
    """PYSKL's inference forgot test_mode and sampled frames at random; here two calls agree, whatever the sample
    says."""
    rng = np.random.default_rng(0)
    anno = dict(keypoint=rng.uniform(0.3, 0.7, size=(1, 40, 21, 2)).astype(np.float32), test_mode=False)
    first = inference_recognizer(gesture_model, anno)
    assert inference_recognizer(gesture_model, anno).topk == first.topk


def test_a_list_is_classified_in_batches_as_one_by_one(gesture_model):
    rng = np.random.default_rng(1)
    samples = [dict(keypoint=rng.uniform(0.2, 0.8, size=(1, int(t), 21, 2)).astype(np.float32))
               for t in (12, 30, 7, 25, 40)]
    batched = inference_recognizer(gesture_model, samples, topk=3, batch_size=2)
    assert len(batched) == 5
    for sample, pred in zip(samples, batched):
        alone = inference_recognizer(gesture_model, sample, topk=3)
        assert len(pred.topk) == 3
        np.testing.assert_allclose(pred.scores, alone.scores, rtol=0, atol=1e-6)


def test_bad_input_is_refused_before_any_work(gesture_model):
    with pytest.raises(ValueError, match=r"sample 'hand_7'.*\[M, T, V, C\]"):
        inference_recognizer(gesture_model, dict(frame_dir='hand_7', keypoint=np.zeros((10, 21, 2), np.float32)))
    with pytest.raises(ValueError, match=r"sample #1.*NaN"):
        good = dict(keypoint=np.zeros((1, 5, 21, 2), np.float32))
        inference_recognizer(gesture_model, [good, dict(keypoint=np.full((1, 5, 21, 2), np.nan, np.float32))])
    with pytest.raises(TypeError, match='sample dict'):
        inference_recognizer(gesture_model, np.zeros((1, 5, 21, 2)))


def test_label_map_argument_and_a_wrong_length_is_an_error():
    model = init_recognizer(GESTURE_CONFIG, label_map=str(REPO_ROOT / 'tools' / 'data' / 'label_map' / 'gesture.txt'))
    assert model.dataset_meta['classes'][27] == 'Call'
    with pytest.raises(ValueError, match='names 60 classes but the model has 40'):
        init_recognizer(GESTURE_CONFIG, label_map='nturgbd_60')


# -- a quickstart checkpoint --------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def quickstart(tmp_path_factory):
    """The quickstart config trained for one epoch on a small synthetic set: its config, checkpoint and data."""
    from pyskl.apis.runner import train, train_config
    from pyskl.datasets.synthetic import label_map_path, write_synthetic_dataset
    tmp = tmp_path_factory.mktemp('quickstart')
    ann_file = str(tmp / 'ntu3d.pkl')
    write_synthetic_dataset(ann_file, 'ntu3d', 16, 4, 0)
    cfg = Config.fromfile(QUICKSTART_CONFIG)
    cfg.label_map = label_map_path(ann_file)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.update(ann_file=ann_file, label_map=cfg.label_map)
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.logger.interval = 1
    config = tmp / 'quickstart.py'
    cfg.dump(str(config))
    train(train_config(str(config), work_dir=str(tmp / 'work'), seed=0))
    with open(ann_file, 'rb') as f:
        data = pickle.load(f)
    val = [a for a in data['annotations'] if a['frame_dir'] in data['split']['val']]
    return config, tmp / 'work' / 'epoch_1.pth', val, tmp


def test_quickstart_checkpoint_api_scores_equal_test_tool_scores(quickstart):
    """The same samples, the same 10-clip test pipeline: the API's scores are tools/test.py --out's."""
    config, ckpt, val, tmp = quickstart
    run_test_tool([config, ckpt, '--out', tmp / 'scores.pkl', '--work-dir', tmp / 'test'])
    tool_scores = read_scores(tmp / 'scores.pkl')
    for fuse in (True, False):
        preds = inference_recognizer(init_recognizer(str(config), str(ckpt), fuse_bn=fuse), val, batch_size=3)
        np.testing.assert_allclose(np.stack([p.scores for p in preds]), tool_scores, rtol=0, atol=1e-5)
    classes = load_label_map(Config.fromfile(str(config)).label_map)
    assert preds[0].name == classes[preds[0].label]


def test_class_names_fall_back_to_the_checkpoints_record(quickstart, tmp_path, monkeypatch):
    """A config whose label map is not found from here: the names come from the mmengine checkpoint's meta."""
    config, ckpt, val, _ = quickstart
    cfg = Config.fromfile(str(config))
    classes = load_label_map(cfg.label_map)
    monkeypatch.chdir(tmp_path)
    cfg.label_map = 'elsewhere/labels.txt'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.label_map = cfg.label_map
    model = init_recognizer(cfg, str(ckpt))
    assert model.dataset_meta['classes'] == tuple(classes)
    assert init_recognizer(cfg).dataset_meta['classes'] is None  # no checkpoint, no names
    assert inference_recognizer(init_recognizer(cfg), val[0]).name is None


def test_posec3d_quickstart_api_scores_equal_test_tool_scores(tmp_path):
    """A 3D CNN whose heatmaps the data preprocessor renders (GeneratePoseTarget(deferred=True)): the API and
    tools/test.py give the same scores (weights as built, BatchNorm statistics made non-trivial)."""
    from pyskl.datasets.synthetic import label_map_path, write_synthetic_dataset
    from pyskl.registry import MODELS
    ann_file = str(tmp_path / 'coco2d.pkl')
    write_synthetic_dataset(ann_file, 'coco2d', 3, 3, 0)
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'quickstart' / 'c3d_synthetic_coco2d_joint.py'))
    cfg.label_map = label_map_path(ann_file)
    cfg.test_pipeline[0].num_clips = 2  # of 10: the same path, a fifth of the work
    cfg.test_dataloader.dataset.update(ann_file=ann_file, label_map=cfg.label_map, pipeline=cfg.test_pipeline)
    config = tmp_path / 'c3d.py'
    cfg.dump(str(config))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    for name, buffer in model.named_buffers():
        if name.endswith(('running_mean', 'running_var')):
            buffer.uniform_(0.5, 1.5)
    torch.save(model.state_dict(), tmp_path / 'c3d.pth')
    run_test_tool([config, tmp_path / 'c3d.pth', '--out', tmp_path / 'scores.pkl', '--work-dir', tmp_path / 'test'])
    with open(ann_file, 'rb') as f:
        data = pickle.load(f)
    val = [a for a in data['annotations'] if a['frame_dir'] in data['split']['val']]
    preds = inference_recognizer(init_recognizer(str(config), str(tmp_path / 'c3d.pth')), val)
    np.testing.assert_allclose(np.stack([p.scores for p in preds]), read_scores(tmp_path / 'scores.pkl'), rtol=0,
                               atol=1e-5)
    assert preds[0].name in load_label_map(cfg.label_map)


def test_folded_weights_have_no_subnormals_and_the_same_outputs(tmp_path):
    """A dead channel (its BatchNorm's gamma subnormal) folds into subnormal conv weights, which CPUs compute with
    many times slower: init_recognizer zeroes them, and the outputs stay the unfolded model's."""
    from pyskl.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(GESTURE_CONFIG).model)
    batch_norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for bn in batch_norms[:3]:
        bn.weight.data[:5] = 1e-39
    torch.save(model.state_dict(), tmp_path / 'dead.pth')
    tiny = torch.finfo(torch.float32).tiny

    def subnormals(m):
        return sum(int(((t.abs() < tiny) & (t != 0)).sum()) for t in list(m.parameters()) + list(m.buffers())
                   if t.is_floating_point())

    unfolded = init_recognizer(GESTURE_CONFIG, str(tmp_path / 'dead.pth'), fuse_bn=False)
    folded = init_recognizer(GESTURE_CONFIG, str(tmp_path / 'dead.pth'))
    assert subnormals(unfolded) == 15 and subnormals(folded) == 0
    x = torch.rand(2, 1, 1, 10, 21, 2)
    with torch.no_grad():
        torch.testing.assert_close(folded(x, mode='tensor'), unfolded(x, mode='tensor'), rtol=0, atol=1e-5)
