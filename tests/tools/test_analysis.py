"""tools/analysis/get_flops.py and bench_inference.py on one config of every GCN family (small T)."""
import re

import pytest
from mmengine.config import Config

from pyskl.registry import MODELS
from pyskl.utils.analysis import (count_flops, cpu_times, gcn_input_shape, median_seconds, parameter_counts,
                                  steal_share)

from tests.conftest import load_script

from .helpers import REPO, python_tool

FAMILY_CONFIGS = {
    'stgcn': 'configs/stgcn/stgcn_pyskl_ntu60_xsub_3dkp/j.py',
    'stgcn++': 'configs/stgcn++/stgcn++_ntu60_xsub_3dkp/j.py',
    'aagcn': 'configs/aagcn/aagcn_pyskl_ntu60_xsub_3dkp/j.py',
    'ctrgcn': 'configs/ctrgcn/ctrgcn_pyskl_ntu60_xsub_3dkp/j.py',
    'msg3d': 'configs/msg3d/msg3d_pyskl_ntu60_xsub_3dkp/j.py',
    'dgstgcn': 'configs/dgstgcn/ntu60_xsub_3dkp/j.py',
}


pytestmark = pytest.mark.usefixtures('one_thread')


def load_tool(name):
    return load_script(f'tools/analysis/{name}.py')


def build(config):
    return MODELS.build(Config.fromfile(REPO / config).model)


def printed_number(text, pattern):
    match = re.search(pattern, text)
    assert match, f'{pattern!r} not in:\n{text}'
    return float(match.group(1).replace(',', ''))


@pytest.mark.parametrize('family', list(FAMILY_CONFIGS))
def test_get_flops_prints_the_models_parameters_and_positive_flops(family, capsys):
    config = str(REPO / FAMILY_CONFIGS[family])
    load_tool('get_flops').main([config, '--shape', '6', '25', '3', '2'])
    out = capsys.readouterr().out
    model = build(FAMILY_CONFIGS[family])
    total = sum(p.numel() for p in model.parameters())
    assert printed_number(out, r'params: total ([\d,]+)') == total
    assert printed_number(out, r'backbone ([\d,]+)') == sum(p.numel() for p in model.backbone.parameters())
    assert printed_number(out, r'head ([\d,]+)') == sum(p.numel() for p in model.cls_head.parameters())
    assert printed_number(out, r'GFLOPs: ([\d.]+)') > 0
    assert 'input: [clips, M, T, V, C] = [1, 2, 6, 25, 3]' in out


@pytest.mark.parametrize('family', list(FAMILY_CONFIGS))
def test_bench_inference_runs_every_family(family, capsys):
    load_tool('bench_inference').main([str(REPO / FAMILY_CONFIGS[family]), '--batch', '2', '--frames', '6',
                                       '--warmup', '0', '--repeats', '1', '--device', 'cpu'])
    out = capsys.readouterr().out
    assert printed_number(out, r'samples/s: ([\d.]+)') > 0
    assert '[2, 1, 2, 6, 25, 3]' in out


def test_default_input_comes_from_the_graph_and_in_channels():
    assert gcn_input_shape(build(FAMILY_CONFIGS['stgcn++'])) == (2, 100, 25, 3)
    hrnet = build('configs/ctrgcn/ctrgcn_pyskl_ntu60_xsub_hrnet/j.py')
    assert gcn_input_shape(hrnet, frames=48, num_person=1) == (1, 48, 17, 3)


def test_flops_grow_with_frames_and_clips_and_params_split_into_backbone_and_head():
    model = build(FAMILY_CONFIGS['stgcn++']).eval()
    counts = parameter_counts(model)
    assert counts['total'] == counts['backbone'] + counts['head'] == 1_403_144  # PYSKL's count (facts §4)
    one = count_flops(model, (2, 8, 25, 3))
    assert count_flops(model, (2, 8, 25, 3), clips=3) == 3 * one
    assert count_flops(model, (2, 16, 25, 3)) > 1.9 * one


def test_median_seconds_takes_the_median_after_warmup():
    calls = []
    median, times = median_seconds(lambda: calls.append(1), warmup=2, repeats=5)
    assert len(calls) == 7 and len(times) == 5 and median == sorted(times)[2]


def test_command_lines(tmp_path):
    config = REPO / FAMILY_CONFIGS['stgcn']
    flops = python_tool('analysis/get_flops.py', config, '--shape', 4, 25, 3, 1, '--clips', 2)
    assert 'input: [clips, M, T, V, C] = [2, 1, 4, 25, 3]' in flops.stdout
    assert 'params: total 3,098,832 (backbone' in flops.stdout
    bench = python_tool('analysis/bench_inference.py', config, '--batch', 1, '--frames', 4, '--threads', 1,
                        '--warmup', 0, '--repeats', 2, '--device', 'cpu')
    assert 'cpu, 1 threads' in bench.stdout and 'samples/s:' in bench.stdout


def test_steal_share_is_the_stolen_part_of_the_ticks_between_two_readings(tmp_path):
    stat = tmp_path / 'stat'
    stat.write_text('cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 50 0 25 400 5 0 0 20 0 0\n')
    before = cpu_times(str(stat))
    assert before == (40, 1000)
    stat.write_text('cpu  160 0 70 900 10 0 0 100 0 0\n')  # 240 more ticks, 60 of them stolen
    assert steal_share(before, cpu_times(str(stat))) == pytest.approx(0.25)


def test_cpu_times_is_none_without_a_proc_stat(tmp_path):
    assert cpu_times(str(tmp_path / 'missing')) is None
    (tmp_path / 'bad').write_text('intr 1 2 3\n')
    assert cpu_times(str(tmp_path / 'bad')) is None
    assert steal_share(None, (1, 2)) is None
