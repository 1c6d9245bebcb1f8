"""STRIDED_SLICE golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.errors import GraphValidationError
from mcuforge.passes import simplify
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden

# (input shape, begin, end, strides, options, the NumPy slice it means, output shape). The slice column is
# evaluated against the reference interpreter too, so every case also checks TensorFlow's slicing semantics.
PLAIN = [
    ((1, 8, 6, 4), [0, 1, 0, 0], [1, 7, 6, 4], [1, 2, 1, 1], {}, np.s_[0:1, 1:7:2, 0:6, 0:4], (1, 3, 6, 4)),
    ((5, 7), [-4, -1], [-1, -8], [1, -2], {}, np.s_[-4:-1, -1::-2], (3, 4)),
    ((6, 5), [0, 0], [0, 0], [-1, -1], {"begin_mask": 3, "end_mask": 3}, np.s_[::-1, ::-1], (6, 5)),
    ((2, 5, 3), [1, 0, -1], [2, 5, 0], [1, 1, 1], {"shrink_axis_mask": 0b101}, np.s_[1, 0:5, -1], (5,)),
    ((4, 6), [-10, 2], [10, 100], [1, 3], {}, np.s_[-10:10, 2:100:3], (4, 2)),
    ((3, 4, 5), [1, 2, 3], [2, 3, 4], [1, 1, 2], {"begin_mask": 0b010, "end_mask": 0b100},
     np.s_[1:2, :3, 3::2], (1, 3, 1)),
    ((1, 9, 9, 3), [0, 0, 0, 0], [1, 9, 9, 3], [1, 3, 4, 2], {}, np.s_[0:1, 0:9:3, 0:9:4, 0:3:2], (1, 3, 3, 2)),
    ((10,), [8], [1], [-3], {}, np.s_[8:1:-3], (3,)),
    ((3, 7), [2, 5], [0, -9], [-1, -2], {}, np.s_[2:0:-1, 5:-9:-2], (2, 3)),
    ((4,), [-2], [0], [1], {"shrink_axis_mask": 1}, np.s_[-2], ()),
]

# Features TFLite Micro lacks: it zeroes ellipsis/new-axis masks, ignores offset and reads one begin/end/stride
# per input dimension (strided_slice_common.cc BuildStridedSliceParams), so only LiteRT is an oracle here.
EXTENDED = [
    ((2, 3, 4, 5), [0, 1], [0, 3], [1, 1], {"ellipsis_mask": 1}, np.s_[..., 1:3], (2, 3, 4, 2)),
    ((2, 3, 4, 5), [1, 0, 2], [2, 0, 5], [1, 1, 1], {"ellipsis_mask": 0b010}, np.s_[1:2, ..., 2:5], (1, 3, 4, 3)),
    ((3, 4), [0, 0, 1], [0, 0, 3], [1, 1, 1], {"new_axis_mask": 1, "begin_mask": 0b010, "end_mask": 0b010},
     np.s_[None, :, 1:3], (1, 3, 2)),
    ((2, 3, 4), [1], [2], [1], {}, np.s_[1:2], (1, 3, 4)),
    ((2, 3, 4), [0, 0, 1], [0, 0, 2], [1, 1, 1], {"ellipsis_mask": 1, "new_axis_mask": 0b010,
                                                  "shrink_axis_mask": 0b100}, np.s_[..., None, 1], (2, 3, 1)),
    ((5, 6), [1, -4], [3, 2], [1, 1], {"offset": True}, np.s_[1:4, 2:4], (3, 2)),
]


def _slice(b: GraphBuilder, x: str, begin, end, strides, options, **out) -> str:
    operands = [b.const(n, np.array(v), "int32") for n, v in (("begin", begin), ("end", end), ("strides", strides))]
    return b.op("STRIDED_SLICE", [x, *operands], "y", **out, **options)


def _graph(shape, begin, end, strides, options, dtype):
    b = GraphBuilder(seed=1)
    q = {"scale": 0.03, "zero_point": -9} if dtype == "int8" else {}
    x = b.input("x", shape, dtype=dtype, **q)
    return b.build(_slice(b, x, begin, end, strides, options, out_dtype=dtype, **q))


def _check_numpy_semantics(graph, index, expected_shape):
    from mcuforge.runtime.reference import run_reference

    assert graph.tensors["y"].shape == expected_shape
    t = graph.tensors["x"]
    x = np.arange(np.prod(t.shape)).reshape(t.shape).astype(t.dtype)
    np.testing.assert_array_equal(run_reference(graph, [x])[0], x[index])


@pytest.mark.parametrize("dtype", ["int8", "float32", "int32"])
@pytest.mark.parametrize("shape,begin,end,strides,options,index,out_shape", PLAIN)
def test_plain(shape, begin, end, strides, options, index, out_shape, dtype):
    graph = _graph(shape, begin, end, strides, options, dtype)
    _check_numpy_semantics(graph, index, out_shape)
    # ASan/UBSan where the generated C steps backwards through the input along every dimension.
    check_graph_golden(graph, sanitize=all(s < 0 for s in strides))


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("shape,begin,end,strides,options,index,out_shape", EXTENDED)
def test_extended_litert(shape, begin, end, strides, options, index, out_shape, dtype):
    graph = _graph(shape, begin, end, strides, options, dtype)
    _check_numpy_semantics(graph, index, out_shape)
    check_graph_golden(graph, oracles=("litert",), sanitize=bool(options.get("new_axis_mask")))


def test_keras_flatten_shape_subgraph_folds():
    """SHAPE -> STRIDED_SLICE(shrink) -> PACK -> RESHAPE, as Keras' Flatten exports it, folds to a constant."""
    b = GraphBuilder()
    x = b.input("x", (1, 4, 3, 2), scale=0.1)
    shape = b.op("SHAPE", [x], "shape", out_dtype="int32")
    operands = [b.const(n, np.array(v), "int32") for n, v in (("begin", [0]), ("end", [1]), ("strides", [1]))]
    batch = b.op("STRIDED_SLICE", [shape, *operands], "batch", out_dtype="int32", shrink_axis_mask=1)
    assert b.graph.tensors[batch].shape == ()
    minus_one = b.const("minus_one", np.array(-1), "int32")
    target = b.op("PACK", [batch, minus_one], "target", out_dtype="int32", values_count=2)
    y = b.op("RESHAPE", [x, target], "y", scale=0.1)
    graph = simplify(b.build(y))
    assert [op.type for op in graph.ops] == ["RESHAPE"]
    np.testing.assert_array_equal(graph.tensors["target"].data, [1, -1])


@pytest.mark.parametrize("options,message", [
    ({"shrink_axis_mask": 1, "begin": [5]}, "shrunk axis"),
    ({"strides": [0]}, "non-zero"),
    ({"begin": [3], "end": [1]}, "empty"),
])
def test_bad_slices_are_rejected(options, message):
    b = GraphBuilder()
    x = b.input("x", (4,), dtype="float32")
    begin, end, strides = options.pop("begin", [0]), options.pop("end", [4]), options.pop("strides", [1])
    with pytest.raises(GraphValidationError, match=message):
        _slice(b, x, begin, end, strides, options, out_dtype="float32")
