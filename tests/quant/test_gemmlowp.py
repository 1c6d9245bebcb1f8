"""gemmlowp fixed-point functions: accuracy against float math, exact special values, element-wise shapes.

Bit-exactness with TFLite is covered by the golden tests of SOFTMAX, LOGISTIC and TANH; these pin the
helpers on their own, for C kernels that reuse them."""

import numpy as np
import pytest

from mcuforge.quant import gemmlowp
from mcuforge.quant.fixed_point import INT32_MAX


def raw(values, integer_bits):
    return np.round(np.asarray(values) * 2.0 ** (31 - integer_bits)).astype(np.int64)


@pytest.mark.parametrize("integer_bits", [4, 5])
def test_exp_on_negative_values(integer_bits):
    x = np.linspace(-(2 ** integer_bits) + 0.01, 0, 2001)
    result = gemmlowp.exp_on_negative_values(raw(x, integer_bits), integer_bits)
    assert result.shape == x.shape and result[-1] == INT32_MAX  # exp(0) saturates
    np.testing.assert_allclose(result / 2.0**31, np.exp(x), atol=5e-7)


def test_logistic_and_tanh():
    x = np.linspace(-15.9, 15.9, 2001).reshape(3, 667)
    r = raw(x, 4)
    np.testing.assert_allclose(gemmlowp.logistic(r, 4) / 2.0**31, 1 / (1 + np.exp(-x)), atol=1e-7)
    np.testing.assert_allclose(gemmlowp.tanh(r, 4) / 2.0**31, np.tanh(x), atol=1e-7)
    assert gemmlowp.logistic(0, 4) == 1 << 30 and gemmlowp.tanh(0, 4) == 0


def test_divisions_for_x_in_0_1():
    x = np.linspace(0, 0.999, 1000)
    np.testing.assert_allclose(gemmlowp.one_over_one_plus_x_for_x_in_0_1(raw(x, 0)) / 2.0**31, 1 / (1 + x),
                               atol=1e-8)
    np.testing.assert_allclose(gemmlowp.one_minus_x_over_one_plus_x_for_x_in_0_1(raw(x, 0)) / 2.0**31,
                               (1 - x) / (1 + x), atol=1e-8)


def test_get_reciprocal():
    sums = np.array([1 << 19, 3 << 19, 12345678, (511 << 19) + 7])  # Q12.19: 1, 3, ~23.5, ~511
    scale, num_bits_over_unit = gemmlowp.get_reciprocal(sums, 12)
    np.testing.assert_allclose(scale / 2.0**31 * 2.0 ** -num_bits_over_unit.astype(float), 2.0**19 / sums,
                               rtol=1e-8)


def test_saturating_rounding_multiply_by_pot():
    x = np.array([3, -3, 1 << 29, -(1 << 29), 5, -5])
    assert gemmlowp.saturating_rounding_multiply_by_pot(x, 2).tolist() == [
        12, -12, INT32_MAX, -INT32_MAX - 1, 20, -20]
    assert gemmlowp.saturating_rounding_multiply_by_pot(x, -1).tolist() == [
        2, -2, 1 << 28, -(1 << 28), 3, -3]  # halves round away from zero


def test_int16_rounding_doubling_high_mul():
    a = np.array([-32768, 16384, -16384, 3, 32767])
    b = np.array([-32768, 16384, 16384, -16384, 32767])
    assert gemmlowp.saturating_rounding_doubling_high_mul_int16(a, b).tolist() == [32767, 8192, -8192, -1, 32766]
