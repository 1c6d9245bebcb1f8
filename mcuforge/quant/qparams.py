"""Quantization parameters from value ranges, and float -> integer conversion of constants, as TFLite's
post-training quantizer chooses them: asymmetric int8 activations whose zero point makes 0.0 exact,
symmetric per-channel weights (zero point 0), int32 biases on the input scale times each weight scale.

Plain NumPy on top of fixed_point.py: the op modules may import it (int4.py does, for the C emitters)."""

from __future__ import annotations

import numpy as np

from mcuforge.quant.fixed_point import round_half_away

INT8_MIN, INT8_MAX = -128, 127
# A range narrower than this (a tensor that is constant, e.g. a ReLU that never fires) is widened to it, so that
# the scale stays positive; such a tensor carries no information and any small scale represents it.
MIN_RANGE = 1e-6
# Quantized biases stay within +-2^30, so that the kernels' folded bias (bias - zero_point * sum(w)) fits in int32.
BIAS_LIMIT = float(1 << 30)


def asymmetric_qparams(lo: float, hi: float, qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> tuple[np.float32, int]:
    """(scale, zero_point) covering [lo, hi] as TFLite's GetAsymmetricQuantizationParams: the range is widened
    to hold 0, the scale is (hi - lo) / (qmax - qmin) in double, the zero point comes from whichever end adds
    the smaller terms and is nudged to an integer in [qmin, qmax], so that 0.0 is exactly representable."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < MIN_RANGE:
        hi = lo + MIN_RANGE
    scale = (hi - lo) / (qmax - qmin)
    from_min, from_max = qmin - lo / scale, qmax - hi / scale
    error_min, error_max = abs(qmin) + abs(lo / scale), abs(qmax) + abs(hi / scale)
    zero_point = from_min if error_min < error_max else from_max
    nudged = qmin if zero_point < qmin else qmax if zero_point > qmax else int(round_half_away(np.float64(zero_point)))
    return np.float32(scale), nudged


def fake_quantize(x: np.ndarray, scale: float, zero_point: int, qmin: int = INT8_MIN,
                  qmax: int = INT8_MAX) -> np.ndarray:
    """x quantized and dequantized again (float64): what the integer model sees of a float value."""
    q = np.clip(np.floor(np.abs(x / float(scale)) + 0.5) * np.sign(x) + zero_point, qmin, qmax)
    return (q - zero_point) * float(scale)


def quantize_activation_constant(data: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """A float constant used as an activation operand (ADD/MUL/CONCATENATION input, PADV2 value), as TFLite's
    AffineQuantize rounds it."""
    quotient = np.asarray(data, np.float32) / np.float32(scale)  # float32 division, as the C++
    return np.clip(round_half_away(quotient.astype(np.float64)) + zero_point, INT8_MIN, INT8_MAX).astype(np.int8)


def channel_view(w: np.ndarray, axis: int) -> np.ndarray:
    """w as [channels, everything else]."""
    return np.moveaxis(np.asarray(w, np.float64), axis, 0).reshape(w.shape[axis], -1)


def symmetric_scales(w: np.ndarray, axis: int, qmax: int, clip: np.ndarray | None = None) -> np.ndarray:
    """Per-channel scales max|w| / qmax (times `clip`, a per-channel fraction, if given). An all-zero channel
    takes the largest scale of the others (1 / qmax if all are zero): its weights quantize to 0 whatever the
    scale, which only sets the resolution of its bias."""
    amax = np.abs(channel_view(w, axis)).max(axis=1)
    if clip is not None:
        amax = amax * clip
    fallback = amax.max() if amax.max() > 0 else 1.0
    return (np.where(amax > 0, amax, fallback) / qmax).astype(np.float32)


def quantize_symmetric(w: np.ndarray, scales: np.ndarray, axis: int, qmax: int) -> np.ndarray:
    """round(w / scale[c]) clamped to [-qmax, qmax], as int8 values (per channel along `axis`)."""
    shape = [1] * w.ndim
    shape[axis] = -1
    inverse = 1.0 / scales.astype(np.float64).reshape(shape)
    return np.clip(round_half_away(np.asarray(w, np.float64) * inverse), -qmax, qmax).astype(np.int8)


def dequantize_symmetric(q: np.ndarray, scales: np.ndarray, axis: int) -> np.ndarray:
    shape = [1] * q.ndim
    shape[axis] = -1
    return (q.astype(np.float64) * scales.astype(np.float64).reshape(shape)).astype(np.float32)


def bias_scales(input_scale: float, weight_scales: np.ndarray) -> np.ndarray:
    """input_scale * weight_scale[c], each product in double rounded once to float32 (TFLite checks the
    bias scale against this product)."""
    return (np.float64(np.float32(input_scale)) * weight_scales.astype(np.float64)).astype(np.float32)


def min_weight_scales(bias: np.ndarray, input_scale: float) -> np.ndarray:
    """The smallest weight scales for which the quantized bias stays within BIAS_LIMIT."""
    return (np.abs(np.asarray(bias, np.float64)) / (float(np.float32(input_scale)) * BIAS_LIMIT)).astype(np.float32)


def quantize_bias(bias: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """round(bias / scale[c]) as int32 (the scales come from bias_scales)."""
    q = round_half_away(np.asarray(bias, np.float64) / scales.astype(np.float64))
    return np.clip(q, -BIAS_LIMIT, BIAS_LIMIT).astype(np.int32)
