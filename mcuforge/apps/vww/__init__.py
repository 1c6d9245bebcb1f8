"""Visual wake words (person / no person): seeded image data (a folder, or a proxy built from images that ship in
PyPI packages), and the camera-frame input adapter in NumPy and as generated C99 (crop, integer bilinear resize,
gray/RGB conversion, int8 quantization through a lookup table)."""

from mcuforge.apps.vww.camera import (
           PIXEL_FORMATS,
           CameraAdapter,
           center_crop,
           input_lut,
           resize_bilinear,
)
from mcuforge.apps.vww.dataset import CLASSES, VwwDataConfig, vww_splits

__all__ = ["CLASSES", "PIXEL_FORMATS", "CameraAdapter", "VwwDataConfig", "center_crop", "input_lut",
           "resize_bilinear", "vww_splits"]
