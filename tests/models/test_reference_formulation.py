"""Our AAGCN and CTR-GCN against PYSKL's step-by-step formulation in ``benchmarks/bench_reference_gcn.py``.

On the same weights, with the adaptive terms on (``alpha`` away from its zero start), both give the same logits and
the same gradient for every backbone parameter. This checks our fused paths (the attention's hand-written backward,
the stacked convs, the DFT temporal convs) against plain autograd, and it checks that the benchmark's baseline
computes the model it claims to. The check runs in float64: in float32 the rounding of ten blocks apart moves the
deepest gradients by 2-4e-3 of their largest value, which would hide a real error of that size.
"""
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / 'benchmarks'


@pytest.fixture
def reference(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_reference_gcn
    from pyskl.utils import register_all_modules
    register_all_modules()
    return bench_reference_gcn


def backbone_grads(model, x, labels):
    model.zero_grad(set_to_none=True)
    logits = model.cls_head(model.backbone(x))
    torch.nn.functional.cross_entropy(logits, labels).backward()
    return logits.detach(), {n: p.grad.clone() for n, p in model.backbone.named_parameters()}


@pytest.mark.parametrize('name', ['AAGCN', 'CTRGCN'])
def test_same_logits_and_gradients_as_pyskls_formulation(reference, name):
    torch.manual_seed(0)
    ours = reference.build(name)
    ref = reference.build_reference(ours)
    for model in (ours, ref):
        reference.adapt_graphs(model.double().train())
    x = torch.randn(2, 2, 24, 25, 3, dtype=torch.float64)
    labels = torch.tensor([3, 7])

    logits, grads = backbone_grads(ours, x, labels)
    ref_logits, ref_grads = backbone_grads(ref, x, labels)

    torch.testing.assert_close(logits, ref_logits, rtol=1e-9, atol=1e-9)
    assert grads.keys() == ref_grads.keys()
    # a bias right before a train-mode BN has a zero gradient: both give rounding noise, so the tolerance also has
    # a floor at the scale of the model's largest gradient
    floor = 1e-9 * max(g.abs().max().item() for g in ref_grads.values())
    for pname, grad in grads.items():
        torch.testing.assert_close(grad, ref_grads[pname], rtol=1e-7, atol=floor, msg=pname)
    # the adaptive graphs took part: their gradients are not zero
    assert all(grads[n].abs().sum() > 0 for n in grads if n.endswith('alpha'))
