"""LEAKY_RELU golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.frontends.tflite_export import export_tflite
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden
from tests.ops.test_relu import (check_in_place, every_int8_value, every_int8_value_each, parallel_graph,
                                 unary_in_place_chain)
from tests.oracles import TFLM, LiteRT


def leaky_relu_graph(in_quant, out_quant, alpha, shape=(256,)):
    b = GraphBuilder()
    x = b.input("x", shape, scale=in_quant[0], zero_point=in_quant[1])
    return b.build(b.op("LEAKY_RELU", [x], "y", scale=out_quant[0], zero_point=out_quant[1], alpha=alpha))


@pytest.mark.parametrize("alpha", [0.2, 0.01, 1.0, 1.7, -0.3, 0.0])
def test_int8_alpha(alpha):
    check_graph_golden(leaky_relu_graph((0.05, 20), (0.04, -30), alpha, shape=(2, 5, 5, 8)))


def random_case(seed):
    rng = np.random.default_rng(seed)
    s_in, s_out = 10 ** rng.uniform(-2.5, -0.5, size=2)
    z_in, z_out = (int(v) for v in rng.integers(-128, 128, size=2))
    return (s_in, z_in), (s_out, z_out), {"alpha": rng.uniform(-1, 2)}


def test_int8_every_value_random_quantization():
    # Output k of the graph is seed k's quantization and alpha. Three records, as the ASan/UBSan run takes three.
    graph = parallel_graph("LEAKY_RELU", [random_case(seed) for seed in range(12)])
    check_graph_golden(graph, n=3, input_fn=every_int8_value_each, sanitize=True)


def test_int8_in_place_after_fully_connected():
    graph = unary_in_place_chain("LEAKY_RELU", alpha=0.3)
    check_in_place(graph)
    check_graph_golden(graph)


def test_int8_oracles_disagree_on_multiplier_precision():
    """LiteRT's LeakyReluPrepare forms both multipliers in float32; the tflite-micro build we test against
    agrees with double arithmetic. Here the alpha multipliers round one value differently."""
    graph = leaky_relu_graph((0.03333407640457153, 28), (0.028619572520256042, -54), 0.9211719632148743)
    model = export_tflite(graph)
    inputs = every_int8_value(graph, None)
    assert (TFLM(model)(inputs)[0] != LiteRT(model)(inputs)[0]).sum() == 1
    check_graph_golden(graph, n=1, input_fn=every_int8_value)


@pytest.mark.parametrize("alpha", [0.2, -0.5])
def test_float32(alpha):
    b = GraphBuilder()
    x = b.input("x", (2, 4, 4, 8), dtype="float32")
    check_graph_golden(b.build(b.op("LEAKY_RELU", [x], "y", out_dtype="float32", alpha=alpha)), sanitize=alpha < 0)
