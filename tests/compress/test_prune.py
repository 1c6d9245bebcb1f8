"""Unstructured magnitude pruning, masks during fine-tuning, and the gradual (Zhu & Gupta) schedule."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn

from mcuforge.compress.prune import (
    GradualPruner,
    MagnitudePruner,
    polynomial_sparsity,
    prune_magnitude,
    weight_sparsity,
)


def small_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 16), nn.ReLU(),
                         nn.Linear(16, 4))


def fine_tune(net, pruner, steps, optimizer=None):
    torch.manual_seed(1)
    opt = optimizer or torch.optim.Adam(net.parameters(), lr=1e-2, weight_decay=1e-3)
    x, y = torch.randn(32, 1, 8, 8), torch.randint(0, 4, (32,))
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
        if pruner is not None:
            pruner.step()


def test_per_layer_sparsity_is_exact():
    net = small_net()
    pruner = prune_magnitude(net, 0.7, scope="layer")
    for name, s in weight_sparsity(net).items():
        assert s == pytest.approx(0.7, abs=0.01), name
    assert pruner.sparsity()["global"] == pytest.approx(0.7, abs=0.01)


def test_global_sparsity_prunes_the_smallest_weights_overall():
    net = small_net()
    with torch.no_grad():
        net[5].weight.mul_(100.0)  # the last layer's weights are all large: global pruning spares them
    weights = torch.cat([m.weight.detach().abs().reshape(-1) for m in (net[0], net[3], net[5])])
    prune_magnitude(net, 0.5, scope="global")
    sparsity = weight_sparsity(net)
    assert sparsity["global"] == pytest.approx(0.5, abs=1e-3)
    assert sparsity["5"] == 0.0 and sparsity["3"] > 0.5
    kept = torch.cat([m.weight.detach().abs().reshape(-1) for m in (net[0], net[3], net[5])])
    assert kept[kept > 0].min() >= weights.kthvalue(weights.numel() // 2).values


def test_masks_persist_through_fine_tuning():
    net = small_net()
    pruner = prune_magnitude(net, 0.8, layers=["3"], scope="layer")
    mask = pruner.masks["3"].clone()
    before = net[3].weight.detach().clone()
    fine_tune(net, None, 20)
    net(torch.randn(1, 1, 8, 8))  # the pre-hook re-applies the masks before every forward
    w = net[3].weight.detach()
    assert torch.all(w[mask == 0] == 0) and not torch.equal(w[mask == 1], before[mask == 1])
    assert weight_sparsity(net)["0"] == 0.0  # layers not listed are untouched
    pruner.remove()
    fine_tune(net, None, 2, torch.optim.SGD(net.parameters(), lr=0.1))
    assert (net[3].weight.detach()[mask == 0] != 0).any()  # hooks gone: weights may grow back


def test_sparsity_monotone_when_pruning_again():
    net = small_net()
    pruner = MagnitudePruner(net)
    pruner.prune(0.3)
    first = {n: m.clone() for n, m in pruner.masks.items()}
    fine_tune(net, None, 5)
    pruner.prune(0.6)
    for name, mask in first.items():
        assert torch.all(pruner.masks[name][mask == 0] == 0), name
    assert pruner.sparsity()["global"] == pytest.approx(0.6, abs=1e-3)


def test_polynomial_schedule_formula():
    si, sf, t0, t1 = 0.1, 0.9, 10, 50
    for t in (10, 20, 30, 45, 50):
        expected = sf + (si - sf) * (1 - (t - t0) / (t1 - t0)) ** 3
        assert polynomial_sparsity(t, sf, t0, t1, si) == pytest.approx(expected)
    assert polynomial_sparsity(0, sf, t0, t1, si) == si and polynomial_sparsity(99, sf, t0, t1, si) == sf


def test_gradual_pruner_during_fine_tuning():
    net = small_net()
    pruner = GradualPruner(net, final_sparsity=0.8, begin_step=2, end_step=12, frequency=5)
    fine_tune(net, pruner, 15)
    assert [t for t, _ in pruner.history] == [2, 7, 12]
    for t, target in pruner.history:
        assert target == pytest.approx(0.8 + (0.0 - 0.8) * (1 - (t - 2) / 10) ** 3)
    assert pruner.history[-1][1] == pytest.approx(0.8)
    assert weight_sparsity(net)["global"] == pytest.approx(0.8, abs=1e-3)
    assert pruner.sparsity()["global"] == pytest.approx(0.8, abs=1e-3)


def test_bad_arguments():
    with pytest.raises(ValueError):
        MagnitudePruner(small_net(), scope="row")
    with pytest.raises(ValueError):
        MagnitudePruner(small_net(), layers=["nope"])
    with pytest.raises(ValueError):
        prune_magnitude(small_net(), 1.5)
