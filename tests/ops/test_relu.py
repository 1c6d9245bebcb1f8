"""RELU, RELU6, RELU_N1_TO_1 and RELU_0_TO_1 golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.frontends.tflite_export import export_tflite
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden
from tests.oracles import TFLM, LiteRT

# TFLite Micro registers no RELU_N1_TO_1 or RELU_0_TO_1 kernel (AllocateTensors fails), so those are checked
# against LiteRT alone.
ORACLES = {"RELU": ("tflm", "litert"), "RELU6": ("tflm", "litert"), "RELU_N1_TO_1": ("litert",),
           "RELU_0_TO_1": ("litert",)}


def every_int8_value(graph, rng):
    return [np.arange(-128, 128, dtype=np.int8)]


def relu_graph(op, in_quant, out_quant, shape=(256,)):
    b = GraphBuilder()
    x = b.input("x", shape, scale=in_quant[0], zero_point=in_quant[1])
    return b.build(b.op(op, [x], "y", scale=out_quant[0], zero_point=out_quant[1]))


@pytest.mark.parametrize("op", ORACLES)
def test_int8_same_quantization(op):
    # What the converter emits: the clamp alone, in the input's integers.
    check_graph_golden(relu_graph(op, (0.05, -10), (0.05, -10), shape=(2, 5, 5, 8)), oracles=ORACLES[op])


@pytest.mark.parametrize("op", ORACLES)
@pytest.mark.parametrize("seed", range(12))
def test_int8_every_value_random_quantization(op, seed):
    rng = np.random.default_rng(seed)
    s_in, s_out = 10 ** rng.uniform(-2.5, -0.5, size=2)
    z_in, z_out = (int(v) for v in rng.integers(-128, 128, size=2))
    check_graph_golden(relu_graph(op, (s_in, z_in), (s_out, z_out)), n=1, input_fn=every_int8_value,
                       oracles=ORACLES[op])


def test_int8_relu_oracles_disagree_on_multiplier_precision():
    """LiteRT's ReluPrepare divides the scales in float32, TFLite Micro's in double; here the two Q31
    multipliers round one input value differently, and each oracle matches its own Prepare."""
    graph = relu_graph("RELU", (0.016692224889993668, -128), (0.008288552984595299, -38))
    model = export_tflite(graph)
    inputs = every_int8_value(graph, None)
    assert (TFLM(model)(inputs)[0] != LiteRT(model)(inputs)[0]).sum() == 1
    check_graph_golden(graph, n=1, input_fn=every_int8_value)


def test_int8_relu6_tflm_ignores_output_quantization():
    """TFLite Micro's RELU6 clamps in the input's quantization and copies the integers; LiteRT requantizes to
    the output's. With differing quantizations they disagree on most values; each is mirrored."""
    graph = relu_graph("RELU6", (0.05, -100), (6 / 255, -128))
    model = export_tflite(graph)
    inputs = every_int8_value(graph, None)
    assert (TFLM(model)(inputs)[0] != LiteRT(model)(inputs)[0]).sum() > 100
    check_graph_golden(graph, n=1, input_fn=every_int8_value)


def test_int8_relu_n1_to_1_float_multiplier():
    # A quantization where LiteRT's float32 input_scale / output_scale rounds one value unlike a double one.
    graph = relu_graph("RELU_N1_TO_1", (0.041462548077106476, -128), (0.01922900788486004, -5))
    check_graph_golden(graph, n=1, input_fn=every_int8_value, oracles=ORACLES["RELU_N1_TO_1"])


@pytest.mark.parametrize("op", ORACLES)
def test_float32(op):
    b = GraphBuilder()
    x = b.input("x", (2, 4, 4, 8), dtype="float32")
    graph = b.build(b.op(op, [x], "y", out_dtype="float32"))
    # Standard normal inputs times 4 reach past every clamp (-1, 0, 1, 6).
    check_graph_golden(graph, oracles=ORACLES[op],
                       input_fn=lambda g, rng: [(4 * rng.standard_normal((2, 4, 4, 8))).astype(np.float32)])
