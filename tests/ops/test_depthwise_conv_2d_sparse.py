"""DEPTHWISE_CONV_2D with pruned (mostly zero) int8 filters: the generated C stores them sparse (quant/sparse.py,
kernels/depthwise_conv_2d_sparse_s8.c) and stays bit-exact with the reference, TFLite Micro and LiteRT."""

import pytest

from mcuforge.codegen.planner import plan_arena
from mcuforge.codegen.project import render_project
from mcuforge.quant import sparse
from mcuforge.quant.sparse import flash_saved, sparse_bytes, use_sparse
from tests.builders import GraphBuilder
from tests.codegen.plan_check import check_plan
from tests.golden import check_graph_golden
from tests.ops.test_conv_2d_sparse import weight_bytes, zero_out
from tests.ops.test_depthwise_conv_2d import INT8_CASES, _chain_depthwise

KERNEL = "depthwise_conv_2d_sparse_s8"


def sparse_depthwise(case: str, zeros: float, per_channel: bool = True, bias: bool = True, seed: int = 0):
    x_shape, w_shape, attrs, x_zp, y_zp = INT8_CASES[case]
    b = GraphBuilder(seed=seed)
    x = b.input("x", x_shape, scale=0.03, zero_point=x_zp)
    w = b.int8_weights("w", w_shape, axis=3 if per_channel else None)
    zero_out(b.graph, w, zeros, seed)
    inputs = [x, w] + ([b.int32_bias("b", w_shape[3], 0.03 * b.graph.tensors[w].quant.scale)] if bias else [])
    return b.build(b.op("DEPTHWISE_CONV_2D", inputs, "y", scale=0.06, zero_point=y_zp, **attrs))


def kernels_of(graph) -> set[str]:
    return render_project(graph, name="model")[2].kernels


@pytest.mark.parametrize("case", sorted(INT8_CASES))
def test_sparse_filters_bit_exact(case):
    graph = sparse_depthwise(case, 0.85, per_channel=case != "3x3_valid_s2_m2")
    assert use_sparse(graph.tensors["w"], axis=3)
    checked = check_graph_golden(graph, n=12, sanitize=case == "3x3_same_s2_relu6_odd")
    assert KERNEL in kernels_of(checked) and "depthwise_conv_2d_s8" not in kernels_of(checked)


def test_sparse_without_bias():
    check_graph_golden(sparse_depthwise("3x3_same_s2_relu6_odd", 0.85, bias=False, seed=3), n=12)


def test_flash_and_rule(monkeypatch):
    graph = sparse_depthwise("3x3_same_s1_relu", 0.9)
    w = graph.tensors["w"]
    saved = flash_saved(graph)["w"]
    assert saved == w.data.size - sparse_bytes(w.data, axis=3) > 0
    sparse_total = weight_bytes(graph)
    monkeypatch.setattr(sparse, "MAX_SPARSE_FRACTION", -1.0)
    assert "depthwise_conv_2d_s8" in kernels_of(graph) and weight_bytes(graph) - sparse_total == saved
    # A 3x3 filter costs 2 bitmap bytes a channel: half zeros is not enough to pay for them.
    monkeypatch.undo()
    assert not use_sparse(sparse_depthwise("3x3_same_s1_relu", 0.5).tensors["w"], axis=3)


def test_sparse_chain_overwrites_consumed_input_rows():
    """The row-streaming overlap (row_window) holds for the sparse kernel."""
    b = GraphBuilder(seed=13)
    t = b.input("x", (1, 13, 9, 10), scale=0.04, zero_point=-9)
    names = []
    for k, (kernel, multiplier, attrs) in enumerate([
            (3, 2, dict(fused_activation_function="RELU6")), (3, 1, dict(stride_h=2, stride_w=2)),
            (3, 1, dict(dilation_h_factor=2, dilation_w_factor=2)), (2, 1, dict(padding="VALID")),
            (3, 1, {})]):
        t = _chain_depthwise(b, t, f"d{k}", kernel, multiplier, **attrs)
        zero_out(b.graph, f"d{k}_w", 0.9, seed=k)
        names.append(t)
    graph = b.build(t)
    plan = plan_arena(graph)
    check_plan(graph, plan)
    overlapped = [(a, c) for a, c in zip(names, names[1:-1]) if plan.location(c)[1] < plan.location(a)[1]]
    assert overlapped, f"no depthwise output was placed over its input: {[plan.location(n) for n in names]}"
    assert len(flash_saved(graph)) == 5
    check_graph_golden(graph, n=12)
