"""gemmlowp's fixed-point transcendental functions (gemmlowp/fixedpoint/fixedpoint.h), vectorized in NumPy.

TFLite's integer softmax, logistic and tanh kernels evaluate exp, 1/(1+x), logistic and tanh in gemmlowp's
`FixedPoint<int32_t, IntegerBits>` arithmetic: a raw int32 `r` with `integer_bits` integer bits stands for
r / 2^(31 - integer_bits). The C++ carries the integer bits in the type; here every function takes them as an
argument. Raw values are int64 arrays holding int32 values, so NumPy never overflows; where the C++ int32
arithmetic would wrap (gemmlowp's Add, Sub, Neg and ShiftLeft), the result is wrapped the same way.

These run once per element, so everything is element-wise NumPy (np.where for gemmlowp's SelectUsingMask).
C kernels that mirror the same sequence of operations can be tested against these function by function."""

from __future__ import annotations

import numpy as np

from mcuforge.quant.fixed_point import (
    INT32_MAX,
    INT32_MIN,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    wrap_int32,
)

INT16_MIN = -(1 << 15)
INT16_MAX = (1 << 15) - 1

# Raw Q0.31 constants, exactly as written in fixedpoint.h (GEMMLOWP_CHECKED_FIXEDPOINT_CONSTANT).
_EXP_MINUS_ONE_EIGHTH = 1895147668  # exp(-1/8)
_ONE_THIRD = 715827883  # 1/3
_CONSTANT_48_OVER_17 = 1515870810  # Q2.29
_CONSTANT_NEG_32_OVER_17 = -1010580540  # Q2.29
# exp_on_negative_values' barrel shifter: (exponent e, raw Q0.31 of exp(-2^e)).
_EXP_BARREL_SHIFTER = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
                       (3, 720401), (4, 242))


def _raw(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def add(a, b) -> np.ndarray:
    """FixedPoint operator+: a plain int32 add (wraps on overflow)."""
    return wrap_int32(_raw(a) + _raw(b))


def sub(a, b) -> np.ndarray:
    return wrap_int32(_raw(a) - _raw(b))


def neg(a) -> np.ndarray:
    return wrap_int32(-_raw(a))


def mul(a, b) -> np.ndarray:
    """FixedPoint operator*: SaturatingRoundingDoublingHighMul of the raws (the integer bits add up)."""
    return saturating_rounding_doubling_high_mul(a, b)


def one(integer_bits: int) -> int:
    """FixedPoint::One(): with no integer bits, 1.0 is not representable and saturates to INT32_MAX."""
    return INT32_MAX if integer_bits == 0 else 1 << (31 - integer_bits)


def saturating_rounding_multiply_by_pot(x, exponent: int) -> np.ndarray:
    """SaturatingRoundingMultiplyByPOT<exponent>: a saturating left shift, or a rounding right shift."""
    x = _raw(x)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    result = wrap_int32(x << exponent)
    result = np.where(x > threshold, INT32_MAX, result)
    return np.where(x < -threshold, INT32_MIN, result)


def rescale(x, src_integer_bits: int, dst_integer_bits: int) -> np.ndarray:
    """Rescale<dst>(FixedPoint<int32, src>): same real value with another number of integer bits."""
    return saturating_rounding_multiply_by_pot(x, src_integer_bits - dst_integer_bits)


def rounding_half_sum(a, b) -> np.ndarray:
    """RoundingHalfSum for int32: (a + b + sign) / 2 in 64 bits, C division (toward zero)."""
    total = _raw(a) + _raw(b)
    return np.where(total >= 0, (total + 1) >> 1, -((1 - total) >> 1))


def exp_on_interval_between_negative_one_quarter_and_0_excl(a) -> np.ndarray:
    """exp(a) for Q0.31 `a` in [-1/4, 0): Taylor expansion around -1/8."""
    x = add(a, 1 << 28)  # a + 1/8
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    x4_over_24_plus_x3_over_6_plus_x2_over_2 = saturating_rounding_multiply_by_pot(
        add(mul(add(x4_over_4, x3), _ONE_THIRD), x2), -1)
    return add(_EXP_MINUS_ONE_EIGHTH, mul(_EXP_MINUS_ONE_EIGHTH, add(x, x4_over_24_plus_x3_over_6_plus_x2_over_2)))


def exp_on_negative_values(a, integer_bits: int) -> np.ndarray:
    """exp(a) for `a` <= 0 with `integer_bits` integer bits; returns Q0.31 (exp(0) saturates to INT32_MAX).

    Splits a into (a mod 1/4) - 1/4, evaluated by the Taylor expansion, and a multiple of 1/4 whose set bits
    each multiply in a constant exp(-2^e)."""
    a = _raw(a)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    a_mod_quarter_minus_one_quarter = sub(a & (one_quarter - 1), one_quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0))
    remainder = sub(a_mod_quarter_minus_one_quarter, a)
    for exponent, multiplier in _EXP_BARREL_SHIFTER:
        if integer_bits > exponent:
            bit = np.int64(1) << (fractional_bits + exponent)
            result = np.where((remainder & bit) != 0, mul(result, multiplier), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)  # exp(x < -32) is 0
    return np.where(a == 0, INT32_MAX, result)


def _reciprocal_of_half_denominator(a) -> np.ndarray:
    """Newton-Raphson 1 / ((1 + a) / 2) in Q2.29, shared by the two divisions below."""
    half_denominator = rounding_half_sum(a, one(0))
    x = add(_CONSTANT_48_OVER_17, mul(half_denominator, _CONSTANT_NEG_32_OVER_17))
    for _ in range(3):
        one_minus_half_denominator_times_x = sub(one(2), mul(half_denominator, x))
        x = add(x, rescale(mul(x, one_minus_half_denominator_times_x), 4, 2))
    return x


def one_over_one_plus_x_for_x_in_0_1(a) -> np.ndarray:
    """1 / (1 + a) for Q0.31 `a` in [0, 1); returns Q0.31."""
    # ExactMulByPot<-1> halves by relabeling Q2.29 as Q1.30.
    return rescale(_reciprocal_of_half_denominator(a), 1, 0)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a) -> np.ndarray:
    """(1 - a) / (1 + a) for Q0.31 `a` in [0, 1); returns Q0.31."""
    return rescale(sub(_reciprocal_of_half_denominator(a), one(2)), 2, 0)


def logistic(a, integer_bits: int) -> np.ndarray:
    """gemmlowp::logistic: 1 / (1 + exp(-a)) for any `a` with `integer_bits` integer bits; returns Q0.31."""
    a = _raw(a)
    positive = a > 0
    abs_input = np.where(positive, a, neg(a))
    result_if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(neg(abs_input), integer_bits))
    result_if_negative = sub(one(0), result_if_positive)
    return np.where(a == 0, 1 << 30, np.where(positive, result_if_positive, result_if_negative))


def tanh(a, integer_bits: int) -> np.ndarray:
    """gemmlowp::tanh: (1 - exp(-2|a|)) / (1 + exp(-2|a|)) with the sign of `a`; returns Q0.31."""
    a = _raw(a)
    negative = a < 0
    n = np.where(negative, a, neg(a))  # -|a|
    # exp(2n): ExactMulByPot<1> keeps the raw and adds an integer bit.
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    return np.where(a == 0, 0, np.where(negative, neg(t), t))


def saturating_rounding_doubling_high_mul_int16(a, b) -> np.ndarray:
    """The int16 SaturatingRoundingDoublingHighMul: 2ab / 2^16 rounded to nearest (gemmlowp's nudge), saturating."""
    a, b = _raw(a), _raw(b)
    ab = a * b
    nudged = ab + np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    high = np.where(nudged >= 0, nudged >> 15, -((-nudged) >> 15))  # C division by 2^15
    return np.where((a == INT16_MIN) & (b == INT16_MIN), INT16_MAX, high)


def get_reciprocal(x, x_integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's GetReciprocal (kernels/internal/common.h): 1/x for positive `x` with `x_integer_digits`
    integer bits, as (Q0.31 scale, num_bits_over_unit) with 1/x = scale * 2^-num_bits_over_unit."""
    as_uint32 = _raw(x) & 0xFFFFFFFF
    # CountLeadingZeros of the uint32: frexp's exponent is the bit length (exact below 2^53).
    headroom_plus_one = 32 - np.frexp(as_uint32.astype(np.float64))[1].astype(np.int64)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted_sum_minus_one = wrap_int32(((as_uint32 << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit
