"""QUANTIZE and DEQUANTIZE golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.codegen.run import run_host_c
from mcuforge.ops.quantize import quantize_float32, round_float32_half_away
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden
from tests.ops.test_relu import check_in_place, every_int8_value_each, parallel_graph, unary_in_place_chain

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
    # Three records, as the ASan/UBSan run takes three.
    check_graph_golden(graph, n=3, input_fn=lambda g, rng: [rng.permutation(values)], sanitize=True)


@pytest.mark.parametrize("scale", [0.013, 0.1])
def test_float32_to_int8_near_halfway_quotients(scale):
    # (k + 1/2) * scale in float32 and its two neighbours: x / scale lands on, just below or just above a half.
    halves = ((np.arange(-128, 128) + 0.5) * scale).astype(np.float32)
    values = np.concatenate([halves, np.nextafter(halves, np.float32(np.inf)),
                             np.nextafter(halves, np.float32(-np.inf))])
    check_graph_golden(quantize_graph(scale, 0, shape=values.shape), n=1, input_fn=lambda g, rng: [values])


def random_quantization(seed):
    rng = np.random.default_rng(seed)
    s_in, s_out = 10 ** rng.uniform(-3, 0, size=2)
    z_in, z_out = (int(v) for v in rng.integers(-128, 128, size=2))
    return (s_in, z_in), (s_out, z_out), {}


def test_int8_requantize_every_value():
    # Output k of the graph is seed k's quantization. Three records, as the ASan/UBSan run takes three.
    graph = parallel_graph("QUANTIZE", [random_quantization(seed) for seed in range(12)])
    check_graph_golden(graph, n=3, input_fn=every_int8_value_each, sanitize=True)


def test_int8_requantize_in_place_after_fully_connected():
    graph = unary_in_place_chain("QUANTIZE")
    check_in_place(graph)
    check_graph_golden(graph)


def test_int8_to_float32():
    b = GraphBuilder()
    outputs = []
    for k, (scale, zero_point) in enumerate(QUANTIZATIONS):
        x = b.input(f"x{k}", (256,), scale=scale, zero_point=zero_point)
        outputs.append(b.op("DEQUANTIZE", [x], f"y{k}", out_dtype="float32"))
    # Output k is QUANTIZATIONS[k]. Three records, as the ASan/UBSan run takes three.
    check_graph_golden(b.build(*outputs), n=3, input_fn=every_int8_value_each, sanitize=True)


def test_round_float32_half_away_is_exact():
    x = np.array([0.5, -0.5, 1.5, 2.5, 0.49999997, -0.49999997, 8388609.0, -8388609.0, 2.0 ** 30], np.float32)
    np.testing.assert_array_equal(round_float32_half_away(x), [1, -1, 2, 3, 0, 0, 8388609, -8388609, 2.0 ** 30])


def test_out_of_int32_range_saturates():
    # TFLite's static_cast<int32_t>(roundf(x / scale)) is undefined past int32: x86 builds of both oracles
    # give INT32_MIN, so 3e9 quantizes to -128 (or, after the zero point wraps the int32, 127). We saturate.
    x = np.array([3e9, -3e9, np.inf, -np.inf, np.nan], np.float32)
    np.testing.assert_array_equal(quantize_float32(x, 1.0, 5, "int8"), [127, -128, 127, -128, 5])


def test_out_of_int32_range_saturates_in_c():
    # Beyond what the oracles define: the C kernel saturates like the reference (and NaN gives the zero point).
    x = np.array([3e9, -3e9, np.inf, -np.inf, np.nan, 511.5, -511.5, 512.0, -1e-45, 127.49999], np.float32)
    graph = quantize_graph(1.0, 5, shape=x.shape)
    np.testing.assert_array_equal(run_host_c(graph, [x])[0], run_reference(graph, [x])[0])
