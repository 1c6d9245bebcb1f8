"""The model zoo: PyTorch modules (NCHW) of the usual TinyML reference models, and `fits(model, target)`,
an int8 flash/RAM estimate against a target's default board. Importing this package imports PyTorch."""

from mcuforge.models.fit import FitResult, estimate_fit, fits
from mcuforge.models.kws import DSCNN
from mcuforge.models.mobilenet import MobileNetV1, MobileNetV2
from mcuforge.models.signal import FCAutoencoder, VibrationCNN
from mcuforge.models.vision import ResNet8, SqueezeNetTiny

# name -> constructor with the reference defaults; each module carries its example `input_shape`.
ZOO = {
    "ds_cnn": DSCNN,
    "mobilenet_v1": MobileNetV1,
    "mobilenet_v2": MobileNetV2,
    "squeezenet_tiny": SqueezeNetTiny,
    "resnet8": ResNet8,
    "fc_autoencoder": FCAutoencoder,
    "vibration_cnn": VibrationCNN,
}

__all__ = ["ZOO", "DSCNN", "MobileNetV1", "MobileNetV2", "SqueezeNetTiny", "ResNet8", "FCAutoencoder",
           "VibrationCNN", "FitResult", "estimate_fit", "fits"]
