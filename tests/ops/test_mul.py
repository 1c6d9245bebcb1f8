"""MUL golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.codegen.planner import plan_arena
from mcuforge.frontends.tflite_export import export_tflite
from tests.builders import GraphBuilder
from tests.codegen.plan_check import check_plan
from tests.golden import check_graph_golden
from tests.ops.test_add_sub import (ACTIVATIONS, BROADCASTS, all_int8_pairs, binary_graph, every_pair_graph,
                                    every_pair_inputs, in_place_chain)
from tests.oracles import TFLM, LiteRT


@pytest.mark.parametrize("shapes", BROADCASTS.values(), ids=BROADCASTS.keys())
def test_int8_broadcasting(shapes):
    check_graph_golden(binary_graph("MUL", *shapes, (0.05, -3), (0.031, 7), (0.04, 5)))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_int8_fused_activation(activation):
    # Products span about [-8, 8] against an output range of about [-2.6, 2.5]: every clamp bites.
    graph = binary_graph("MUL", (1, 4, 4, 8), (1, 1, 1, 8), (0.02, 10), (0.015, -20), (0.02, 2),
                         fused_activation_function=activation)
    check_graph_golden(graph)


def random_quantization(seed):
    rng = np.random.default_rng(seed)
    s1, s2 = 10 ** rng.uniform(-3, 0, size=2)
    so = s1 * s2 * 10 ** rng.uniform(1, 4)  # real multipliers from 1e-4 to 0.1: outputs from saturated to small
    z1, z2, zo = (int(v) for v in rng.integers(-128, 128, size=3))
    return (s1, z1), (s2, z2), (so, zo)


def test_int8_every_input_pair_random_quantization():
    # Output k of the graph is seed k's quantization. Three records, as the ASan/UBSan run takes three.
    graph = every_pair_graph("MUL", [random_quantization(seed) for seed in range(12)])
    check_graph_golden(graph, n=3, input_fn=every_pair_inputs, sanitize=True)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_in_place_after_fully_connected(dtype):
    graph = in_place_chain("MUL", dtype)
    plan = plan_arena(graph)
    check_plan(graph, plan)
    assert plan.location("h0") == plan.location("s") == plan.location("t") == plan.location("u")
    assert plan.location("h0")[0] == "arena"
    check_graph_golden(graph, sanitize=True)


def test_int8_oracles_disagree_on_multiplier_precision():
    """LiteRT's Prepare forms s1 * s2 / so in float32, TFLite Micro's in double; with these scales the two
    Q31 multipliers round 8 of the 65536 products differently, and each oracle matches its own Prepare."""
    graph = binary_graph("MUL", (256, 1), (1, 256), (0.042878806591033936, 0), (0.09741006046533585, 0),
                         (0.4903962016105652, 0))
    inputs = all_int8_pairs(graph, None)
    model = export_tflite(graph)
    assert (TFLM(model)(inputs)[0] != LiteRT(model)(inputs)[0]).sum() == 8
    check_graph_golden(graph, n=1, input_fn=all_int8_pairs)


def test_int8_constant_operand():
    b = GraphBuilder(seed=4)
    x = b.input("x", (1, 6, 6, 4), scale=0.1, zero_point=-1)
    c = b.const("c", b.rng.integers(-128, 128, size=(1, 1, 1, 4)), "int8", scale=0.01, zero_point=3)
    check_graph_golden(b.build(b.op("MUL", [x, c], "y", scale=0.05, zero_point=-4)))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_float32(activation):
    b = GraphBuilder(seed=5)
    x = b.input("x", (2, 3, 4, 5), dtype="float32")
    z = b.input("z", (5,), dtype="float32")
    check_graph_golden(b.build(b.op("MUL", [x, z], "y", out_dtype="float32", fused_activation_function=activation)))
