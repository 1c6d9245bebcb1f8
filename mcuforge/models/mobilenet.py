"""MobileNetV1 (depthwise-separable) and MobileNetV2 (inverted residuals), with width multiplier `alpha`,
input `resolution` and `classes` (2 for Visual Wake Words, as in MLPerf Tiny's MobileNetV1 0.25 at 96x96)."""

from __future__ import annotations

from torch import nn

from mcuforge.models.blocks import conv_bn, depthwise_separable, make_divisible

# (output channels at alpha 1, stride) of MobileNetV1's 13 depthwise-separable blocks.
V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
             (512, 1), (1024, 2), (1024, 1))
# (expansion t, output channels c at alpha 1, repeats n, first stride s) of MobileNetV2.
V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
             (6, 320, 1, 1))


class MobileNetV1(nn.Module):
    def __init__(self, alpha: float = 0.25, resolution: int = 96, classes: int = 2, channels: int = 3):
        super().__init__()
        self.input_shape = (1, channels, resolution, resolution)
        width = [make_divisible(32 * alpha)] + [make_divisible(c * alpha) for c, _ in V1_BLOCKS]
        layers = [conv_bn(channels, width[0], 3, 2)]
        layers += [depthwise_separable(width[i], width[i + 1], stride) for i, (_, stride) in enumerate(V1_BLOCKS)]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(width[-1], classes)

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)).flatten(1))


class InvertedResidual(nn.Module):
    """1x1 expansion (skipped when t = 1) -> 3x3 depthwise -> linear 1x1 projection; a residual ADD when the
    block keeps its shape."""

    def __init__(self, cin: int, cout: int, stride: int, expansion: int):
        super().__init__()
        hidden = cin * expansion
        layers = [conv_bn(cin, hidden, 1, activation="relu6")] if expansion != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden, activation="relu6"),
                   conv_bn(hidden, cout, 1, activation=None)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV2(nn.Module):
    def __init__(self, alpha: float = 0.35, resolution: int = 96, classes: int = 2, channels: int = 3,
                 last_channels: int = 1280):
        super().__init__()
        self.input_shape = (1, channels, resolution, resolution)
        cin = make_divisible(32 * alpha)
        layers = [conv_bn(channels, cin, 3, 2, activation="relu6")]
        for t, c, n, s in V2_STAGES:
            cout = make_divisible(c * alpha)
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        last = make_divisible(last_channels * max(1.0, alpha))
        layers.append(conv_bn(cin, last, 1, activation="relu6"))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(last, classes)

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)).flatten(1))
