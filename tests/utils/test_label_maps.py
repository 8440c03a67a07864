"""The shipped label maps: reachable by name, PYSKL's words, and the checks around them."""
import hashlib

import pytest

from pyskl.utils.label_maps import LABEL_MAPS, label_map_dir, label_map_of_annotation, label_map_path, load_label_map
from tests.conftest import REPO_ROOT

# PYSKL's GestureDataset.label_names (facts §7.3): Jester's 27 classes in PYSKL's order, then HaGRID's 13.
GESTURES = [
    'Doing other things', 'Drumming Fingers', 'No gesture', 'Pulling Hand In', 'Pulling Two Fingers In',
    'Pushing Hand Away', 'Pushing Two Fingers Away', 'Rolling Hand Backward', 'Rolling Hand Forward', 'Shaking Hand',
    'Sliding Two Fingers Down', 'Sliding Two Fingers Left', 'Sliding Two Fingers Right', 'Sliding Two Fingers Up',
    'Stop Sign', 'Swiping Down', 'Swiping Left', 'Swiping Right', 'Swiping Up', 'Dislike', 'Like',
    'Turning Hand Clockwise', 'Turning Hand Counterclockwise', 'Zooming In With Full Hand',
    'Zooming In With Two Fingers', 'Zooming Out With Full Hand', 'Zooming Out With Two Fingers', 'Call', 'Fist', 'Four',
    'Mute', 'OK', 'One', 'Palm', 'Peace', 'Rock', 'Three-Middle', 'Three-Left', 'Two Up', 'No Gesture'
]

# The files' bytes, so that no edit goes unnoticed. Compared word for word: nturgbd_120.txt with PYSKL's
# tools/data/label_map/nturgbd_120.txt (and nturgbd_60.txt is its first 60 lines), gesture.txt with GESTURES above,
# gym.txt and diving48.txt with MMAction2's Gym99 and Diving48 label maps (PYSKL ships the same lists); k400, ucf101
# and hmdb51 are checked for their counts only (PYSKL's files were not readable here).
SHA256 = {
    'diving48': '7832becc4d9326028e29fb2cf5adaade78052030c1791784c6dffc32541fd9e9',
    'gesture': '304006d008eef6dc3b9c01ab00423e84eabd6dfaf58d8d39bb2690d36b1a66da',
    'gym': '307861ed4285f6c3a8ae7812d7a18bd5802bdb1af505868478edc02bec6d1c29',
    'hmdb51': 'c24c56a7af6f3ea55c8fb2a8e5b2c3a42644fcc5d86e49313536cfbd3499538a',
    'k400': 'e9f2806fe9109b851a80a74841244f6f8c9d10917fa0229cd82bab67f2f8e28f',
    'nturgbd_120': '6c6a4ef65e0f14476e13928bda42e1bf5e25b7b5e934317377012c6aa51483f7',
    'nturgbd_60': '4b6fc7042fd3a58e15eb70b8d021e2b6c9b2ca2ca996df2b7e98434189b7f0b5',
    'ucf101': 'fabeefc51625dad8a5b960156ccf75eea4c3b914d95bc02b43618fd61ecd1930',
}
COUNTS = dict(nturgbd_60=60, nturgbd_120=120, k400=400, gym=99, ucf101=101, hmdb51=51, diving48=48, gesture=40)


def test_every_dataset_has_a_shipped_label_map_with_pyskls_words():
    assert set(LABEL_MAPS) == set(SHA256) == set(COUNTS)
    assert label_map_dir() == REPO_ROOT / 'tools' / 'data' / 'label_map'  # in a checkout; a wheel has its own copy
    for name in LABEL_MAPS:
        data = open(label_map_path(name), 'rb').read()
        assert hashlib.sha256(data).hexdigest() == SHA256[name], name
        assert len(load_label_map(name, COUNTS[name])) == COUNTS[name]
    assert load_label_map('gesture') == GESTURES
    ntu120 = load_label_map('nturgbd_120')
    assert ntu120[59] == 'walking apart from each other' and ntu120[119].startswith('finger-guessing game')


def test_a_file_path_loads_and_trailing_blank_lines_and_spaces_go(tmp_path):
    path = tmp_path / 'mine.txt'
    path.write_text(' wave \nclap\n\n\n', encoding='utf-8')
    assert load_label_map(str(path)) == ['wave', 'clap']


def test_unknown_names_and_wrong_lengths_are_errors():
    with pytest.raises(FileNotFoundError, match="'ntu60' is neither a file nor a shipped name"):
        load_label_map('ntu60')
    with pytest.raises(ValueError, match='names 120 classes but the model has 60'):
        load_label_map('nturgbd_120', num_classes=60)


@pytest.mark.parametrize('ann_file, name', [
    ('data/nturgbd/ntu60_3danno.pkl', 'nturgbd_60'), ('data/nturgbd/ntu120_hrnet.pkl', 'nturgbd_120'),
    ('data/k400/k400_hrnet.pkl', 'k400'), ('data/gym/gym_hrnet.pkl', 'gym'), ('ucf101_hrnet.pkl', 'ucf101'),
    ('data/hmdb51/hmdb51_hrnet.pkl', 'hmdb51'), ('diving48_hrnet.pkl', 'diving48'),
    ('data/synthetic/ntu3d.pkl', None), ('my_ntu60_copy.pkl', None)])
def test_pyskls_annotation_files_name_their_label_maps(ann_file, name):
    assert label_map_of_annotation(ann_file) == name


def test_a_pyskl_config_gets_its_datasets_names_through_the_api():
    from pyskl.apis import init_recognizer
    model = init_recognizer(str(REPO_ROOT / 'configs/stgcn++/stgcn++_ntu120_xsub_hrnet/j.py'))
    assert model.dataset_meta['classes'] == tuple(load_label_map('nturgbd_120'))
