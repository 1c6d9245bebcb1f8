"""TRANSPOSE golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.errors import GraphValidationError
from mcuforge.ops.transpose import merge_copy_dims
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden

# (input shape, perm): NHWC <-> NCHW, matrix transpose, identity, odd sizes, 1-D, 3-D and 5-D.
CASES = [
    ((1, 5, 6, 3), [0, 3, 1, 2]),
    ((2, 3, 5, 4), [0, 2, 3, 1]),
    ((2, 3, 5, 4), [3, 2, 1, 0]),
    ((7, 3), [1, 0]),
    ((4, 6), [0, 1]),
    ((9,), [0]),
    ((2, 5, 3), [2, 0, 1]),
    ((2, 3, 1, 4, 2), [4, 1, 3, 0, 2]),
]


def _perm(b: GraphBuilder, perm) -> str:
    return b.const("perm", np.array(perm), "int32")


@pytest.mark.parametrize("shape,perm", CASES)
def test_int8(shape, perm):
    b = GraphBuilder(seed=1)
    x = b.input("x", shape, scale=0.02, zero_point=-11)
    y = b.op("TRANSPOSE", [x, _perm(b, perm)], "y", scale=0.02, zero_point=-11)
    check_graph_golden(b.build(y), sanitize=len(shape) == 5)


@pytest.mark.parametrize("shape,perm", CASES)
def test_float32(shape, perm):
    b = GraphBuilder(seed=2)
    x = b.input("x", shape, dtype="float32")
    y = b.op("TRANSPOSE", [x, _perm(b, perm)], "y", out_dtype="float32")
    check_graph_golden(b.build(y), sanitize=len(shape) == 5)


@pytest.mark.parametrize("shape,perm", CASES[:4])
def test_int32_litert(shape, perm):
    # TFLite Micro's TRANSPOSE takes float32, int8 and int16 only (transpose.cc TransposeEval).
    b = GraphBuilder(seed=3)
    x = b.input("x", shape, dtype="int32")
    y = b.op("TRANSPOSE", [x, _perm(b, perm)], "y", out_dtype="int32")
    check_graph_golden(b.build(y), oracles=("litert",))


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_six_dims_litert(dtype):
    # TFLite Micro's transpose_common.cc stops at 5-D; LiteRT's reference kernel goes to 6-D.
    b = GraphBuilder(seed=4)
    q = {"scale": 0.02, "zero_point": 3} if dtype == "int8" else {}
    x = b.input("x", (2, 1, 3, 2, 2, 3), dtype=dtype, **q)
    y = b.op("TRANSPOSE", [x, _perm(b, [5, 0, 4, 1, 3, 2])], "y", out_dtype=dtype, **q)
    check_graph_golden(b.build(y), oracles=("litert",), sanitize=True)


def test_output_shape():
    b = GraphBuilder()
    x = b.input("x", (1, 5, 6, 3), dtype="float32")
    y = b.op("TRANSPOSE", [x, _perm(b, [0, 3, 1, 2])], "y", out_dtype="float32")
    assert b.graph.tensors[y].shape == (1, 3, 5, 6)


@pytest.mark.parametrize("perm", [[0, 0, 1], [0, 1], [0, 1, 3], [-1, 0, 1]])
def test_bad_permutation_is_rejected(perm):
    b = GraphBuilder()
    x = b.input("x", (2, 3, 4), dtype="float32")
    with pytest.raises(GraphValidationError, match="not a permutation"):
        b.op("TRANSPOSE", [x, _perm(b, perm)], "y", out_dtype="float32")


def test_copy_dims_merge_when_contiguous_on_both_sides():
    # A plain copy is one run (one memcpy); size-1 dimensions vanish; NHWC -> NCHW keeps H and W merged.
    assert merge_copy_dims((2, 3, 4), (12, 4, 1), (12, 4, 1)) == [(24, 1, 1)]
    assert merge_copy_dims((1, 1), (5, 1), (1, 1)) == [(1, 1, 1)]
    assert merge_copy_dims((1, 3, 5, 6), (90, 1, 18, 3), (90, 30, 6, 1)) == [(3, 1, 30), (30, 3, 1)]
    # A scatter into a wider output (CONCATENATION, PAD) keeps its rows apart.
    assert merge_copy_dims((4, 3), (3, 1), (5, 1)) == [(4, 3, 5), (3, 1, 1)]
