"""TANH golden tests against TFLite Micro (fixed point) and LiteRT (lookup table)."""

import numpy as np
import pytest

from mcuforge.errors import GraphValidationError
from mcuforge.ir.validate import validate_graph
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden


def every_int8_value(graph, rng):
    """A shuffled copy of all 256 int8 values: element-wise ops are then tested exhaustively."""
    shape = graph.tensors[graph.inputs[0]].shape
    return [rng.permutation(np.arange(-128, 128)).astype(np.int8).reshape(shape)]


def tanh_graph(scale, zero_point, shape=(4, 64)):
    b = GraphBuilder(seed=1)
    x = b.input("x", shape, scale=scale, zero_point=zero_point)
    return b.build(b.op("TANH", [x], "y", scale=1 / 128, zero_point=0))


@pytest.mark.parametrize("scale", [0.01, 0.02, 0.0371, 0.05, 0.1, 0.1234, 0.2, 0.3, 0.5, 1.5])
@pytest.mark.parametrize("zero_point", [-128, -20, 0, 77, 127])
def test_int8_every_value(scale, zero_point):
    check_graph_golden(tanh_graph(scale, zero_point), n=3, input_fn=every_int8_value)


def test_int8_many_scales():
    rng = np.random.default_rng(5)
    for _ in range(60):
        scale = float(np.exp(rng.uniform(np.log(0.001), np.log(8))))
        check_graph_golden(tanh_graph(scale, int(rng.integers(-128, 128))), n=1, input_fn=every_int8_value)


def test_int8_table_needs_the_c_librarys_tanhf():
    # Here the correctly rounded tanh(1.0793791f) is exactly 101.5 / 128 while glibc's tanhf is one ulp
    # below: LiteRT's table maps x = -37 to 101 (and -81 to -101) where the correctly rounded tanh gives 102.
    check_graph_golden(tanh_graph(0.04906268294532582, -59), n=1, input_fn=every_int8_value)


def test_int8_random_inputs():
    check_graph_golden(tanh_graph(0.03, 12, shape=(2, 3, 5)), sanitize=True)


@pytest.mark.parametrize("scale", [8.0, 9.0])
def test_int8_large_scales_saturate_in_tflm(scale):
    # From input scale 8 TFLM's input radius is 0: every input saturates, x = 0 included (to -128), while
    # LiteRT's table gives tanh(0) = 0. Both are held, so each runtime's own algorithm is the one running.
    graph = check_graph_golden(tanh_graph(scale, 5), n=3, input_fn=every_int8_value)
    x = np.full((4, 64), 5, dtype=np.int8)
    assert (run_reference(graph, [x], compat="tflm")[0] == -128).all()
    assert (run_reference(graph, [x], compat="litert")[0] == 0).all()


def test_float32():
    b = GraphBuilder(seed=3)
    x = b.input("x", (2, 5, 10), dtype="float32")
    check_graph_golden(b.build(b.op("TANH", [x], "y", out_dtype="float32")), sanitize=True)


@pytest.mark.parametrize("scale,zero_point", [(1 / 256, 0), (1 / 128, -128)])
def test_rejects_other_output_quantization(scale, zero_point):
    b = GraphBuilder()
    x = b.input("x", (8,), scale=0.1, zero_point=0)
    graph = b.build(b.op("TANH", [x], "y", scale=scale, zero_point=zero_point))
    with pytest.raises(GraphValidationError, match="scale 1/128 and zero point 0"):
        validate_graph(graph)
