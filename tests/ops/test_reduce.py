"""MEAN and REDUCE_MAX golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.errors import GraphValidationError
from mcuforge.ir.validate import validate_graph
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden, run_generated_c
from tests.oracles import random_inputs

# (input shape, axis operand): the global spatial mean of a CNN head (the path older TFLite special-cased),
# negative and repeated axes, odd sizes, a single axis, all axes, and 2-D / 3-D inputs.
AXES = [
    ((1, 5, 7, 16), [1, 2]),
    ((2, 4, 3, 8), [2, 1]),
    ((1, 5, 7, 16), [-3, -2]),
    ((2, 6, 5), [1]),
    ((2, 6, 5), [-1]),
    ((2, 6, 5), [0, 2]),
    ((3, 9), [1, 1]),
    ((2, 3, 4, 5), [0, 1, 2, 3]),
    ((2, 3, 4, 5), [3, 1, 2]),
    ((1, 1, 1, 10), [1, 2]),
]

# (input (scale, zero point), output (scale, zero point)): identical, rescaled both ways, extreme zero points.
QUANT = [
    ((0.05, 3), (0.05, 3)),
    ((0.05, 3), (0.03, -7)),
    ((0.02, -128), (0.1, 20)),
    ((0.1, 100), (0.004, -60)),
]


# keep_dims changes the output's shape only (not its bytes, nor the generated C): where a case does not need
# both, it alternates over the axes (each case compiles C).
AXES_KEEP = [(shape, axes, i % 2 == 0) for i, (shape, axes) in enumerate(AXES)]


def _sanitize(shape, axes) -> bool:
    """ASan/UBSan on the generated C for the cases that walk the most: reduced axes on both sides of a kept one
    (the odometer carries) and three scattered axes."""
    return (shape, axes) in (((2, 6, 5), [0, 2]), ((2, 3, 4, 5), [3, 1, 2]))


def _axis(b: GraphBuilder, axes) -> str:
    return b.const("axis", np.array(axes), "int32")


@pytest.mark.parametrize("keep_dims", [True, False])
@pytest.mark.parametrize("shape,axes", AXES)
def test_mean_int8_axes(shape, axes, keep_dims):
    b = GraphBuilder(seed=1)
    x = b.input("x", shape, scale=0.05, zero_point=3)
    y = b.op("MEAN", [x, _axis(b, axes)], "y", scale=0.03, zero_point=-7, keep_dims=keep_dims)
    check_graph_golden(b.build(y), sanitize=_sanitize(shape, axes) and not keep_dims)


@pytest.mark.parametrize("in_q,out_q", QUANT)
@pytest.mark.parametrize("shape,axes", [((1, 5, 7, 16), [1, 2]), ((2, 6, 5), [1]), ((4, 33), [-1])])
def test_mean_int8_requantization(shape, axes, in_q, out_q):
    b = GraphBuilder(seed=2)
    x = b.input("x", shape, scale=in_q[0], zero_point=in_q[1])
    y = b.op("MEAN", [x, _axis(b, axes)], "y", scale=out_q[0], zero_point=out_q[1], keep_dims=True)
    check_graph_golden(b.build(y))


@pytest.mark.parametrize("shape,axes,keep_dims", AXES_KEEP)
def test_mean_float32(shape, axes, keep_dims):
    b = GraphBuilder(seed=3)
    x = b.input("x", shape, dtype="float32")
    y = b.op("MEAN", [x, _axis(b, axes)], "y", out_dtype="float32", keep_dims=keep_dims)
    check_graph_golden(b.build(y), sanitize=_sanitize(shape, axes))


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("shape,axes,keep_dims", AXES_KEEP)
def test_reduce_max(shape, axes, keep_dims, dtype):
    b = GraphBuilder(seed=4)
    q = {"scale": 0.05, "zero_point": -9} if dtype == "int8" else {}
    x = b.input("x", shape, dtype=dtype, **q)
    y = b.op("REDUCE_MAX", [x, _axis(b, axes)], "y", out_dtype=dtype, keep_dims=keep_dims, **q)
    check_graph_golden(b.build(y), sanitize=_sanitize(shape, axes))


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_mean_without_axes_is_a_copy(dtype, tmp_path):
    """An empty axis list makes MEAN a copy (ReduceIsCopy), even for int8 with different output quantization.
    The TFLite round trip drops an empty constant, so the generated C is checked against the reference directly."""
    b = GraphBuilder(seed=5)
    q = {"scale": 0.05, "zero_point": 3} if dtype == "int8" else {}
    x = b.input("x", (2, 3), dtype=dtype, **q)
    out_q = {"scale": 0.03, "zero_point": -7} if dtype == "int8" else {}
    graph = b.build(b.op("MEAN", [x, _axis(b, np.zeros(0, np.int32))], "y", out_dtype=dtype, **out_q))
    batch = [random_inputs(graph, b.rng) for _ in range(3)]
    generated = run_generated_c(graph, batch, "tflm", tmp_path)
    for inputs, outputs in zip(batch, generated):
        np.testing.assert_array_equal(outputs[0], run_reference(graph, inputs)[0])
        np.testing.assert_array_equal(outputs[0], inputs[0])


def test_output_shapes():
    b = GraphBuilder()
    x = b.input("x", (2, 3, 4, 5), scale=0.1)
    kept = b.op("MEAN", [x, b.const("a1", np.array([-1, 1, 1]), "int32")], "kept", scale=0.1, keep_dims=True)
    dropped = b.op("REDUCE_MAX", [x, b.const("a2", np.array([0, -2]), "int32")], "dropped", scale=0.1)
    assert b.graph.tensors[kept].shape == (2, 1, 4, 1)
    assert b.graph.tensors[dropped].shape == (3, 5)


def test_int8_reduce_max_cannot_requantize():
    b = GraphBuilder()
    x = b.input("x", (2, 8), scale=0.1, zero_point=1)
    y = b.op("REDUCE_MAX", [x, _axis(b, [1])], "y", scale=0.1, zero_point=2)
    with pytest.raises(GraphValidationError, match="same scale and zero point"):
        validate_graph(b.build(y))


def test_axis_out_of_range_is_rejected():
    b = GraphBuilder()
    x = b.input("x", (2, 8), scale=0.1)
    with pytest.raises(GraphValidationError, match="out of range"):
        b.op("MEAN", [x, _axis(b, [2])], "y", scale=0.1)
