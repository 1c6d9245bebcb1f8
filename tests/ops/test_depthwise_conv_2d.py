"""DEPTHWISE_CONV_2D golden tests against TFLite Micro and LiteRT."""

import pytest

from mcuforge.codegen.planner import plan_arena
from mcuforge.errors import GraphValidationError, UnsupportedOpError
from mcuforge.ops.registry import get_op
from tests.builders import GraphBuilder
from tests.codegen.plan_check import check_plan
from tests.golden import check_graph_golden

# (input NHWC, filter [1, KH, KW, C*M], attrs, input zero point, output zero point)
INT8_CASES = {
    "3x3_same_s1_relu": ((1, 9, 9, 8), (1, 3, 3, 8), dict(fused_activation_function="RELU"), -128, -128),
    "3x3_same_s2_relu6_odd": ((1, 11, 7, 5), (1, 3, 3, 5),
                              dict(stride_h=2, stride_w=2, fused_activation_function="RELU6"), 12, -5),
    "3x3_valid_s2_m2": ((1, 10, 11, 3), (1, 3, 3, 6), dict(padding="VALID", stride_h=2, stride_w=2,
                                                           depth_multiplier=2), -3, 9),
    "3x3_same_dilation2_m2": ((1, 12, 10, 4), (1, 3, 3, 8),
                              dict(dilation_h_factor=2, dilation_w_factor=2, depth_multiplier=2), 7, -20),
    "5x3_valid_mixed_stride_dilation": ((2, 13, 9, 6), (1, 5, 3, 6),
                                        dict(padding="VALID", stride_w=2, dilation_h_factor=2), -60, 0),
    "1ch_m3_same": ((1, 7, 8, 1), (1, 3, 3, 3), dict(depth_multiplier=3, fused_activation_function="RELU6"), 0, 4),
}


def _int8_depthwise(case, per_channel, bias=True, seed=0):
    x_shape, w_shape, attrs, x_zp, y_zp = INT8_CASES[case]
    b = GraphBuilder(seed=seed)
    x_scale = 0.03
    x = b.input("x", x_shape, scale=x_scale, zero_point=x_zp)
    w = b.int8_weights("w", w_shape, axis=3 if per_channel else None)
    inputs = [x, w]
    if bias:
        inputs.append(b.int32_bias("b", w_shape[3], x_scale * b.graph.tensors[w].quant.scale))
    y = b.op("DEPTHWISE_CONV_2D", inputs, "y", scale=0.06, zero_point=y_zp, **attrs)
    return b.build(y)


@pytest.mark.parametrize("per_channel", [True, False], ids=["per_channel", "per_tensor"])
@pytest.mark.parametrize("case", sorted(INT8_CASES))
def test_int8(case, per_channel):
    sanitize = per_channel and case in ("3x3_same_s2_relu6_odd", "1ch_m3_same")
    check_graph_golden(_int8_depthwise(case, per_channel), sanitize=sanitize)


def test_int8_no_bias():
    check_graph_golden(_int8_depthwise("3x3_same_s2_relu6_odd", per_channel=True, bias=False, seed=3))


@pytest.mark.parametrize("attrs", [dict(stride_h=2, stride_w=2, fused_activation_function="RELU6"),
                                   dict(padding="VALID", dilation_h_factor=2, dilation_w_factor=2)],
                         ids=["same_s2_relu6", "valid_dilation2"])
def test_float32_depth_multiplier_2(attrs):
    b = GraphBuilder(seed=6)
    x = b.input("x", (1, 9, 8, 3), dtype="float32")
    w = b.const("w", b.rng.uniform(-0.5, 0.5, (1, 3, 3, 6)), "float32")
    bias = b.const("b", b.rng.standard_normal(6), "float32")
    y = b.op("DEPTHWISE_CONV_2D", [x, w, bias], "y", out_dtype="float32", depth_multiplier=2, **attrs)
    check_graph_golden(b.build(y), sanitize=attrs.get("padding") == "VALID")


def test_macs_and_shape():
    graph = _int8_depthwise("3x3_valid_s2_m2", per_channel=True)
    assert graph.tensors["y"].shape == (1, 4, 5, 6)
    assert get_op("DEPTHWISE_CONV_2D").macs(graph.ops[0], graph) == 4 * 5 * 6 * 3 * 3


def test_depth_multiplier_must_match_shapes():
    b = GraphBuilder()
    x = b.input("x", (1, 5, 5, 4), scale=0.1)
    w = b.int8_weights("w", (1, 3, 3, 8), axis=3)
    with pytest.raises(GraphValidationError, match="depth_multiplier 1 disagrees"):
        b.op("DEPTHWISE_CONV_2D", [x, w, ""], "y", scale=0.1)


def test_per_channel_scales_on_wrong_axis_are_rejected():
    b = GraphBuilder()
    x = b.input("x", (1, 5, 5, 3), scale=0.1)
    w = b.int8_weights("w", (1, 3, 3, 3), axis=1)
    b.op("DEPTHWISE_CONV_2D", [x, w, ""], "y", scale=0.1)
    with pytest.raises(GraphValidationError, match="axis 3"):
        get_op("DEPTHWISE_CONV_2D").check(b.graph.ops[0], b.graph)


def test_hybrid_is_unsupported():
    b = GraphBuilder()
    x = b.input("x", (1, 5, 5, 3), dtype="float32")
    w = b.int8_weights("w", (1, 3, 3, 3), axis=None)
    b.op("DEPTHWISE_CONV_2D", [x, w, ""], "y", out_dtype="float32")
    with pytest.raises(UnsupportedOpError, match="hybrid"):
        get_op("DEPTHWISE_CONV_2D").check(b.graph.ops[0], b.graph)


def _chain_depthwise(b, x, name, kernel, multiplier=1, **attrs):
    x_t = b.graph.tensors[x]
    channels = x_t.shape[3] * multiplier
    w = b.int8_weights(f"{name}_w", (1, kernel, kernel, channels), axis=3)
    bias = b.int32_bias(f"{name}_b", channels, x_t.quant.scalar_scale * b.graph.tensors[w].quant.scale)
    return b.op("DEPTHWISE_CONV_2D", [x, w, bias], name, scale=0.05, zero_point=-4, depth_multiplier=multiplier,
                **attrs)


def chain_graph(prune=None):
    """(graph, each layer's output) of five depthwise layers; `prune(graph, weights name, k)` edits layer k's
    filter."""
    b = GraphBuilder(seed=13)
    t = b.input("x", (1, 13, 9, 10), scale=0.04, zero_point=-9)
    names = []
    for k, (kernel, multiplier, attrs) in enumerate([
            (3, 2, dict(fused_activation_function="RELU6")), (3, 1, dict(stride_h=2, stride_w=2)),
            (3, 1, dict(dilation_h_factor=2, dilation_w_factor=2)), (2, 1, dict(padding="VALID")),
            (3, 1, {})]):
        t = _chain_depthwise(b, t, f"d{k}", kernel, multiplier, **attrs)
        if prune is not None:
            prune(b.graph, f"d{k}_w", k)
        names.append(t)
    return b.build(t), names


def test_chain_output_overwrites_consumed_input_rows():
    """Depthwise layers write over the input rows they have consumed (row_window), as MobileNet's do; the C runs
    with those overlapping buffers and must still equal the reference. 20 channels: a full block and a tail."""
    graph, names = chain_graph()
    plan = plan_arena(graph)
    check_plan(graph, plan)
    overlapped = [(a, c) for a, c in zip(names, names[1:-1]) if plan.location(c)[1] < plan.location(a)[1]]
    assert overlapped, f"no depthwise output was placed over its input: {[plan.location(n) for n in names]}"
    check_graph_golden(graph)
