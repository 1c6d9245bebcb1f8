"""ADD and SUB golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.codegen.planner import plan_arena
from mcuforge.errors import GraphValidationError
from mcuforge.ir.validate import validate_graph
from mcuforge.ops.add_sub import broadcast_fields, uses_lut
from tests.builders import GraphBuilder
from tests.codegen.plan_check import check_plan
from tests.golden import check_graph_golden

OPS = ["ADD", "SUB"]
ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
BROADCASTS = {
    "same": ((1, 4, 4, 8), (1, 4, 4, 8)),
    "per_channel": ((1, 4, 4, 8), (1, 1, 1, 8)),
    "scalar": ((1, 4, 4, 8), (1,)),
    "first_broadcasts": ((1, 1, 4, 1), (2, 3, 4, 5)),
    "lower_rank": ((8,), (2, 3, 8)),
    "5d_both_ways": ((2, 1, 3, 1, 5), (1, 4, 1, 6, 1)),
}


def all_int8_pairs(graph, rng):
    """Inputs [256, 1] and [1, 256] holding every int8 value: the output covers every pair of values once."""
    values = np.arange(-128, 128, dtype=np.int8)
    return [values.reshape(256, 1), values.reshape(1, 256)]


def binary_graph(op, shape_a, shape_b, a_quant, b_quant, out_quant, seed=0, **attrs):
    b = GraphBuilder(seed=seed)
    x = b.input("x", shape_a, scale=a_quant[0], zero_point=a_quant[1])
    z = b.input("z", shape_b, scale=b_quant[0], zero_point=b_quant[1])
    return b.build(b.op(op, [x, z], "y", scale=out_quant[0], zero_point=out_quant[1], **attrs))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shapes", BROADCASTS.values(), ids=BROADCASTS.keys())
def test_int8_broadcasting(op, shapes):
    check_graph_golden(binary_graph(op, *shapes, (0.05, -3), (0.031, 7), (0.07, 5)))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_int8_fused_activation(op, activation):
    # An output range of about [-2.6, 2.5] so every clamp (0, 6, -1, 1) bites inside it.
    graph = binary_graph(op, (1, 4, 4, 8), (1, 1, 1, 8), (0.02, 10), (0.015, -20), (0.02, 2),
                         fused_activation_function=activation)
    check_graph_golden(graph)


def every_pair_graph(op, quantizations):
    """One graph holding an independent `op` per ((s1, z1), (s2, z2), (so, zo)) in `quantizations`, each on its own
    [256, 1] x [1, 256] inputs and with the fused activations in turn: one model and one C build check them all."""
    b = GraphBuilder()
    outputs = []
    for k, ((s1, z1), (s2, z2), (so, zo)) in enumerate(quantizations):
        x = b.input(f"x{k}", (256, 1), scale=s1, zero_point=z1)
        z = b.input(f"z{k}", (1, 256), scale=s2, zero_point=z2)
        outputs.append(b.op(op, [x, z], f"y{k}", scale=so, zero_point=zo,
                            fused_activation_function=ACTIVATIONS[k % len(ACTIVATIONS)]))
    return b.build(*outputs)


def every_pair_inputs(graph, rng):
    """all_int8_pairs for each op of an every_pair_graph, the values in a random order (so that several records
    differ; each still covers every pair)."""
    pairs = all_int8_pairs(graph, rng) * (len(graph.inputs) // 2)
    return [rng.permutation(v.reshape(-1)).reshape(v.shape) for v in pairs]


def random_quantization(seed):
    rng = np.random.default_rng(seed)
    s1, s2, so = 10 ** rng.uniform(-3, 0, size=3)
    z1, z2, zo = (int(v) for v in rng.integers(-128, 128, size=3))
    return (s1, z1), (s2, z2), (so, zo)


@pytest.mark.parametrize("op", OPS)
def test_int8_every_input_pair_random_quantization(op):
    # Output k of the graph is seed k's quantization. Three records, as the ASan/UBSan run takes three.
    graph = every_pair_graph(op, [random_quantization(seed) for seed in range(12)])
    check_graph_golden(graph, n=3, input_fn=every_pair_inputs, sanitize=True)


@pytest.mark.parametrize("op", OPS)
def test_int8_equal_input_scales(op):
    # Both input multipliers are exactly 1/2 (2^30, shift 0).
    check_graph_golden(binary_graph(op, (256, 1), (1, 256), (0.04, 0), (0.04, -9), (0.05, 3)), n=1,
                       input_fn=all_int8_pairs)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("activation", ["NONE", "RELU6"])
def test_int8_lookup_table_kernel(op, activation):
    # Outputs large enough for mcuforge_add_sub_s8_lut: one flat row of 2295 (four at a time, a tail of 3) and
    # 135 rows of 17 against a per-channel operand.
    b = GraphBuilder(seed=8)
    x = b.input("x", (1, 9, 15, 17), scale=0.04, zero_point=-128)
    z = b.input("z", (1, 9, 15, 17), scale=0.1, zero_point=4)
    w = b.input("w", (1, 1, 1, 17), scale=0.02, zero_point=-7)
    graph = b.build(b.op(op, [x, z], "y", scale=0.05, zero_point=-20, fused_activation_function=activation),
                    b.op(op, [w, x], "v", scale=0.03, zero_point=9, fused_activation_function=activation))
    assert all(uses_lut(o, graph) for o in graph.ops)
    check_graph_golden(graph, n=3)


@pytest.mark.parametrize("op", OPS)
def test_int8_constant_operand(op):
    b = GraphBuilder(seed=4)
    x = b.input("x", (1, 6, 6, 4), scale=0.1, zero_point=-1)
    c = b.const("c", b.rng.integers(-128, 128, size=(4,)), "int8", scale=0.03, zero_point=12)
    check_graph_golden(b.build(b.op(op, [x, c], "y", scale=0.12, zero_point=-4)))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_float32(op, activation):
    b = GraphBuilder(seed=5)
    x = b.input("x", (2, 3, 4, 5), dtype="float32")
    z = b.input("z", (1, 3, 1, 5), dtype="float32")
    check_graph_golden(b.build(b.op(op, [x, z], "y", out_dtype="float32", fused_activation_function=activation)))


def fully_connected(b, x, name, units, dtype, **out):
    depth = b.graph.tensors[x].shape[-1]
    if dtype == "int8":
        return b.op("FULLY_CONNECTED", [x, b.int8_weights(f"{name}_w", (units, depth)), ""], name, **out)
    weights = b.const(f"{name}_w", b.rng.standard_normal((units, depth)) / 4, "float32")
    return b.op("FULLY_CONNECTED", [x, weights, ""], name, **out)


def in_place_chain(op, dtype):
    """FC outputs h0, h1 -> op(h0, h1) = s -> op(s, per-channel constant) = t -> op(graph input, t) = u -> FC.
    Each op is the last reader of its arena inputs, so the planner writes s over h0 (input 0), t over s (input 0,
    the other broadcasting), u over t (input 1: a graph input is never overwritten)."""
    b = GraphBuilder(seed=6)
    int8 = dtype == "int8"

    def q(scale, zero_point):  # an int8 tensor's quantization; nothing for float32
        return {"scale": scale, "zero_point": zero_point} if int8 else {}

    def out(scale, zero_point):  # the output keywords of b.op
        return q(scale, zero_point) if int8 else {"out_dtype": "float32"}

    x = b.input("x", (2, 16), dtype, **q(0.05, 3))
    g = b.input("g", (2, 24), dtype, **q(0.07, -9))
    h0 = fully_connected(b, x, "h0", 24, dtype, **out(0.1, -5))
    h1 = fully_connected(b, x, "h1", 24, dtype, **out(0.08, 7))
    s = b.op(op, [h0, h1], "s", **out(0.15, 2), fused_activation_function="RELU")
    if int8:
        c = b.const("c", b.rng.integers(-128, 128, size=(24,)), "int8", scale=0.02, zero_point=4)
    else:
        c = b.const("c", b.rng.standard_normal(24), "float32")
    t = b.op(op, [s, c], "t", **out(0.12, -3))
    u = b.op(op, [g, t], "u", **out(0.2, 1), fused_activation_function="RELU6")
    return b.build(fully_connected(b, u, "y", 8, dtype, **out(0.3, 0)))


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("op", OPS)
def test_in_place_after_fully_connected(op, dtype):
    graph = in_place_chain(op, dtype)
    plan = plan_arena(graph)
    check_plan(graph, plan)
    assert plan.location("h0") == plan.location("s") == plan.location("t") == plan.location("u")
    assert plan.location("h0")[0] == "arena"
    check_graph_golden(graph, sanitize=True)


@pytest.mark.parametrize("shapes, dims, a_strides, b_strides", [
    # Equal shapes: one row; a per-channel or scalar operand: rows along which it steps by 1 or 0.
    (BROADCASTS["same"], [128], [1], [1]),
    (BROADCASTS["per_channel"], [16, 8], [8, 1], [0, 1]),
    (BROADCASTS["scalar"], [128], [1], [0]),
    (BROADCASTS["5d_both_ways"], [2, 4, 3, 6, 5], [15, 0, 5, 0, 1], [0, 6, 0, 1, 0]),
])
def test_broadcast_fields_merge_dimensions(shapes, dims, a_strides, b_strides):
    graph = binary_graph("ADD", *shapes, (0.05, 0), (0.05, 0), (0.1, 0))
    fields = broadcast_fields(graph.ops[0], graph)
    pad = 6 - len(dims)

    def c_array(values):
        return "{" + ", ".join(map(str, values)) + "}"

    assert fields == {"dims": c_array([1] * pad + dims), "a_strides": c_array([0] * pad + a_strides),
                      "b_strides": c_array([0] * pad + b_strides)}


def test_rejects_output_scale_too_small_for_2_pow_20_rescaling():
    # 2 * 0.5 / (2^20 * 2^-21) = 2: TFLite's QuantizeMultiplierSmallerThanOneExp would abort the interpreter.
    graph = binary_graph("ADD", (4,), (4,), (0.5, 0), (0.25, 0), (2.0 ** -21, 0))
    with pytest.raises(GraphValidationError, match="output scale is too small"):
        validate_graph(graph)


def test_rejects_tanh_fused_activation():
    graph = binary_graph("SUB", (4,), (4,), (0.5, 0), (0.25, 0), (0.5, 0), fused_activation_function="TANH")
    with pytest.raises(GraphValidationError, match="fused activation TANH"):
        validate_graph(graph)
