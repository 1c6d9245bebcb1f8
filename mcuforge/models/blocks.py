"""Layer blocks the zoo models share: convolution + batch norm + activation, the form fold_batchnorm and
fuse_activation turn into one CONV_2D / DEPTHWISE_CONV_2D with a fused activation."""

from __future__ import annotations

from torch import nn


def make_divisible(value: float, divisor: int = 8) -> int:
    """Channels scaled by a width multiplier, rounded to a multiple of `divisor` (MobileNet's rule: never more
    than 10% below the scaled value)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def conv_bn(cin: int, cout: int, kernel=3, stride=1, padding=None, groups: int = 1, activation="relu"):
    """Conv2d (no bias) -> BatchNorm2d -> ReLU / ReLU6 / nothing; padding defaults to kernel // 2."""
    if padding is None:
        padding = tuple(k // 2 for k in kernel) if isinstance(kernel, tuple) else kernel // 2
    layers = [nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if activation == "relu":
        layers.append(nn.ReLU())
    elif activation == "relu6":
        layers.append(nn.ReLU6())
    elif activation is not None:
        raise ValueError(f"activation must be 'relu', 'relu6' or None, got {activation!r}")
    return nn.Sequential(*layers)


def depthwise_separable(cin: int, cout: int, stride: int = 1, activation="relu"):
    """3x3 depthwise conv -> 1x1 pointwise conv, each with batch norm and activation."""
    return nn.Sequential(conv_bn(cin, cin, 3, stride, groups=cin, activation=activation),
                         conv_bn(cin, cout, 1, activation=activation))


def randomize_batchnorm(module: nn.Module, seed: int = 0) -> nn.Module:
    """Give every batch norm non-trivial running statistics and affine parameters (as after training), so that
    tests of imported graphs exercise the folding; returns the module in eval mode."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=gen) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(n, generator=gen) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.1)
    return module.eval()
