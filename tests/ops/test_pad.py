"""PAD and PADV2 golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.errors import GraphValidationError
from mcuforge.ir.validate import validate_graph
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden

# (input shape, paddings): the image-style NHWC pattern TFLite special-cases ({0,0},{a,b},{c,d},{0,0}),
# batch/channel padding, asymmetric and zero paddings, and 1-D to 5-D inputs.
PADDINGS = [
    ((1, 5, 6, 3), [[0, 0], [1, 1], [2, 1], [0, 0]]),
    ((2, 3, 4, 2), [[1, 0], [0, 2], [3, 0], [1, 2]]),
    ((1, 4, 4, 8), [[0, 0], [0, 0], [0, 0], [0, 0]]),
    ((7,), [[2, 3]]),
    ((3, 5), [[0, 1], [4, 0]]),
    ((2, 3, 5), [[1, 1], [0, 0], [2, 2]]),
    ((2, 1, 3, 2, 2), [[0, 1], [1, 0], [0, 0], [1, 1], [0, 2]]),
]


def _paddings(b: GraphBuilder, pads, dtype="int32") -> str:
    return b.const("paddings", np.array(pads), dtype)


@pytest.mark.parametrize("zero_point", [-128, 0, 17])
@pytest.mark.parametrize("shape,pads", PADDINGS)
def test_pad_int8(shape, pads, zero_point):
    b = GraphBuilder(seed=1)
    x = b.input("x", shape, scale=0.04, zero_point=zero_point)
    y = b.op("PAD", [x, _paddings(b, pads)], "y", scale=0.04, zero_point=zero_point)
    check_graph_golden(b.build(y), sanitize=len(shape) == 5 and zero_point == 17)


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("shape,pads", PADDINGS)
def test_pad_unquantized(shape, pads, dtype):
    b = GraphBuilder(seed=2)
    x = b.input("x", shape, dtype=dtype)
    y = b.op("PAD", [x, _paddings(b, pads)], "y", out_dtype=dtype)
    check_graph_golden(b.build(y), sanitize=len(shape) == 5)


@pytest.mark.parametrize("shape,pads", PADDINGS[:3])
def test_padv2_int8(shape, pads):
    b = GraphBuilder(seed=3)
    x = b.input("x", shape, scale=0.04, zero_point=-5)
    fill = b.const("fill", np.array([-128]), "int8", scale=0.04, zero_point=-5)
    y = b.op("PADV2", [x, _paddings(b, pads), fill], "y", scale=0.04, zero_point=-5)
    check_graph_golden(b.build(y))


@pytest.mark.parametrize("shape,pads", PADDINGS[:3])
def test_padv2_float32(shape, pads):
    b = GraphBuilder(seed=4)
    x = b.input("x", shape, dtype="float32")
    fill = b.const("fill", np.array([-3.5]), "float32")
    y = b.op("PADV2", [x, _paddings(b, pads), fill], "y", out_dtype="float32")
    check_graph_golden(b.build(y), sanitize=len(shape) == 4 and pads[1] == [0, 2])


def test_int64_paddings_litert():
    # TFLite Micro reads paddings as int32 only (pad_common.cc); LiteRT also takes int64.
    b = GraphBuilder(seed=5)
    x = b.input("x", (1, 3, 3, 2), scale=0.1, zero_point=4)
    y = b.op("PAD", [x, _paddings(b, [[0, 0], [1, 2], [2, 1], [0, 0]], "int64")], "y", scale=0.1, zero_point=4)
    graph = check_graph_golden(b.build(y), oracles=("litert",))
    assert graph.tensors["y"].shape == (1, 6, 6, 2)


def test_negative_padding_is_rejected():
    b = GraphBuilder()
    x = b.input("x", (2, 3), scale=0.1)
    with pytest.raises(GraphValidationError, match="non-negative"):
        b.op("PAD", [x, _paddings(b, [[0, 0], [-1, 0]])], "y", scale=0.1)


def test_int8_requantizing_pad_is_rejected():
    b = GraphBuilder()
    x = b.input("x", (2, 3), scale=0.1, zero_point=0)
    y = b.op("PAD", [x, _paddings(b, [[0, 0], [1, 0]])], "y", scale=0.1, zero_point=3)
    with pytest.raises(GraphValidationError, match="same scale and zero point"):
        validate_graph(b.build(y))
