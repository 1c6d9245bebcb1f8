"""Structured channel pruning: smaller torch modules that still run and import, with fewer MACs."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn

import mcuforge
from mcuforge.compress.prune_structured import prune_channels
from mcuforge.report.layers import summary


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.conv2, self.bn2 = nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32)
        self.fc1, self.fc2 = nn.Linear(32 * 4 * 4, 24), nn.Linear(24, 5)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = nn.functional.max_pool2d(torch.relu(self.dw(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        return self.fc2(torch.relu(self.fc1(torch.flatten(x, 1))))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.a, self.b = nn.Conv2d(8, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        return self.head(x + self.b(torch.relu(self.a(x))))


def trained_bn(net, x):
    net.train()
    net(x)  # non-trivial running statistics
    return net.eval()


def total_macs(net, x):
    return summary(mcuforge.from_torch(net, x))["total"]["macs"]


def test_channel_pruning_halves_macs_and_keeps_the_strong_channels():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 16)
    net = trained_bn(SmallCNN(), x)
    with torch.no_grad():
        net.conv1.weight[[1, 4, 6, 9, 11, 12, 14, 15]] *= 0.01  # the weakest half by L1 norm
    macs_before, params_before = total_macs(net, x[:1]), sum(p.numel() for p in net.parameters())
    result = prune_channels(net, amount=0.5, norm="l1")
    assert result["pruned"] == {"conv1": (16, 8), "conv2": (32, 16), "fc1": (24, 12)}
    assert set(result["skipped"]) == {"fc2"}  # feeds the module output
    assert net.bn1.num_features == 8 and net.dw.groups == net.dw.out_channels == 8 and net.bn2.running_mean.numel() == 16
    assert net.fc1.in_features == 16 * 4 * 4 and net.fc2.in_features == 12
    assert net(x).shape == (2, 5)
    macs_after = total_macs(net, x[:1])
    assert macs_after <= 0.5 * macs_before
    assert sum(p.numel() for p in net.parameters()) < 0.5 * params_before
    print(f"MACs {macs_before} -> {macs_after} ({macs_after / macs_before:.0%})")


def test_kept_channels_compute_the_same_values():
    torch.manual_seed(1)
    x = torch.randn(2, 3, 16, 16)
    net = trained_bn(SmallCNN(), x)
    with torch.no_grad():  # channels 8..15 of conv1 carry nothing: removing them changes no output
        net.conv1.weight[8:] = 0
        net.conv1.bias[8:] = 0
        net.bn1.bias[8:] = 0
        net.bn1.running_mean[8:] = 0
        net.dw.bias[8:] = 0
    reference = net(x)
    result = prune_channels(net, amount=0.5, layers=["conv1"])
    assert result["pruned"] == {"conv1": (16, 8)}
    torch.testing.assert_close(net(x), reference)


def test_residual_add_is_not_pruned():
    torch.manual_seed(2)
    x = torch.randn(1, 3, 8, 8)
    net = Residual().eval()
    result = prune_channels(net, amount=0.5, norm="l2")
    assert result["pruned"] == {"a": (8, 4)}
    assert "residual add" in result["skipped"]["stem"] and "residual add" in result["skipped"]["b"]
    assert net(x).shape == (1, 4, 8, 8)
    assert total_macs(net, x) > 0


def test_bad_arguments():
    with pytest.raises(ValueError):
        prune_channels(SmallCNN(), amount=1.0)
    with pytest.raises(ValueError):
        prune_channels(SmallCNN(), norm="linf")
