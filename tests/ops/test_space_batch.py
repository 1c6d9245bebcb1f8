"""SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.errors import GraphValidationError
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder
from tests.golden import check_graph_golden
from tests.oracles import random_inputs


def _graph(op_type, x_shape, block, edges, dtype="int8", zero_point=0, seed=0):
    b = GraphBuilder(seed=seed)
    quant = dict(scale=0.1, zero_point=zero_point) if dtype == "int8" else {}
    x = b.input("x", x_shape, dtype=dtype, **quant)
    block_t = b.const("block_shape", block, "int32")
    edges_t = b.const("paddings" if op_type == "SPACE_TO_BATCH_ND" else "crops", edges, "int32")
    y = b.op(op_type, [x, block_t, edges_t], "y", out_dtype=dtype, **quant)
    return b.build(y)


# (input shape, block_shape, paddings, expected output shape)
SPACE_TO_BATCH = {
    "4d_no_padding": ((1, 4, 6, 3), [2, 2], [[0, 0], [0, 0]], (4, 2, 3, 3)),
    "4d_padded_uneven_blocks": ((2, 5, 4, 2), [2, 3], [[1, 0], [0, 2]], (12, 3, 2, 2)),
    "3d_nhc": ((1, 7, 4), [3], [[1, 1]], (3, 3, 4)),
}

BATCH_TO_SPACE = {
    "4d_no_crops": ((4, 2, 3, 3), [2, 2], [[0, 0], [0, 0]], (1, 4, 6, 3)),
    "4d_cropped_uneven_blocks": ((12, 3, 2, 2), [2, 3], [[1, 0], [0, 2]], (2, 5, 4, 2)),
    "3d_nhc": ((3, 3, 4), [3], [[1, 1]], (1, 7, 4)),
}


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("case", sorted(SPACE_TO_BATCH))
def test_space_to_batch(case, dtype):
    x_shape, block, paddings, expected = SPACE_TO_BATCH[case]
    # TFLite Micro pads with its never-initialized output_offset (see mcuforge/ops/space_batch.py): whatever the
    # heap held, 0 or not, for int8 and float alike. It is an oracle only where nothing is padded.
    oracles = ("tflm", "litert") if not np.any(paddings) else ("litert",)
    graph = check_graph_golden(_graph("SPACE_TO_BATCH_ND", x_shape, block, paddings, dtype, zero_point=5),
                               oracles=oracles)
    assert graph.tensors["y"].shape == expected


def test_space_to_batch_pads_with_zero_point():
    """LiteRT pads an int8 tensor with its zero point (a real 0.0)."""
    graph = check_graph_golden(_graph("SPACE_TO_BATCH_ND", (1, 5, 5, 2), [2, 2], [[1, 0], [2, 1]], zero_point=-7),
                               oracles=("litert",), sanitize=True)
    out = run_reference(graph, [np.full((1, 5, 5, 2), 100, np.int8)])[0]
    assert set(np.unique(out)) == {-7, 100}


def test_space_to_batch_zero_point_without_padding():
    check_graph_golden(_graph("SPACE_TO_BATCH_ND", (1, 4, 6, 3), [2, 3], [[0, 0], [0, 0]], zero_point=25))


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("case", sorted(BATCH_TO_SPACE))
def test_batch_to_space(case, dtype):
    x_shape, block, crops, expected = BATCH_TO_SPACE[case]
    graph = check_graph_golden(_graph("BATCH_TO_SPACE_ND", x_shape, block, crops, dtype, zero_point=-9),
                               sanitize=case == "4d_cropped_uneven_blocks" and dtype == "int8")
    assert graph.tensors["y"].shape == expected


@pytest.mark.parametrize("case", sorted(SPACE_TO_BATCH))
def test_round_trip_is_identity(case):
    """BATCH_TO_SPACE_ND with crops = paddings undoes SPACE_TO_BATCH_ND."""
    x_shape, block, paddings, _ = SPACE_TO_BATCH[case]
    b = GraphBuilder(seed=1)
    x = b.input("x", x_shape, scale=0.1, zero_point=3)
    s = b.op("SPACE_TO_BATCH_ND", [x, b.const("block", block, "int32"), b.const("pad", paddings, "int32")],
             "s", scale=0.1, zero_point=3)
    y = b.op("BATCH_TO_SPACE_ND", [s, "block", b.const("crops", paddings, "int32")], "y", scale=0.1, zero_point=3)
    graph = b.build(y)
    value = random_inputs(graph, np.random.default_rng(0))
    np.testing.assert_array_equal(run_reference(graph, value)[0], value[0])


def test_dilated_conv_rewrite_equals_dilated_conv():
    """The converter's pattern SPACE_TO_BATCH_ND -> CONV_2D (VALID) -> BATCH_TO_SPACE_ND computes the same
    int8 values as CONV_2D with dilation 2 and SAME padding, when padding uses the zero point."""
    b = GraphBuilder(seed=2)
    x = b.input("x", (1, 8, 8, 3), scale=0.05, zero_point=-20)
    w = b.int8_weights("w", (4, 3, 3, 3), axis=0)
    bias = b.int32_bias("bias", 4, 0.05 * b.graph.tensors[w].quant.scale)
    direct = b.op("CONV_2D", [x, w, bias], "direct", scale=0.2, zero_point=6,
                  dilation_h_factor=2, dilation_w_factor=2, fused_activation_function="RELU")
    block = b.const("block", [2, 2], "int32")
    s = b.op("SPACE_TO_BATCH_ND", [x, block, b.const("pad", [[2, 2], [2, 2]], "int32")], "s",
             scale=0.05, zero_point=-20)
    c = b.op("CONV_2D", [s, w, bias], "c", scale=0.2, zero_point=6, padding="VALID",
             fused_activation_function="RELU")
    y = b.op("BATCH_TO_SPACE_ND", [c, block, b.const("crops", [[0, 0], [0, 0]], "int32")], "y",
             scale=0.2, zero_point=6)
    graph = b.build(direct, y)
    ours_direct, ours_rewritten = run_reference(graph, random_inputs(graph, np.random.default_rng(3)))
    np.testing.assert_array_equal(ours_direct, ours_rewritten)
    # LiteRT runs the whole pattern (TFLite Micro's padding value is undefined, see above).
    check_graph_golden(graph, oracles=("litert",))


def test_paddings_not_multiple_of_block_are_rejected():
    with pytest.raises(GraphValidationError, match="not a multiple of block"):
        _graph("SPACE_TO_BATCH_ND", (1, 5, 4, 2), [2, 2], [[0, 0], [0, 0]])
