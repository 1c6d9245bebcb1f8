"""ADD and SUB golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.errors import GraphValidationError
from mcuforge.ir.validate import validate_graph
from tests.builders import GraphBuilder
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


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("seed", range(12))
def test_int8_every_input_pair_random_quantization(op, seed):
    rng = np.random.default_rng(seed)
    s1, s2, so = 10 ** rng.uniform(-3, 0, size=3)
    z1, z2, zo = (int(v) for v in rng.integers(-128, 128, size=3))
    graph = binary_graph(op, (256, 1), (1, 256), (s1, z1), (s2, z2), (so, zo),
                         fused_activation_function=ACTIVATIONS[seed % len(ACTIVATIONS)])
    check_graph_golden(graph, n=1, input_fn=all_int8_pairs)


@pytest.mark.parametrize("op", OPS)
def test_int8_equal_input_scales(op):
    # Both input multipliers are exactly 1/2 (2^30, shift 0).
    check_graph_golden(binary_graph(op, (256, 1), (1, 256), (0.04, 0), (0.04, -9), (0.05, 3)), n=1,
                       input_fn=all_int8_pairs)


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


def test_rejects_output_scale_too_small_for_2_pow_20_rescaling():
    # 2 * 0.5 / (2^20 * 2^-21) = 2: TFLite's QuantizeMultiplierSmallerThanOneExp would abort the interpreter.
    graph = binary_graph("ADD", (4,), (4,), (0.5, 0), (0.25, 0), (2.0 ** -21, 0))
    with pytest.raises(GraphValidationError, match="output scale is too small"):
        validate_graph(graph)


def test_rejects_tanh_fused_activation():
    graph = binary_graph("SUB", (4,), (4,), (0.5, 0), (0.25, 0), (0.5, 0), fused_activation_function="TANH")
    with pytest.raises(GraphValidationError, match="fused activation TANH"):
        validate_graph(graph)
