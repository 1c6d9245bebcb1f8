"""SOFTMAX golden tests against TFLite Micro and LiteRT (the same fixed-point kernel, two roundings)."""

import numpy as np
import pytest

from mcuforge.errors import GraphValidationError, InputError
from mcuforge.ir.validate import validate_graph
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden


def softmax_graph(shape, scale, zero_point, beta=1.0):
    b = GraphBuilder(seed=1)
    x = b.input("x", shape, scale=scale, zero_point=zero_point)
    return b.build(b.op("SOFTMAX", [x], "y", scale=1 / 256, zero_point=-128, beta=beta))


def near_the_row_max(graph, rng):
    """Values in a narrow band, so most differences from the row max are small and the exps,
    their sum and its reciprocal are all exercised (uniform int8 mostly hits diff_min instead)."""
    shape = graph.tensors[graph.inputs[0]].shape
    center, width = rng.integers(-128, 128), rng.integers(1, 40)
    return [np.clip(center + rng.integers(-width, width + 1, size=shape), -128, 127).astype(np.int8)]


@pytest.mark.parametrize("shape,scale,zero_point,beta", [
    ((1, 12), 0.1, -5, 1.0),
    ((2, 5, 10), 0.05, 20, 1.0),
    ((1, 12), 0.5, -128, 1.0),
    ((4, 100), 0.02, 0, 0.3),
    ((2, 3, 16), 0.2, 100, 2.5),
    ((3, 1), 0.1, 0, 1.0),            # one-element rows: always 127
    ((1, 10), 1.0, 3, 20.0),          # beta * scale * 2^26 above 2^30: the single-rounding cap applies
    ((1, 2, 3, 7), 0.004, -60, 1.0),  # small scale: every difference within diff_min
])
@pytest.mark.parametrize("input_fn", [None, near_the_row_max], ids=["uniform", "near_max"])
def test_int8(shape, scale, zero_point, beta, input_fn):
    sanitize = shape == (2, 3, 16) and input_fn is not None  # the C kernel under ASan/UBSan once
    check_graph_golden(softmax_graph(shape, scale, zero_point, beta), input_fn=input_fn, sanitize=sanitize)


def test_int8_many_scales_and_betas():
    rng = np.random.default_rng(7)
    for k in range(40):
        scale = float(np.exp(rng.uniform(np.log(0.001), np.log(4))))
        beta = 1.0 if k % 3 == 0 else float(np.exp(rng.uniform(np.log(0.05), np.log(20))))
        graph = softmax_graph((2, 24), scale, int(rng.integers(-128, 128)), beta)
        check_graph_golden(graph, n=10, seed=k, input_fn=near_the_row_max if k % 2 else None)


def test_int8_long_rows():
    # 511 values at the row max sum to just under 512, the most the Q12.19 sum of exps takes.
    graph = check_graph_golden(softmax_graph((2, 511), 0.05, 0), n=10, input_fn=near_the_row_max)
    out = run_reference(graph, [np.zeros((2, 511), np.int8)])[0]
    assert (out == -127).all()  # 256 / 511 = 0.501 rounds up to 1


def test_int8_rows_summing_past_512_raise():
    # TFLite's kernel aborts on such a row (TFLITE_CHECK on the output shift), so the oracles cannot run it.
    graph = softmax_graph((1, 600), 0.05, 0)
    with pytest.raises(InputError, match="512 or more"):
        run_reference(graph, [np.zeros((1, 600), np.int8)])


@pytest.mark.parametrize("beta", [1.0, 0.3, 4.0])
def test_float32(beta):
    b = GraphBuilder(seed=3)
    x = b.input("x", (2, 5, 10), dtype="float32")
    check_graph_golden(b.build(b.op("SOFTMAX", [x], "y", out_dtype="float32", beta=beta)), sanitize=beta == 1.0)


@pytest.mark.parametrize("scale,zero_point", [(1 / 256, 0), (1 / 255, -128), (1 / 128, -128)])
def test_rejects_other_output_quantization(scale, zero_point):
    b = GraphBuilder()
    x = b.input("x", (1, 8), scale=0.1, zero_point=0)
    graph = b.build(b.op("SOFTMAX", [x], "y", scale=scale, zero_point=zero_point))
    with pytest.raises(GraphValidationError, match="scale 1/256 and zero point -128"):
        validate_graph(graph)


def test_rejects_a_vanishing_beta_times_scale():
    # PreprocessSoftmaxScaling needs beta * scale * 2^26 > 1 (TFLite CHECK-fails, aborting, otherwise).
    with pytest.raises(GraphValidationError, match="too small"):
        validate_graph(softmax_graph((1, 8), 1e-4, 0, beta=1e-4))
