"""The camera-frame input adapter in NumPy, the reference of the generated C (camera_c.py, c/camera_adapter.c):
frame (gray8, rgb888 or rgb565) -> crop rectangle -> bilinear resize to the model's resolution -> gray/RGB
conversion -> int8 model input through a 256-entry lookup table. Integer arithmetic only, so that the C gives the
same bytes; the training data (dataset.py) goes through the same resize.

Bilinear resize with half-pixel centres (as OpenCV's INTER_LINEAR and TF's resize with half_pixel_centers): output
index i samples the crop at s = (i + 0.5) * crop / out - 0.5, clamped to [0, crop - 1], rounded to Q8 fixed point
(COORD_BITS); the weights are Q8 too and the sum is rounded half up once at the end. Error against float bilinear:
at most 0.5 + 2 * 255 / 512 levels (final rounding + the weights' rounding across the steepest edges)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcuforge.errors import InputError

PIXEL_FORMATS = ("gray8", "rgb888", "rgb565")
BYTES_PER_PIXEL = {"gray8": 1, "rgb888": 3, "rgb565": 2}
COORD_BITS = 8
MAX_FRAME_SIDE = 4096     # keeps (2 * out) * side * 256 within uint32 in the C coordinate arithmetic
MAX_RESOLUTION = 512
LUMA_WEIGHTS = (77, 150, 29)  # BT.601 luma in Q8: (77 R + 150 G + 29 B + 128) >> 8


def check_pixel_format(pixel_format: str) -> str:
    if pixel_format not in PIXEL_FORMATS:
        raise InputError(f"pixel format must be one of {', '.join(PIXEL_FORMATS)}, got {pixel_format!r}")
    return pixel_format


def center_crop(frame_w: int, frame_h: int) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the largest centred square."""
    side = min(frame_w, frame_h)
    return (frame_w - side) // 2, (frame_h - side) // 2, side, side


def check_crop(crop, frame_w: int, frame_h: int) -> tuple[int, int, int, int]:
    x, y, w, h = (int(v) for v in crop)
    if w < 1 or h < 1 or x < 0 or y < 0 or x + w > frame_w or y + h > frame_h:
        raise InputError(f"crop (x={x}, y={y}, width={w}, height={h}) is not inside the {frame_w}x{frame_h} frame")
    return x, y, w, h


def unpack_frame(frame: np.ndarray, pixel_format: str) -> np.ndarray:
    """uint8 [H, W, 1 or 3] from a frame: uint8 [H, W] (gray8), uint8 [H, W, 3] (rgb888) or uint16 [H, W]
    (rgb565: red in bits 15-11, each channel widened by bit replication as camera ISPs do)."""
    check_pixel_format(pixel_format)
    frame = np.asarray(frame)
    expected = {"gray8": (np.uint8, 2), "rgb888": (np.uint8, 3), "rgb565": (np.uint16, 2)}[pixel_format]
    if frame.dtype != expected[0] or frame.ndim != expected[1] or (pixel_format == "rgb888" and frame.shape[2] != 3):
        raise InputError(f"a {pixel_format} frame must be {np.dtype(expected[0]).name} "
                         f"{'[H, W, 3]' if pixel_format == 'rgb888' else '[H, W]'}, got {frame.dtype} {list(frame.shape)}")
    if pixel_format == "gray8":
        return frame[:, :, None]
    if pixel_format == "rgb888":
        return frame
    p = frame.astype(np.uint32)
    r, g, b = (p >> 11) & 31, (p >> 5) & 63, p & 31
    return np.stack([(r << 3) | (r >> 2), (g << 2) | (g >> 4), (b << 3) | (b >> 2)], axis=-1).astype(np.uint8)


def frame_bytes(frame: np.ndarray, pixel_format: str) -> bytes:
    """The frame as the C adapter reads it: row-major pixels, rgb565 as little-endian uint16."""
    unpack_frame(frame, pixel_format)  # validates
    dtype = "<u2" if pixel_format == "rgb565" else np.uint8
    return np.ascontiguousarray(frame, dtype=dtype).tobytes()


def sample_positions(crop: int, out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each output index along one axis: (first source index, second source index, Q8 weight of the second)."""
    i = np.arange(out, dtype=np.int64)
    numerator = np.maximum((2 * i + 1) * crop - out, 0) << COORD_BITS
    s = (numerator + out) // (2 * out)  # rounded to the nearest 1/256 pixel
    lo = s >> COORD_BITS
    return lo, np.minimum(lo + 1, crop - 1), s & ((1 << COORD_BITS) - 1)


def resize_bilinear(image: np.ndarray, out: int) -> np.ndarray:
    """uint8 [H, W, C] -> uint8 [out, out, C], in integers (the C adapter's arithmetic)."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3:
        raise InputError(f"resize_bilinear takes uint8 [H, W, C], got {image.dtype} {list(image.shape)}")
    y0, y1, wy = sample_positions(image.shape[0], out)
    x0, x1, wx = sample_positions(image.shape[1], out)
    one = 1 << COORD_BITS
    p = image.astype(np.uint32)
    wx, wy = wx[None, :, None].astype(np.uint32), wy[:, None, None].astype(np.uint32)
    top = p[y0][:, x0] * (one - wx) + p[y0][:, x1] * wx
    bottom = p[y1][:, x0] * (one - wx) + p[y1][:, x1] * wx
    total = top * (one - wy) + bottom * wy
    return ((total + (1 << (2 * COORD_BITS - 1))) >> (2 * COORD_BITS)).astype(np.uint8)


def convert_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """uint8 [..., 1 or 3] -> [..., channels]: gray replicated to RGB, or RGB to integer BT.601 luma."""
    have = image.shape[-1]
    if have == channels:
        return image
    if have == 1 and channels == 3:
        return np.repeat(image, 3, axis=-1)
    if have == 3 and channels == 1:
        r, g, b = (image[..., k].astype(np.uint32) for k in range(3))
        wr, wg, wb = LUMA_WEIGHTS
        return ((wr * r + wg * g + wb * b + 128) >> 8).astype(np.uint8)[..., None]
    raise InputError(f"cannot convert {have} channels to {channels}")


def input_lut(scale: float, zero_point: int) -> np.ndarray:
    """int8 [256]: the model input for each pixel value, q = round(pixel / 255 / scale) + zero_point (half away
    from zero in float32, as TFLite's QUANTIZE), saturated; built here so that no float runs on the MCU."""
    if not scale > 0:
        raise InputError(f"input scale must be positive, got {scale}")
    x = np.arange(256, dtype=np.float32) / np.float32(255.0)
    q = x / np.float32(scale)
    q = np.sign(q) * np.floor(np.abs(q) + np.float32(0.5)) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


@dataclass(frozen=True)
class CameraAdapter:
    """Frames of frame_w x frame_h pixels in `pixel_format` -> the int8 input [1, resolution, resolution,
    channels] (NHWC) of a model."""
    frame_w: int
    frame_h: int
    pixel_format: str
    resolution: int
    channels: int
    lut: np.ndarray

    @classmethod
    def for_model(cls, graph, frame_w: int, frame_h: int, pixel_format: str) -> CameraAdapter:
        """The adapter for a model whose single input is int8 NHWC [1, R, R, 1 or 3]."""
        name = graph.inputs[0]
        t = graph.tensors[name]
        if len(graph.inputs) != 1 or t.dtype != "int8" or t.quant is None:
            raise InputError(f"{graph.where()}: the camera adapter needs one int8 input, got {t.dtype} {name!r}")
        if len(t.shape) != 4 or t.shape[0] != 1 or t.shape[1] != t.shape[2] or t.shape[3] not in (1, 3):
            raise InputError(f"{graph.where()}: input {name!r} must be NHWC [1, R, R, 1 or 3], got {list(t.shape)}")
        return cls(frame_w, frame_h, pixel_format, t.shape[1], t.shape[3],
                   input_lut(t.quant.scalar_scale, t.quant.scalar_zero_point)).check()

    def check(self) -> CameraAdapter:
        check_pixel_format(self.pixel_format)
        if not (1 <= self.frame_w <= MAX_FRAME_SIDE and 1 <= self.frame_h <= MAX_FRAME_SIDE):
            raise InputError(f"frame size {self.frame_w}x{self.frame_h}: each side must be in 1..{MAX_FRAME_SIDE}")
        if not 1 <= self.resolution <= MAX_RESOLUTION or self.channels not in (1, 3):
            raise InputError(f"model input {self.resolution}x{self.resolution}x{self.channels}: resolution must be "
                             f"in 1..{MAX_RESOLUTION} and channels 1 or 3")
        if self.lut.shape != (256,) or self.lut.dtype != np.int8:
            raise InputError("the input lookup table must be int8 [256]")
        return self

    def pixels(self, frame: np.ndarray, crop=None) -> np.ndarray:
        """uint8 [R, R, channels]: the cropped, resized, channel-converted frame before quantization."""
        image = unpack_frame(frame, self.pixel_format)
        if image.shape[:2] != (self.frame_h, self.frame_w):
            raise InputError(f"frame is {image.shape[1]}x{image.shape[0]}, the adapter takes "
                             f"{self.frame_w}x{self.frame_h}")
        x, y, w, h = check_crop(crop or center_crop(self.frame_w, self.frame_h), self.frame_w, self.frame_h)
        return convert_channels(resize_bilinear(image[y:y + h, x:x + w], self.resolution), self.channels)

    def __call__(self, frame: np.ndarray, crop=None) -> np.ndarray:
        """int8 [1, R, R, channels], the model input."""
        return self.lut[self.pixels(frame, crop)][None]
