"""The shared GCN blocks: their fast paths compute what the plain formulas compute, in training too."""
import copy

import pytest
import torch

from pyskl.graph import Graph
from pyskl.models.blocks import mstcn, unit_gcn


def _naive_mstcn_forward(module, x):
    feat = torch.cat([branch(x) for branch in module.branches], dim=1)
    return module.drop(module.bn(module.transform(feat)))


@pytest.mark.parametrize('stride', [1, 2])
def test_mstcn_merged_branches_match_branch_by_branch_in_training(stride):
    torch.manual_seed(0)
    fast = mstcn(24, 24, stride=stride).train()
    slow = copy.deepcopy(fast)
    x = torch.randn(4, 24, 12, 5).contiguous(memory_format=torch.channels_last)
    for _ in range(2):  # two steps: running statistics must evolve identically
        out_fast, out_slow = fast(x), _naive_mstcn_forward(slow, x)
        torch.testing.assert_close(out_fast, out_slow, rtol=1e-5, atol=1e-5)
        out_fast.square().sum().backward()
        out_slow.square().sum().backward()
    for (name, p_fast), p_slow in zip(fast.named_parameters(), slow.parameters()):
        torch.testing.assert_close(p_fast.grad, p_slow.grad, rtol=1e-4, atol=1e-5, msg=name)
    for (name, b_fast), b_slow in zip(fast.named_buffers(), slow.buffers()):
        torch.testing.assert_close(b_fast, b_slow, rtol=1e-5, atol=1e-6, msg=name)
    fast.eval(), slow.eval()
    torch.testing.assert_close(fast(x), _naive_mstcn_forward(slow, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('adaptive', [None, 'init', 'importance', 'offset'])
def test_unit_gcn_channels_last_aggregation_matches_einsum(adaptive):
    torch.manual_seed(0)
    A = torch.tensor(Graph('nturgb+d', 'spatial').A, dtype=torch.float32)
    layer = unit_gcn(6, 8, A, adaptive=adaptive, with_res=True).train()
    x = torch.randn(3, 6, 7, 25, requires_grad=True)
    x_cl = x.detach().contiguous(memory_format=torch.channels_last).requires_grad_()
    ref = copy.deepcopy(layer)
    out_cl, out = layer(x_cl), ref(x)
    assert out_cl.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous(
        memory_format=torch.channels_last)
    torch.testing.assert_close(out_cl, out, rtol=1e-5, atol=1e-5)
    out_cl.sum().backward()
    out.sum().backward()
    torch.testing.assert_close(x_cl.grad, x.grad, rtol=1e-5, atol=1e-5)
    # A bias before a train-mode BatchNorm has a zero gradient in exact arithmetic: what float32 leaves there is
    # rounding of sums as large as the biggest gradient, so the tolerance follows that scale (and the thread count
    # does not matter).
    scale = max(p.grad.abs().max().item() for p in ref.parameters())
    for (name, p_cl), p in zip(layer.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p_cl.grad, p.grad, rtol=1e-4, atol=1e-6 * scale, msg=name)


@pytest.mark.parametrize('stride', [1, 2])
@pytest.mark.parametrize('layout', ['contiguous', 'channels_last', 'channel_slice'])
def test_temporal_max_pool_gives_max_pool2d_values_and_gradients_bit_for_bit(stride, layout):
    from pyskl.models.blocks import TemporalMaxPool
    full = torch.relu(torch.randn(3, 10, 11, 5, generator=torch.Generator().manual_seed(0)))  # ReLU zeros tie
    x = {'contiguous': full, 'channels_last': full.contiguous(memory_format=torch.channels_last),
         'channel_slice': full[:, 2:6]}[layout].detach().requires_grad_()
    ours = TemporalMaxPool(kernel_size=(3, 1), stride=(stride, 1), padding=(1, 0))
    theirs = torch.nn.MaxPool2d(kernel_size=(3, 1), stride=(stride, 1), padding=(1, 0))
    y, y_ref = ours(x), theirs(x)
    assert torch.equal(y, y_ref) and y.is_contiguous() == y_ref.is_contiguous()
    grad = torch.randn_like(y_ref)
    assert torch.equal(torch.autograd.grad(y, x, grad)[0], torch.autograd.grad(y_ref, x, grad)[0])


def test_temporal_max_pool_pools_a_contiguous_input_as_channels_last(monkeypatch):
    from pyskl.models.blocks import TemporalMaxPool
    from pyskl.models.blocks import layers
    seen = []

    def spy(x, *args, **kwargs):
        seen.append(x.is_contiguous(memory_format=torch.channels_last))
        return torch.nn.functional.max_pool2d(x, *args, **kwargs)

    monkeypatch.setattr(layers, 'F', type('F', (), {'max_pool2d': staticmethod(spy)}))
    TemporalMaxPool(kernel_size=(3, 1), stride=(1, 1), padding=(1, 0))(torch.randn(2, 4, 9, 5))
    assert seen == [True]
