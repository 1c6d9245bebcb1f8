"""CONCATENATION golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.errors import GraphValidationError
from mcuforge.ir.validate import validate_graph
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden

# (input shapes, axis): channel concat of feature maps, negative axes, odd sizes, 1-D to 4-D, many inputs.
CASES = [
    ([(1, 4, 5, 3), (1, 4, 5, 7)], 3),
    ([(1, 4, 5, 3), (1, 4, 5, 2), (1, 4, 5, 1)], -1),
    ([(2, 3, 5, 2), (2, 1, 5, 2)], 1),
    ([(2, 3, 5, 2), (2, 3, 4, 2)], -2),
    ([(1, 3), (4, 3), (2, 3)], 0),
    ([(3, 1, 7), (3, 5, 7)], -2),
    ([(5,), (1,), (3,)], 0),
    ([(2, 3)] * 7, 1),
]


def _inputs(b: GraphBuilder, shapes, **kwargs):
    return [b.input(f"x{i}", shape, **kwargs) for i, shape in enumerate(shapes)]


@pytest.mark.parametrize("shapes,axis", CASES)
def test_int8(shapes, axis):
    b = GraphBuilder(seed=1)
    xs = _inputs(b, shapes, scale=0.03, zero_point=-6)
    y = b.op("CONCATENATION", xs, "y", scale=0.03, zero_point=-6, axis=axis)
    check_graph_golden(b.build(y), sanitize=len(shapes) > 2)


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("shapes,axis", CASES)
def test_unquantized(shapes, axis, dtype):
    b = GraphBuilder(seed=2)
    xs = _inputs(b, shapes, dtype=dtype)
    y = b.op("CONCATENATION", xs, "y", out_dtype=dtype, axis=axis)
    check_graph_golden(b.build(y), sanitize=len(shapes) == 7)


def test_int8_with_constant_input():
    b = GraphBuilder(seed=3)
    x = b.input("x", (1, 3, 3, 4), scale=0.05, zero_point=2)
    const = b.const("c", b.rng.integers(-128, 128, size=(1, 3, 3, 2)), "int8", scale=0.05, zero_point=2)
    y = b.op("CONCATENATION", [const, x], "y", scale=0.05, zero_point=2, axis=-1)
    check_graph_golden(b.build(y), sanitize=True)


def test_five_dims_litert():
    # TFLite Micro's CONCATENATION stops at 4-D (concatenation.cc Prepare); LiteRT has no such limit.
    b = GraphBuilder(seed=4)
    xs = _inputs(b, [(1, 2, 3, 2, 2), (1, 2, 3, 1, 2)], scale=0.1, zero_point=0)
    y = b.op("CONCATENATION", xs, "y", scale=0.1, zero_point=0, axis=3)
    check_graph_golden(b.build(y), oracles=("litert",))


def test_output_shape():
    b = GraphBuilder()
    xs = _inputs(b, [(2, 3, 5), (2, 4, 5)], dtype="float32")
    y = b.op("CONCATENATION", xs, "y", out_dtype="float32", axis=-2)
    assert b.graph.tensors[y].shape == (2, 7, 5)


def test_mismatched_shapes_are_rejected():
    b = GraphBuilder()
    xs = _inputs(b, [(2, 3), (3, 3)], dtype="float32")
    with pytest.raises(GraphValidationError, match="cannot concatenate"):
        b.op("CONCATENATION", xs, "y", out_dtype="float32", axis=1)


def test_int8_requantizing_concatenation_is_rejected():
    b = GraphBuilder()
    a = b.input("a", (1, 4), scale=0.1, zero_point=0)
    c = b.input("c", (1, 4), scale=0.2, zero_point=0)
    y = b.op("CONCATENATION", [a, c], "y", scale=0.1, zero_point=0, axis=1)
    with pytest.raises(GraphValidationError, match="does not requantize"):
        validate_graph(b.build(y))


def test_fused_activation_is_rejected():
    b = GraphBuilder()
    xs = _inputs(b, [(1, 4), (1, 4)], dtype="float32")
    y = b.op("CONCATENATION", xs, "y", out_dtype="float32", axis=1, fused_activation_function="RELU")
    with pytest.raises(GraphValidationError, match="fused activation"):
        validate_graph(b.build(y))


def test_reference_values():
    from mcuforge.runtime.reference import run_reference

    b = GraphBuilder()
    xs = _inputs(b, [(2, 1), (2, 2)], dtype="int32")
    y = b.op("CONCATENATION", xs, "y", out_dtype="int32", axis=1)
    out = run_reference(b.build(y), [np.array([[1], [2]], np.int32), np.array([[3, 4], [5, 6]], np.int32)])[0]
    np.testing.assert_array_equal(out, [[1, 3, 4], [2, 5, 6]])
