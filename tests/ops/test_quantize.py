"""QUANTIZE and DEQUANTIZE golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.ops.quantize import quantize_float32, round_float32_half_away
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden
from tests.ops.test_relu import every_int8_value

QUANTIZATIONS = [(0.02, 3), (0.1, -128), (1 / 256, -128), (0.0078125, 0), (0.013, 127)]


def quantize_graph(scale, zero_point, shape=(4, 64)):
    b = GraphBuilder()
    x = b.input("x", shape, dtype="float32")
    return b.build(b.op("QUANTIZE", [x], "y", scale=scale, zero_point=zero_point))


@pytest.mark.parametrize("scale, zero_point", QUANTIZATIONS)
def test_float32_to_int8(scale, zero_point):
    check_graph_golden(quantize_graph(scale, zero_point))


def test_float32_to_int8_halfway_and_near_halfway_values():
    # With scale 1/4 the quotient is exact: halves go away from zero (2.5 -> 3, -2.5 -> -3), not to even, and
    # 0.49999997 (the float32 just below 1/2) goes to 0 although 0.49999997 + 0.5 rounds to 1.0 in float32.
    values = np.concatenate([np.arange(-64.5, 64, 0.5), [0.49999997, -0.49999997, 1.4999999, -1.4999999]])
    values = (values / 4).astype(np.float32)
    graph = quantize_graph(0.25, -3, shape=values.shape)
    check_graph_golden(graph, n=1, input_fn=lambda g, rng: [values])


@pytest.mark.parametrize("seed", range(12))
def test_int8_requantize_every_value(seed):
    rng = np.random.default_rng(seed)
    s_in, s_out = 10 ** rng.uniform(-3, 0, size=2)
    z_in, z_out = (int(v) for v in rng.integers(-128, 128, size=2))
    b = GraphBuilder()
    x = b.input("x", (256,), scale=s_in, zero_point=z_in)
    graph = b.build(b.op("QUANTIZE", [x], "y", scale=s_out, zero_point=z_out))
    check_graph_golden(graph, n=1, input_fn=every_int8_value)


@pytest.mark.parametrize("scale, zero_point", QUANTIZATIONS)
def test_int8_to_float32(scale, zero_point):
    b = GraphBuilder()
    x = b.input("x", (256,), scale=scale, zero_point=zero_point)
    graph = b.build(b.op("DEQUANTIZE", [x], "y", out_dtype="float32"))
    check_graph_golden(graph, n=1, input_fn=every_int8_value)


def test_round_float32_half_away_is_exact():
    x = np.array([0.5, -0.5, 1.5, 2.5, 0.49999997, -0.49999997, 8388609.0, -8388609.0, 2.0 ** 30], np.float32)
    np.testing.assert_array_equal(round_float32_half_away(x), [1, -1, 2, 3, 0, 0, 8388609, -8388609, 2.0 ** 30])


def test_out_of_int32_range_saturates():
    # TFLite's static_cast<int32_t>(roundf(x / scale)) is undefined past int32: x86 builds of both oracles
    # give INT32_MIN, so 3e9 quantizes to -128 (or, after the zero point wraps the int32, 127). We saturate.
    x = np.array([3e9, -3e9, np.inf, -np.inf, np.nan], np.float32)
    np.testing.assert_array_equal(quantize_float32(x, 1.0, 5, "int8"), [127, -128, 127, -128, 5])
