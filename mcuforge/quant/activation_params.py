"""Prepare-time parameters of TFLite's integer activation kernels (softmax, logistic, tanh, hard swish).

Which algorithm a quantized activation runs depends on the runtime, not only on the op: TFLite Micro's
reference kernels compute logistic and tanh in gemmlowp fixed point, while LiteRT's builtin reference
kernels look them up in a table built from float math in Prepare. The op modules pick theirs from
fixed_point.runtime_compat(); this module holds the parameters both kinds derive from the quantization."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
from typing import Callable

import numpy as np

from mcuforge.quant.fixed_point import quantize_multiplier, round_half_away, rounding_mode


def calculate_input_radius(input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31) -> int:
    """CalculateInputRadius: the largest |input| whose rescaled value still fits before saturating."""
    max_input_rescaled = (1.0 * ((1 << input_integer_bits) - 1) * float(1 << (total_signed_bits - input_integer_bits))
                          / float(1 << input_left_shift))
    return int(math.floor(max_input_rescaled))


def input_multiplier_q4(input_scale: float, input_integer_bits: int = 4) -> tuple[int, int, int]:
    """(multiplier, left_shift, range_radius) mapping int8 input differences to Q4.27, as TFLite Micro's
    CalculateArithmeticOpDataLogistic / CalculateArithmeticOpDataTanh compute them: frexp of
    scale * 2^(31 - integer_bits) in double, the mantissa rounded to Q0.31 (no QuantizeMultiplier)."""
    real = float(np.float32(input_scale)) * float(1 << (31 - input_integer_bits))
    mantissa, left_shift = math.frexp(real)
    multiplier = int(round_half_away(np.float64(mantissa * (1 << 31))))
    return multiplier, left_shift, calculate_input_radius(input_integer_bits, left_shift, 31)


def preprocess_softmax_scaling(beta: float, input_scale: float, input_integer_bits: int) -> tuple[int, int]:
    """PreprocessSoftmaxScaling: Q31 (multiplier, left_shift) of beta * scale * 2^(31 - integer_bits), in double.

    The cap keeps the multiplier representable: 2^31 - 1 under double rounding, 2^30 - 1 under
    TFLITE_SINGLE_ROUNDING (whose MultiplyByQuantizedMultiplier supports left shifts up to 30 only)."""
    cap = (1 << 30) - 1.0 if rounding_mode() == "single" else (1 << 31) - 1.0
    real = min(float(np.float32(beta)) * float(np.float32(input_scale)) * float(1 << (31 - input_integer_bits)), cap)
    return quantize_multiplier(real)


def down_scale_int32_to_int16_multiplier(multiplier: int) -> int:
    """DownScaleInt32ToInt16Multiplier: a Q0.31 multiplier rounded to Q0.15, saturating at INT16_MAX."""
    if multiplier >= (1 << 31) - 1 - (1 << 15):
        return (1 << 15) - 1
    return (multiplier + (1 << 15)) >> 16


@functools.cache
def _c_math_library():
    for name in ("m", "c", "ucrtbase"):
        path = ctypes.util.find_library(name)
        if path:
            library = ctypes.CDLL(path)
            if hasattr(library, "tanhf") and hasattr(library, "expf"):
                return library
    return None


def c_float_function(name: str, fallback: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """The C library's float function `name` (e.g. "expf"), element-wise over a float32 array.

    LiteRT fills its lookup tables in Prepare with the host C library's expf/tanhf, which need not be
    correctly rounded (glibc 2.36's tanhf is off by one ulp on many inputs, and one ulp decides a
    round-half case now and then), so the tables are only reproducible with the same functions. Without a
    loadable C library, `fallback` (float64 math rounded to float32, i.e. correctly rounded) is used."""
    library = _c_math_library()
    if library is None:
        return fallback
    function = getattr(library, name)
    function.restype, function.argtypes = ctypes.c_float, [ctypes.c_float]

    def apply(x: np.ndarray) -> np.ndarray:
        return np.array([function(float(v)) for v in np.asarray(x, dtype=np.float32).reshape(-1)],
                        dtype=np.float32).reshape(np.shape(x))

    return apply


def lut_populate_int8(input_scale: float, input_zero_point: int, output_scale: float, output_zero_point: int,
                      transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """LUTPopulate<int8_t> (kernels/internal/common.h): the int8 -> int8 table of a float function.

    All arithmetic in float32 as the C++: dequantize, transform, multiply by 1/output_scale, round half away,
    add the zero point, clamp. Returns 256 int8 values indexed by (input + 128). `transform` maps a float32
    array to a float32 array with the C library's float semantics."""
    values = np.arange(-128, 128, dtype=np.int64)
    dequantized = np.float32(input_scale) * (values - input_zero_point).astype(np.float32)
    transformed = np.asarray(transform(dequantized), dtype=np.float32)
    inverse_scale = np.float32(1) / np.float32(output_scale)
    # roundf, exactly: in float32, floor(|x| + 0.5) would round 0.49999997 up.
    rescaled = round_half_away((transformed * inverse_scale).astype(np.float64))
    quantized = rescaled + output_zero_point
    # std::max/min against an int32 cast; the float is integral already, NaN never reaches here.
    return np.clip(quantized.astype(np.int64), -128, 127).astype(np.int8)


def lookup_int8(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Apply a table from lut_populate_int8 to int8 data."""
    return table[x.astype(np.int64) + 128]
