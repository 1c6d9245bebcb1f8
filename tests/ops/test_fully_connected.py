"""FULLY_CONNECTED golden tests against TFLite Micro and LiteRT."""

import pytest

from tests.builders import GraphBuilder
from tests.golden import check_graph_golden


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("activation", ["NONE", "RELU", "RELU6"])
def test_int8(per_channel, activation):
    b = GraphBuilder(seed=1)
    x = b.input("x", (3, 40), scale=0.05, zero_point=-3)
    w = b.int8_weights("w", (16, 40), axis=0 if per_channel else None)
    bias = b.int32_bias("b", 16, 0.05 * b.graph.tensors[w].quant.scale)
    y = b.op("FULLY_CONNECTED", [x, w, bias], "y", scale=0.4, zero_point=5, fused_activation_function=activation)
    check_graph_golden(b.build(y))


def test_int8_no_bias_keep_num_dims():
    b = GraphBuilder(seed=2)
    x = b.input("x", (1, 4, 24), scale=0.02, zero_point=10)
    w = b.int8_weights("w", (7, 24), axis=None)
    y = b.op("FULLY_CONNECTED", [x, w, ""], "y", scale=0.1, zero_point=-20, keep_num_dims=True)
    graph = check_graph_golden(b.build(y))
    assert graph.tensors["y"].shape == (1, 4, 7)


def test_float32():
    b = GraphBuilder(seed=3)
    x = b.input("x", (2, 10), dtype="float32")
    w = b.const("w", b.rng.standard_normal((5, 10)), "float32")
    bias = b.const("b", b.rng.standard_normal(5), "float32")
    y = b.op("FULLY_CONNECTED", [x, w, bias], "y", out_dtype="float32", fused_activation_function="RELU")
    check_graph_golden(b.build(y))
