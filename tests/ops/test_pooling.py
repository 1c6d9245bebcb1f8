"""AVERAGE_POOL_2D and MAX_POOL_2D golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.codegen.planner import plan_arena
from mcuforge.errors import GraphValidationError
from mcuforge.ir.validate import validate_graph
from mcuforge.ops.pooling import is_global_pool
from tests.builders import GraphBuilder
from tests.codegen.plan_check import check_plan
from tests.golden import check_graph_golden

POOLS = ["AVERAGE_POOL_2D", "MAX_POOL_2D"]

# (input shape, filter (h, w), strides (h, w), padding): odd sizes, windows larger than the stride, windows
# overlapping the SAME padding on both sides, and a global pool.
GEOMETRIES = [
    ((1, 7, 9, 3), (3, 3), (2, 2), "SAME"),
    ((1, 7, 9, 3), (3, 3), (2, 2), "VALID"),
    ((2, 6, 5, 4), (2, 3), (1, 2), "SAME"),
    ((1, 5, 5, 8), (4, 4), (3, 3), "SAME"),
    ((1, 8, 8, 2), (2, 2), (2, 2), "VALID"),
    ((1, 5, 7, 6), (5, 7), (1, 1), "VALID"),
    ((1, 1, 10, 3), (1, 4), (1, 3), "SAME"),
]


@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("shape,window,strides,padding", GEOMETRIES)
def test_int8_geometry(pool, shape, window, strides, padding):
    b = GraphBuilder(seed=1)
    x = b.input("x", shape, scale=0.07, zero_point=-4)
    y = b.op(pool, [x], "y", scale=0.07, zero_point=-4, padding=padding, filter_height=window[0],
             filter_width=window[1], stride_h=strides[0], stride_w=strides[1])
    check_graph_golden(b.build(y), sanitize=shape[0] == 2)


# Global average pools (mcuforge_global_avg_pool_s8): 64 channels (kws), 6 (an overlapping last block of four)
# over two batch items, 3 (one channel at a time), and 306 taps (sums widened from int16 lanes in two chunks).
@pytest.mark.parametrize("shape,activation", [((1, 25, 5, 64), "NONE"), ((2, 4, 5, 6), "RELU"),
                                              ((1, 7, 3, 3), "NONE"), ((1, 18, 17, 9), "RELU6")])
def test_int8_global_average(shape, activation):
    b = GraphBuilder(seed=4)
    x = b.input("x", shape, scale=0.05, zero_point=-6)
    y = b.op("AVERAGE_POOL_2D", [x], "y", scale=0.05, zero_point=-6, padding="VALID", filter_height=shape[1],
             filter_width=shape[2], fused_activation_function=activation)
    graph = b.build(y)
    assert is_global_pool(graph.ops[0], graph)
    check_graph_golden(graph, sanitize=shape[0] == 2)


def test_global_pool_needs_the_whole_input_in_its_window():
    b = GraphBuilder(seed=4)
    x = b.input("x", (1, 2, 2, 4), scale=0.05, zero_point=0)
    # SAME, filter 1, stride 2: one output pixel whose window is the input's first pixel only.
    y = b.op("AVERAGE_POOL_2D", [x], "y", scale=0.05, zero_point=0, padding="SAME", filter_height=1,
             filter_width=1, stride_h=2, stride_w=2)
    graph = b.build(y)
    assert graph.tensors["y"].shape == (1, 1, 1, 4) and not is_global_pool(graph.ops[0], graph)
    check_graph_golden(graph)


@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("activation", ["RELU", "RELU6", "RELU_N1_TO_1"])
@pytest.mark.parametrize("zero_point", [-128, 10])
def test_int8_activation(pool, activation, zero_point):
    b = GraphBuilder(seed=2)
    x = b.input("x", (1, 6, 6, 5), scale=0.05, zero_point=zero_point)
    y = b.op(pool, [x], "y", scale=0.05, zero_point=zero_point, padding="SAME", filter_height=3,
             filter_width=3, stride_h=2, stride_w=2, fused_activation_function=activation)
    check_graph_golden(b.build(y))


@pytest.mark.parametrize("pool", POOLS)
# A float activation is one clamp after the window, so it alternates over the geometries (each case compiles C).
@pytest.mark.parametrize("shape,window,strides,padding,activation",
                         [(*g, "RELU6" if i % 2 else "NONE") for i, g in enumerate(GEOMETRIES)])
def test_float32(pool, shape, window, strides, padding, activation):
    b = GraphBuilder(seed=3)
    x = b.input("x", shape, dtype="float32")
    y = b.op(pool, [x], "y", out_dtype="float32", padding=padding, filter_height=window[0],
             filter_width=window[1], stride_h=strides[0], stride_w=strides[1], fused_activation_function=activation)
    check_graph_golden(b.build(y))


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("pools", [("AVERAGE_POOL_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D"),
                                   ("MAX_POOL_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")])
def test_output_overlaps_consumed_input_rows(pools, dtype):
    """PAD -> pool (3x3, stride 1, SAME) -> pool (3x3, stride 2, SAME) -> pool: the first two pools read arena
    tensors nothing else reads, so the planner starts each output before its input (row_window) and the
    generated C, checked against the reference under ASan, really runs on overlapping buffers."""
    b = GraphBuilder(seed=5)
    q = {"scale": 0.05, "zero_point": -3} if dtype == "int8" else {}
    x = b.input("x", (1, 8, 8, 4), dtype=dtype, **q)
    padded = b.op("PAD", [x, b.const("pads", np.array([[0, 0], [1, 1], [1, 1], [0, 0]]), "int32")], "padded",
                  out_dtype=dtype, **q)
    a = b.op(pools[0], [padded], "a", out_dtype=dtype, padding="SAME", filter_height=3, filter_width=3, **q)
    c = b.op(pools[1], [a], "c", out_dtype=dtype, padding="SAME", filter_height=3, filter_width=3, stride_h=2,
             stride_w=2, **q)
    y = b.op(pools[2], [c], "y", out_dtype=dtype, padding="VALID", filter_height=2, filter_width=2, **q)
    graph = check_graph_golden(b.build(y), sanitize=True)
    plan = plan_arena(graph)
    check_plan(graph, plan)
    assert plan.location("a")[1] < plan.location("padded")[1] < plan.location("a")[1] + graph.tensors["a"].nbytes
    assert plan.location("c")[1] < plan.location("a")[1] < plan.location("c")[1] + graph.tensors["c"].nbytes


def test_output_shapes():
    b = GraphBuilder()
    x = b.input("x", (1, 7, 9, 3), scale=0.1)
    same = b.op("MAX_POOL_2D", [x], "same", scale=0.1, padding="SAME", filter_height=3, filter_width=3,
                stride_h=2, stride_w=2)
    valid = b.op("AVERAGE_POOL_2D", [x], "valid", scale=0.1, padding="VALID", filter_height=3, filter_width=3,
                 stride_h=2, stride_w=2)
    assert b.graph.tensors[same].shape == (1, 4, 5, 3)
    assert b.graph.tensors[valid].shape == (1, 3, 4, 3)


def test_int8_requantizing_pool_is_rejected():
    b = GraphBuilder()
    x = b.input("x", (1, 4, 4, 2), scale=0.1, zero_point=0)
    y = b.op("AVERAGE_POOL_2D", [x], "y", scale=0.2, zero_point=0, filter_height=2, filter_width=2,
             stride_h=2, stride_w=2)
    with pytest.raises(GraphValidationError, match="same scale and zero point"):
        validate_graph(b.build(y))
