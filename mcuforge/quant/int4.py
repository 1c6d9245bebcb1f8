"""INT4 weights: per-channel symmetric in [-7, 7], kept in the IR as int8-valued tensors marked
`tensor.meta["bits"] = 4`.

The values are ordinary int8 values, so the reference interpreter computes them as any int8 weights. Stored, they
are packed two per byte: in the generated C (flash), unpacked by the kernels (fully_connected_s4, conv_2d_s4,
depthwise_conv_2d_s4; int4_s8.h decodes), and in .tflite files as TFLite INT4 tensors (tflite_export / _import),
which LiteRT runs (TFLite Micro too, except its reference FULLY_CONNECTED). The packing is TFLite's and CMSIS-NN's:
the flattened weights in order, element 2k in the low nibble of byte k and element 2k + 1 in its high nibble,
two's complement."""

from __future__ import annotations

import numpy as np

from mcuforge.errors import UnsupportedOpError
from mcuforge.quant.qparams import channel_view, dequantize_symmetric, quantize_symmetric, symmetric_scales

BITS_KEY = "bits"
INT4_MAX = 7  # symmetric: [-7, 7], so that negating a weight never overflows, as int8's [-127, 127]
# Clipping fractions of max|w| tried per channel: at 4 bits, clipping a few outliers usually lowers the error.
CLIP_FRACTIONS = np.linspace(0.5, 1.0, 26)


def is_int4(tensor) -> bool:
    return tensor.meta.get(BITS_KEY) == 4


def stored_bytes(tensor) -> int:
    """Bytes of a tensor as the generated C stores it: INT4 constants packed two per byte."""
    if tensor.is_constant and is_int4(tensor):
        return (tensor.size + 1) // 2
    return tensor.nbytes


def int4_scales(w: np.ndarray, axis: int) -> np.ndarray:
    """Per-channel scales for [-7, 7]: for each channel the clipping of max|w| (among CLIP_FRACTIONS) whose
    quantize-dequantize round trip has the smallest squared error."""
    flat = channel_view(w, axis)
    best_scales = symmetric_scales(w, axis, INT4_MAX)
    best_error = np.full(flat.shape[0], np.inf)
    for fraction in CLIP_FRACTIONS:
        scales = symmetric_scales(w, axis, INT4_MAX, clip=np.full(flat.shape[0], fraction))
        q = quantize_symmetric(w, scales, axis, INT4_MAX)
        error = ((channel_view(dequantize_symmetric(q, scales, axis), axis) - flat) ** 2).sum(axis=1)
        better = error < best_error
        best_error = np.where(better, error, best_error)
        best_scales = np.where(better, scales, best_scales)
    return best_scales.astype(np.float32)


def pack_int4(values: np.ndarray) -> np.ndarray:
    """int8 values in [-8, 7] -> uint8 bytes, two per byte (low nibble first); an odd count pads a zero."""
    flat = np.asarray(values).reshape(-1).astype(np.int64)
    if flat.size and (flat.min() < -8 or flat.max() > 7):
        raise ValueError(f"int4 values must lie in [-8, 7], got [{flat.min()}, {flat.max()}]")
    nibbles = (flat & 0x0F).astype(np.uint8)
    if nibbles.size % 2:
        nibbles = np.append(nibbles, np.uint8(0))
    return (nibbles[0::2] | (nibbles[1::2] << 4)).astype(np.uint8)


def unpack_int4(packed: np.ndarray, count: int) -> np.ndarray:
    """The inverse of pack_int4: `count` int8 values."""
    packed = np.asarray(packed, np.uint8).reshape(-1)
    nibbles = np.stack([packed & 0x0F, packed >> 4], axis=1).reshape(-1)[:count].astype(np.int16)
    return ((nibbles ^ 8) - 8).astype(np.int8)


def packed_weights(ctx, tensor_name: str) -> str:
    """Emit a 4-bit weight tensor packed two per byte (flash data or weights blob, aligned and counted like the
    other weights; once however many ops read it) and return its symbol, for an emit_c whose kernel unpacks int4."""
    t = ctx.graph.tensors[tensor_name]
    where = f"{ctx.graph.where()}: int4 weights {tensor_name!r}"
    if t.quant is not None and t.quant.zero_point.any():
        raise UnsupportedOpError(f"{where} must be symmetric (zero point 0)")
    try:
        packed = pack_int4(t.data)
    except ValueError as exc:
        raise UnsupportedOpError(f"{where}: {exc}") from None
    return ctx.weights(tensor_name, packed, "uint8_t", "int4 packed two per byte")
