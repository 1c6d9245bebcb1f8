"""CONV_2D golden tests against TFLite Micro and LiteRT."""

import numpy as np
import pytest

from mcuforge.codegen.planner import plan_arena
from mcuforge.errors import GraphValidationError, UnsupportedOpError
from mcuforge.ops.registry import get_op
from tests.builders import GraphBuilder
from tests.codegen.plan_check import check_plan
from tests.golden import check_graph_golden

# (input NHWC, filter OHWI, attrs, input zero point, output zero point)
INT8_CASES = {
    "3x3_same_s1_relu": ((1, 9, 9, 3), (8, 3, 3, 3), dict(fused_activation_function="RELU"), -128, -128),
    "3x3_same_s2_relu6_odd": ((1, 11, 7, 4), (6, 3, 3, 4),
                              dict(stride_h=2, stride_w=2, fused_activation_function="RELU6"), 12, -5),
    "3x3_valid_s2": ((1, 10, 11, 5), (7, 3, 3, 5), dict(padding="VALID", stride_h=2, stride_w=2), -3, 9),
    "1x1_pointwise_batch2": ((2, 6, 5, 16), (12, 1, 1, 16), {}, 0, 3),
    "3x3_same_dilation2": ((1, 12, 10, 3), (5, 3, 3, 3), dict(dilation_h_factor=2, dilation_w_factor=2), 7, -20),
    "5x3_valid_mixed_stride_dilation": ((1, 13, 9, 4), (4, 5, 3, 4),
                                        dict(padding="VALID", stride_w=2, dilation_h_factor=2), -60, 0),
    "4x4_same_s2_even_kernel": ((1, 8, 9, 2), (3, 4, 4, 2), dict(stride_h=2, stride_w=2), 30, -1),
}


def _int8_conv(case, per_channel, bias=True, seed=0):
    x_shape, w_shape, attrs, x_zp, y_zp = INT8_CASES[case]
    b = GraphBuilder(seed=seed)
    x_scale = 0.03
    x = b.input("x", x_shape, scale=x_scale, zero_point=x_zp)
    w = b.int8_weights("w", w_shape, axis=0 if per_channel else None)
    inputs = [x, w]
    if bias:
        inputs.append(b.int32_bias("b", w_shape[0], x_scale * b.graph.tensors[w].quant.scale))
    y = b.op("CONV_2D", inputs, "y", scale=0.25, zero_point=y_zp, **attrs)
    return b.build(y)


@pytest.mark.parametrize("per_channel", [True, False], ids=["per_channel", "per_tensor"])
@pytest.mark.parametrize("case", sorted(INT8_CASES))
def test_int8(case, per_channel):
    # One case per kernel path under ASan/UBSan: padded border + pixel pairs (SAME), and the 1x1 kernel.
    sanitize = per_channel and case in ("3x3_same_s2_relu6_odd", "1x1_pointwise_batch2")
    check_graph_golden(_int8_conv(case, per_channel), sanitize=sanitize)


def test_int8_no_bias():
    # LiteRT's CONV_2D Prepare insists on a bias (TF_LITE_ENSURE(context, has_bias)); TFLite Micro does not.
    check_graph_golden(_int8_conv("3x3_same_s2_relu6_odd", per_channel=True, bias=False, seed=4),
                      oracles=("tflm",))


def test_int8_grouped():
    b = GraphBuilder(seed=5)
    x = b.input("x", (1, 7, 7, 8), scale=0.05, zero_point=-10)
    w = b.int8_weights("w", (6, 3, 3, 4), axis=0)  # 8 input channels / 4 per filter = 2 groups of 3 filters
    bias = b.int32_bias("b", 6, 0.05 * b.graph.tensors[w].quant.scale)
    y = b.op("CONV_2D", [x, w, bias], "y", scale=0.3, zero_point=2)
    graph = check_graph_golden(b.build(y))
    assert graph.tensors["y"].shape == (1, 7, 7, 6)


@pytest.mark.parametrize("attrs", [dict(stride_h=2, stride_w=2, fused_activation_function="RELU"),
                                   dict(padding="VALID", dilation_h_factor=2, dilation_w_factor=2)],
                         ids=["same_s2_relu", "valid_dilation2"])
def test_float32(attrs):
    b = GraphBuilder(seed=6)
    x = b.input("x", (1, 9, 8, 3), dtype="float32")
    w = b.const("w", b.rng.uniform(-0.3, 0.3, (4, 3, 3, 3)), "float32")
    bias = b.const("b", b.rng.standard_normal(4), "float32")
    y = b.op("CONV_2D", [x, w, bias], "y", out_dtype="float32", **attrs)
    check_graph_golden(b.build(y))


@pytest.mark.parametrize("attrs", [dict(stride_h=2, stride_w=2, fused_activation_function="RELU"),
                                   dict(padding="VALID", dilation_h_factor=2, dilation_w_factor=2)],
                         ids=["same_s2_relu", "valid_dilation2"])
def test_hybrid_float_input_int8_filter(attrs):
    """Dynamic-range quantized conv (as in the MLPerf Tiny float KWS model). TFLite Micro refuses hybrid ops,
    so LiteRT is the only oracle; batch 2 checks the per-item input scale."""
    b = GraphBuilder(seed=7)
    x = b.input("x", (2, 9, 8, 3), dtype="float32")
    w = b.int8_weights("w", (5, 3, 3, 3), axis=None)
    bias = b.const("b", b.rng.standard_normal(5), "float32")
    y = b.op("CONV_2D", [x, w, bias], "y", out_dtype="float32", **attrs)
    check_graph_golden(b.build(y), oracles=("litert",), sanitize=attrs.get("padding") == "VALID")


def test_hybrid_with_distinct_channel_scales_is_unsupported():
    b = GraphBuilder()
    x = b.input("x", (1, 5, 5, 2), dtype="float32")
    w = b.int8_weights("w", (3, 3, 3, 2), axis=0)
    b.op("CONV_2D", [x, w, ""], "y", out_dtype="float32")
    with pytest.raises(UnsupportedOpError, match="per-channel"):
        get_op("CONV_2D").check(b.graph.ops[0], b.graph)


def test_macs_and_shape():
    graph = _int8_conv("3x3_same_s2_relu6_odd", per_channel=True)
    op = graph.ops[0]
    assert graph.tensors["y"].shape == (1, 6, 4, 6)
    assert get_op("CONV_2D").macs(op, graph) == 6 * 4 * 6 * 3 * 3 * 4


def test_filter_larger_than_input_is_rejected():
    b = GraphBuilder()
    x = b.input("x", (1, 4, 4, 2), scale=0.1)
    w = b.int8_weights("w", (3, 3, 3, 2))
    with pytest.raises(GraphValidationError, match="does not fit"):
        b.op("CONV_2D", [x, w, ""], "y", scale=0.1, padding="VALID", dilation_h_factor=2, dilation_w_factor=2)


def test_asymmetric_filter_is_rejected():
    b = GraphBuilder()
    x = b.input("x", (1, 4, 4, 2), scale=0.1)
    w = b.const("w", np.ones((3, 1, 1, 2)), "int8", scale=0.1, zero_point=1)
    b.op("CONV_2D", [x, w, ""], "y", scale=0.1)
    with pytest.raises(GraphValidationError, match="symmetric"):
        get_op("CONV_2D").check(b.graph.ops[0], b.graph)


def _chain_conv(b, x, name, out_c, kernel, zero_point=-5, **attrs):
    """An int8 conv on `x` with per-channel weights and a bias at x's scale."""
    x_t = b.graph.tensors[x]
    w = b.int8_weights(f"{name}_w", (out_c, kernel, kernel, x_t.shape[3]), axis=0)
    bias = b.int32_bias(f"{name}_b", out_c, x_t.quant.scalar_scale * b.graph.tensors[w].quant.scale)
    return b.op("CONV_2D", [x, w, bias], name, scale=0.05, zero_point=zero_point, **attrs)


# Chains (input shape, [(out_c, kernel, attrs)]): every conv but the last writes the arena.
CHAINS = {
    "3x3_s1_s2_1x1": ((1, 12, 10, 8), [(8, 3, {}), (8, 3, dict(fused_activation_function="RELU")),
                                      (12, 3, dict(stride_h=2, stride_w=2)), (4, 1, {})]),
    "pointwise_contracting_narrow": ((1, 9, 1, 16), [(16, 1, {}), (4, 1, {}), (6, 3, {}), (3, 1, {})]),
    "expanding_dilated_valid": ((1, 14, 11, 4), [(8, 3, dict(stride_h=2)), (16, 1, {}),
                                                 (8, 3, dict(dilation_h_factor=2, dilation_w_factor=2)),
                                                 (6, 2, dict(padding="VALID", stride_h=2, stride_w=2)), (5, 1, {})]),
}


def chain_graph(case: str, prune=None):
    """(graph, each conv's output) of CHAINS[case]; `prune(graph, weights name, k)` edits layer k's filter."""
    x_shape, layers = CHAINS[case]
    b = GraphBuilder(seed=11)
    t = b.input("x", x_shape, scale=0.04, zero_point=-7)
    names = []
    for k, (out_c, kernel, attrs) in enumerate(layers):
        t = _chain_conv(b, t, f"c{k}", out_c, kernel, **attrs)
        if prune is not None:
            prune(b.graph, f"c{k}_w", k)
        names.append(t)
    return b.build(t), names


@pytest.mark.parametrize("case", sorted(CHAINS))
def test_chain_output_overwrites_consumed_input_rows(case):
    """The planner places a conv's output over the input rows it has consumed (row_window); the generated C runs
    with those overlapping buffers and must still equal the reference."""
    graph, names = chain_graph(case)
    plan = plan_arena(graph)
    check_plan(graph, plan)
    overlapped = [(a, c) for a, c in zip(names, names[1:-1]) if plan.location(c)[1] < plan.location(a)[1]]
    assert overlapped, f"no conv output was placed over its input: {[plan.location(n) for n in names]}"
    check_graph_golden(graph, sanitize=case == "3x3_s1_s2_1x1")


def test_residual_block_overlaps_and_runs():
    """ResNet-8's block: conv -> conv -> conv, ADD of the first and third, then a strided conv and a 1x1."""
    b = GraphBuilder(seed=12)
    x = b.input("x", (1, 10, 10, 3), scale=0.04, zero_point=-128)
    c0 = _chain_conv(b, x, "c0", 8, 3, zero_point=-128, fused_activation_function="RELU")
    c1 = _chain_conv(b, c0, "c1", 8, 3, zero_point=-128, fused_activation_function="RELU")
    c2 = _chain_conv(b, c1, "c2", 8, 3, zero_point=3)
    add = b.op("ADD", [c0, c2], "add", scale=0.08, zero_point=-128, fused_activation_function="RELU")
    c3 = _chain_conv(b, add, "c3", 16, 3, stride_h=2, stride_w=2)
    y = _chain_conv(b, c3, "y", 10, 1)
    graph = b.build(y)
    plan = plan_arena(graph)
    check_plan(graph, plan)
    assert plan.location(c2)[1] < plan.location(c1)[1]
    assert plan.location(c3)[1] < plan.location(add)[1]
    check_graph_golden(graph)
