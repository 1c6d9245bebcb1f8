"""Models on 1-D signals: the MLPerf Tiny anomaly-detection autoencoder and a 1-D CNN on vibration features."""

from __future__ import annotations

from torch import nn

from mcuforge.models.blocks import conv_bn


def dense_bn(cin: int, cout: int):
    return nn.Sequential(nn.Linear(cin, cout), nn.BatchNorm1d(cout), nn.ReLU())


class FCAutoencoder(nn.Module):
    """MLPerf Tiny anomaly detection (ToyADMOS): 640 inputs (5 frames x 128 log-mel bins), `depth` dense layers of
    `hidden` units with batch norm and ReLU on each side of a `bottleneck`; the output reconstructs the input
    (anomaly score = reconstruction error). Input [N, 640]."""

    def __init__(self, features: int = 640, hidden: int = 128, bottleneck: int = 8, depth: int = 4):
        super().__init__()
        self.input_shape = (1, features)
        encoder = [dense_bn(features if i == 0 else hidden, hidden) for i in range(depth)]
        decoder = [dense_bn(bottleneck if i == 0 else hidden, hidden) for i in range(depth)]
        self.encoder = nn.Sequential(*encoder, dense_bn(hidden, bottleneck))
        self.decoder = nn.Sequential(*decoder, nn.Linear(hidden, features))

    def forward(self, x):
        return self.decoder(self.encoder(x))


class VibrationCNN(nn.Module):
    """A 1-D CNN over vibration features: input [N, channels, length] (e.g. 3 accelerometer axes x 128 spectral
    bins). The 1-D convolutions are 1xk 2-D convolutions on [N, channels, 1, length], the layout the int8 CONV_2D
    kernels run; three strided blocks, global average pooling and a dense classifier."""

    def __init__(self, channels: int = 3, length: int = 128, classes: int = 4, width: int = 16, kernel: int = 5):
        super().__init__()
        self.input_shape = (1, channels, length)
        self.features = nn.Sequential(
            conv_bn(channels, width, (1, kernel), (1, 2)),
            conv_bn(width, 2 * width, (1, kernel), (1, 2)),
            conv_bn(2 * width, 2 * width, (1, 3), (1, 2)))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(2 * width, classes)

    def forward(self, x):
        x = self.features(x.unsqueeze(2))
        return self.classifier(self.pool(x).flatten(1))
