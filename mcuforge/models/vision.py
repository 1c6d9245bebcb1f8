"""Small image classifiers: ResNet-8 (MLPerf Tiny image classification, CIFAR-10 32x32) and a tiny SqueezeNet."""

from __future__ import annotations

import torch
from torch import nn

from mcuforge.models.blocks import conv_bn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual; a strided 1x1 convolution on the shortcut when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(conv_bn(cin, cout, 3, stride), conv_bn(cout, cout, 3, activation=None))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Conv2d(cin, cout, 1, stride)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet8(nn.Module):
    """MLPerf Tiny's ResNet-8: a 3x3 stem of 16 channels, three residual stacks (16, 32 stride 2, 64 stride 2),
    global average pooling, a dense classifier (about 78 k parameters at width 16)."""

    def __init__(self, classes: int = 10, width: int = 16, resolution: int = 32, channels: int = 3):
        super().__init__()
        self.input_shape = (1, channels, resolution, resolution)
        self.stem = conv_bn(channels, width, 3)
        self.stacks = nn.Sequential(BasicBlock(width, width, 1), BasicBlock(width, 2 * width, 2),
                                    BasicBlock(2 * width, 4 * width, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * width, classes)

    def forward(self, x):
        return self.classifier(self.pool(self.stacks(self.stem(x))).flatten(1))


class Fire(nn.Module):
    """SqueezeNet's fire module: a 1x1 squeeze, then 1x1 and 3x3 expansions concatenated on channels."""

    def __init__(self, cin: int, squeeze: int, expand: int):
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(cin, squeeze, 1), nn.ReLU())
        self.expand1 = nn.Sequential(nn.Conv2d(squeeze, expand, 1), nn.ReLU())
        self.expand3 = nn.Sequential(nn.Conv2d(squeeze, expand, 3, padding=1), nn.ReLU())

    def forward(self, x):
        s = self.squeeze(x)
        return torch.cat([self.expand1(s), self.expand3(s)], dim=1)


class SqueezeNetTiny(nn.Module):
    """A SqueezeNet reduced for 32x32 inputs: 3x3 stem, max pooling, four fire modules, a 1x1 classifier
    convolution and global average pooling."""

    def __init__(self, classes: int = 10, resolution: int = 32, channels: int = 3, width: int = 16):
        super().__init__()
        self.input_shape = (1, channels, resolution, resolution)
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(channels, 2 * w, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
            Fire(2 * w, w // 2, w), Fire(2 * w, w // 2, w), nn.MaxPool2d(2),
            Fire(2 * w, w, 2 * w), Fire(4 * w, w, 2 * w))
        self.classifier = nn.Sequential(nn.Conv2d(4 * w, classes, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return self.classifier(self.features(x)).flatten(1)
