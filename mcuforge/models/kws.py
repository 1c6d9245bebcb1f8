"""DS-CNN for keyword spotting (MLPerf Tiny KWS): 49 MFCC frames x 10 coefficients, 12 classes."""

from __future__ import annotations

from torch import nn

from mcuforge.models.blocks import conv_bn, depthwise_separable


class DSCNN(nn.Module):
    """Input [N, 1, 49, 10]. A 10x4 stride-2 convolution (TensorFlow "same" padding: 4 rows above, 5 below,
    1 column each side), `blocks` depthwise-separable blocks of `width` channels, global average pooling and a
    dense classifier. width=64, blocks=4 is the MLPerf Tiny reference model (about 25 k parameters)."""

    input_shape = (1, 1, 49, 10)

    def __init__(self, classes: int = 12, width: int = 64, blocks: int = 4, frames: int = 49, coefficients: int = 10):
        super().__init__()
        self.input_shape = (1, 1, frames, coefficients)
        self.stem = nn.Sequential(nn.ZeroPad2d((1, 1, 4, 5)), conv_bn(1, width, (10, 4), 2, padding=0))
        self.blocks = nn.Sequential(*[depthwise_separable(width, width) for _ in range(blocks)])
        self.dropout = nn.Dropout(0.4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(width, classes)

    def forward(self, x):
        x = self.dropout(self.blocks(self.stem(x)))
        return self.classifier(self.pool(x).flatten(1))
