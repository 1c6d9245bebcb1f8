"""LOGISTIC golden tests against TFLite Micro (fixed point) and LiteRT (lookup table)."""

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


def logistic_graph(scale, zero_point, shape=(4, 64)):
    b = GraphBuilder(seed=1)
    x = b.input("x", shape, scale=scale, zero_point=zero_point)
    return b.build(b.op("LOGISTIC", [x], "y", scale=1 / 256, zero_point=-128))


@pytest.mark.parametrize("scale", [0.01, 0.02, 0.0371, 0.05, 0.1, 0.1234, 0.2, 0.3, 0.5])
@pytest.mark.parametrize("zero_point", [-128, -20, 0, 77, 127])
def test_int8_every_value(scale, zero_point):
    check_graph_golden(logistic_graph(scale, zero_point), n=3, input_fn=every_int8_value)


def test_int8_many_scales():
    rng = np.random.default_rng(5)
    for _ in range(60):
        scale = float(np.exp(rng.uniform(np.log(0.001), np.log(16))))
        check_graph_golden(logistic_graph(scale, int(rng.integers(-128, 128))), n=1, input_fn=every_int8_value)


def test_int8_random_inputs():
    check_graph_golden(logistic_graph(0.08, -10, shape=(2, 3, 5)), sanitize=True)


def test_int8_where_the_runtimes_differ():
    # A near-tie of the output rounding: TFLM's fixed point gives 37, LiteRT's float table 38 (input -17).
    # The golden test holds both, so each runtime's own algorithm is really the one running.
    graph = check_graph_golden(logistic_graph(0.006036212667822838, -117), n=3, input_fn=every_int8_value)
    x = np.arange(-128, 128, dtype=np.int8).reshape(4, 64)
    tflm = run_reference(graph, [x], compat="tflm")[0].reshape(-1)
    litert = run_reference(graph, [x], compat="litert")[0].reshape(-1)
    assert list(np.flatnonzero(tflm != litert)) == [-17 + 128] and (tflm[111], litert[111]) == (37, 38)


@pytest.mark.parametrize("scale", [2.0, 5.0, 9.0])
def test_int8_large_scales_saturate_in_tflm(scale):
    # TFLM saturates beyond its input radius (e.g. x = -6 gives -128, the table's round(0.63) gives -127);
    # from scale 8 the radius is 0 and even x = 0 saturates to -128.
    check_graph_golden(logistic_graph(scale, 3), n=3, input_fn=every_int8_value)


def test_float32():
    b = GraphBuilder(seed=3)
    x = b.input("x", (2, 5, 10), dtype="float32")
    check_graph_golden(b.build(b.op("LOGISTIC", [x], "y", out_dtype="float32")), sanitize=True)


def test_float32_beyond_the_cutoffs():
    def wide(graph, rng):  # exp(x) below -9, exactly 1 above 16.6
        return [rng.uniform(-30, 30, size=graph.tensors["x"].shape).astype(np.float32)]

    b = GraphBuilder(seed=4)
    x = b.input("x", (4, 50), dtype="float32")
    check_graph_golden(b.build(b.op("LOGISTIC", [x], "y", out_dtype="float32")), n=5, input_fn=wide)


@pytest.mark.parametrize("scale,zero_point", [(1 / 128, -128), (1 / 256, 0)])
def test_rejects_other_output_quantization(scale, zero_point):
    b = GraphBuilder()
    x = b.input("x", (8,), scale=0.1, zero_point=0)
    graph = b.build(b.op("LOGISTIC", [x], "y", scale=scale, zero_point=zero_point))
    with pytest.raises(GraphValidationError, match="scale 1/256 and zero point -128"):
        validate_graph(graph)
