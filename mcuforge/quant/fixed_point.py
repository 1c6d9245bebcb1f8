"""TFLite's fixed-point arithmetic, vectorized in NumPy.

TFLite has two requantization conventions:
- "double" rounding (gemmlowp's SaturatingRoundingDoublingHighMul then RoundingDivideByPOT): TFLite
  Micro and CMSIS-NN everywhere, i.e. what runs on microcontrollers; our default.
- "single" rounding (one 64-bit multiply, add half, shift; TFLITE_SINGLE_ROUNDING): what LiteRT 2.x uses in
  some kernels (FULLY_CONNECTED among them) but not others (its convolutions round twice).
They differ by one on a fraction of values. The interpreter sets the convention per op (`use_rounding`) from the
runtime it is asked to be compatible with (`use_compat`: "tflm" or "litert") and the op's `litert_rounding`.
Values are carried in int64 so NumPy never overflows; results are exact int32 values."""

from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


ROUNDING_MODES = ("double", "single")
_ROUNDING = contextvars.ContextVar("mcuforge_rounding", default="double")


COMPATS = ("tflm", "litert")
_COMPAT = contextvars.ContextVar("mcuforge_compat", default="tflm")


def rounding_mode() -> str:
    return _ROUNDING.get()


def runtime_compat() -> str:
    """The runtime whose exact integer behaviour the interpreter reproduces: "tflm" or "litert"."""
    return _COMPAT.get()


@contextlib.contextmanager
def use_compat(compat: str):
    if compat not in COMPATS:
        raise ValueError(f"compat must be one of {COMPATS}, got {compat!r}")
    token = _COMPAT.set(compat)
    try:
        yield
    finally:
        _COMPAT.reset(token)


@contextlib.contextmanager
def use_rounding(mode: str):
    """Run integer kernels under TFLite's "double" (TFLM, CMSIS-NN) or "single" (LiteRT) rounding."""
    if mode not in ROUNDING_MODES:
        raise ValueError(f"rounding must be one of {ROUNDING_MODES}, got {mode!r}")
    token = _ROUNDING.set(mode)
    try:
        yield
    finally:
        _ROUNDING.reset(token)


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real = q * 2^(shift - 31) with q a Q31 int32 in [2^30, 2^31)."""
    if real_multiplier == 0.0:
        return 0, 0
    mantissa, shift = math.frexp(real_multiplier)
    # std::round rounds half away from zero; Python's round() would round half to even.
    q = int(math.floor(abs(mantissa) * (1 << 31) + 0.5)) * (1 if mantissa >= 0 else -1)
    if q == (1 << 31):
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if rounding_mode() == "single" and shift > 30:
        # Single rounding shifts by 31 - shift, so TFLite saturates the multiplier instead.
        return (1 << 31) - 1, 30
    return q, shift


def quantize_multipliers(real_multipliers) -> tuple[np.ndarray, np.ndarray]:
    """quantize_multiplier over an array: (multipliers int64, shifts int64)."""
    pairs = [quantize_multiplier(float(m)) for m in np.atleast_1d(real_multipliers)]
    return (np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64))


def _trunc_div_pow2(x: np.ndarray, bits: int) -> np.ndarray:
    """C integer division by 2^bits (rounds toward zero)."""
    q = np.abs(x) >> bits
    return np.where(x < 0, -q, q)


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    result = _trunc_div_pow2(ab + nudge, 31)
    return np.where(overflow, INT32_MAX, result)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """Round-half-away-from-zero division by 2^exponent (exponent may be an array)."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def wrap_int32(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap to int32, as the C code does on overflow of an int32 product."""
    return ((np.asarray(x, dtype=np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _single_rounding_multiply(x, multiplier, shift) -> np.ndarray:
    """TFLITE_SINGLE_ROUNDING's MultiplyByQuantizedMultiplier: (x * m + 2^(30 - shift)) >> (31 - shift)."""
    total_shift = 31 - np.asarray(shift, dtype=np.int64)
    product = np.asarray(x, dtype=np.int64) * np.asarray(multiplier, dtype=np.int64)
    return (product + (np.int64(1) << (total_shift - 1))) >> total_shift


def multiply_by_quantized_multiplier(x, multiplier, shift) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier (int32 x, Q31 multiplier, signed shift)."""
    if rounding_mode() == "single":
        return _single_rounding_multiply(x, multiplier, shift)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = wrap_int32(np.asarray(x, dtype=np.int64) << left)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right)


def multiply_by_quantized_multiplier_smaller_than_one(x, multiplier, shift) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0)."""
    if rounding_mode() == "single":
        return _single_rounding_multiply(x, multiplier, shift)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -np.asarray(shift))


def multiply_by_quantized_multiplier_greater_than_one(x, multiplier, shift) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplierGreaterThanOne (shift >= 0)."""
    if rounding_mode() == "single":
        return _single_rounding_multiply(x, multiplier, shift)
    shifted = wrap_int32(np.asarray(x, dtype=np.int64) << np.asarray(shift, dtype=np.int64))
    return saturating_rounding_doubling_high_mul(shifted, multiplier)


def round_half_away(x) -> np.ndarray:
    """std::round / TfLiteRound: halves away from zero (NumPy's np.round rounds half to even)."""
    x = np.asarray(x)
    # Add the half in float64: in float32, 0.49999997 + 0.5 rounds up to 1.0 (C's roundf gives 0).
    wide = np.abs(x.astype(np.float64))
    return (np.sign(x) * np.floor(wide + 0.5)).astype(x.dtype if x.dtype.kind == "f" else np.float64)
