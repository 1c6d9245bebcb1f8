"""HARD_SWISH golden tests against TFLite Micro and LiteRT (the same int16 fixed-point kernel)."""

import numpy as np
import pytest

from mcuforge.errors import GraphValidationError
from mcuforge.ir.validate import validate_graph
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden


def every_int8_value(graph, rng):
    """A shuffled copy of all 256 int8 values: element-wise ops are then tested exhaustively."""
    shape = graph.tensors[graph.inputs[0]].shape
    return [rng.permutation(np.arange(-128, 128)).astype(np.int8).reshape(shape)]


def hard_swish_graph(scale, zero_point, out_scale, out_zero_point, shape=(4, 64)):
    b = GraphBuilder(seed=1)
    x = b.input("x", shape, scale=scale, zero_point=zero_point)
    return b.build(b.op("HARD_SWISH", [x], "y", scale=out_scale, zero_point=out_zero_point))


# Input scales from 0.001 (the relu-ish multiplier shifts right) to 0.5 (it shifts left and saturates);
# output scales around what a converter picks (range [-3/8 * in_max, in_max]) and beyond.
@pytest.mark.parametrize("scale", [0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5])
@pytest.mark.parametrize("out_ratio", [0.3, 0.6, 1.0, 2.5])
@pytest.mark.parametrize("zero_point,out_zero_point", [(0, -128), (-30, -95), (100, 17), (-128, 127)])
def test_int8_every_value(scale, out_ratio, zero_point, out_zero_point):
    graph = hard_swish_graph(scale, zero_point, scale * out_ratio, out_zero_point)
    check_graph_golden(graph, n=2, input_fn=every_int8_value)


def test_int8_output_exponent_zero():
    # input_scale / 128 / output_scale in [0.5, 1): no final right shift; most outputs saturate.
    check_graph_golden(hard_swish_graph(0.5, -128, 0.5 / 127.9, 127), n=3, input_fn=every_int8_value)


def test_int8_random_inputs():
    check_graph_golden(hard_swish_graph(0.04, -7, 0.03, -90, shape=(1, 8, 8, 3)), sanitize=True)


def test_float32():
    b = GraphBuilder(seed=3)
    x = b.input("x", (2, 5, 10), dtype="float32")

    def wide(graph, rng):  # both kinks (x = -3, x = 3) and beyond
        return [rng.uniform(-6, 6, size=(2, 5, 10)).astype(np.float32)]

    check_graph_golden(b.build(b.op("HARD_SWISH", [x], "y", out_dtype="float32")), input_fn=wide, sanitize=True)


def test_rejects_an_output_scale_below_input_scale_over_128():
    b = GraphBuilder()
    x = b.input("x", (8,), scale=0.5, zero_point=0)
    graph = b.build(b.op("HARD_SWISH", [x], "y", scale=0.5 / 200, zero_point=0))
    with pytest.raises(GraphValidationError, match="too small"):
        validate_graph(graph)
