"""RELU, RELU6, RELU_N1_TO_1 and RELU_0_TO_1 golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.codegen.planner import plan_arena
from mcuforge.frontends.tflite_export import export_tflite
from tests.builders import GraphBuilder
from tests.codegen.plan_check import check_plan
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


def parallel_graph(op, cases):
    """One graph holding an independent `op` per (in_quant, out_quant, attrs) in `cases`, each on its own [256]
    input: one model and one C build check them all (output k is case k)."""
    b = GraphBuilder()
    outputs = []
    for k, ((s_in, z_in), (s_out, z_out), attrs) in enumerate(cases):
        x = b.input(f"x{k}", (256,), scale=s_in, zero_point=z_in)
        outputs.append(b.op(op, [x], f"y{k}", scale=s_out, zero_point=z_out, **attrs))
    return b.build(*outputs)


def every_int8_value_each(graph, rng):
    """Every int8 value for each input, in a random order (so that several records differ)."""
    return [rng.permutation(np.arange(-128, 128)).astype(np.int8) for _ in graph.inputs]


def unary_in_place_chain(op, **attrs):
    """FC -> op -> FC: op is the last reader of the FC output, so the planner writes op's output over it."""
    b = GraphBuilder(seed=3)
    x = b.input("x", (2, 16), scale=0.05, zero_point=3)
    h = b.op("FULLY_CONNECTED", [x, b.int8_weights("w0", (24, 16)), ""], "h", scale=0.04, zero_point=-6)
    a = b.op(op, [h], "a", scale=0.03, zero_point=-20, **attrs)
    return b.build(b.op("FULLY_CONNECTED", [a, b.int8_weights("w1", (8, 24)), ""], "y", scale=0.2, zero_point=1))


def check_in_place(graph):
    plan = plan_arena(graph)
    check_plan(graph, plan)
    assert plan.location("h") == plan.location("a") and plan.location("h")[0] == "arena"


@pytest.mark.parametrize("op", ORACLES)
def test_int8_same_quantization(op):
    # What the converter emits: the clamp alone, in the input's integers.
    check_graph_golden(relu_graph(op, (0.05, -10), (0.05, -10), shape=(2, 5, 5, 8)), oracles=ORACLES[op])


def random_quantization(seed):
    rng = np.random.default_rng(seed)
    s_in, s_out = 10 ** rng.uniform(-2.5, -0.5, size=2)
    z_in, z_out = (int(v) for v in rng.integers(-128, 128, size=2))
    return (s_in, z_in), (s_out, z_out), {}


@pytest.mark.parametrize("op", ORACLES)
def test_int8_every_value_random_quantization(op):
    # Output k of the graph is seed k's quantization. Three records, as the ASan/UBSan run takes three.
    graph = parallel_graph(op, [random_quantization(seed) for seed in range(12)])
    check_graph_golden(graph, n=3, input_fn=every_int8_value_each, oracles=ORACLES[op], sanitize=True)


@pytest.mark.parametrize("op", ORACLES)
def test_int8_in_place_after_fully_connected(op):
    graph = unary_in_place_chain(op)
    check_in_place(graph)
    check_graph_golden(graph, oracles=ORACLES[op])


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
    check_graph_golden(graph, oracles=ORACLES[op], sanitize=op == "RELU6",
                       input_fn=lambda g, rng: [(4 * rng.standard_normal((2, 4, 4, 8))).astype(np.float32)])
