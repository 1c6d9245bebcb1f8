"""CONV_2D with pruned (mostly zero) int8 filters: the generated C stores them sparse (quant/sparse.py,
kernels/conv_2d_sparse_s8.c) and stays bit-exact with the reference interpreter, TFLite Micro and LiteRT."""

import subprocess

import numpy as np
import pytest

from mcuforge.codegen.host import build_host
from mcuforge.codegen.planner import plan_arena
from mcuforge.codegen.project import compile_model, render_project
from mcuforge.ops.conv_2d_sparse import dense_compute
from mcuforge.quant import sparse
from mcuforge.quant.sparse import flash_saved, sparse_bytes, use_sparse
from mcuforge.runtime.reference import run_reference
from tests.builders import GraphBuilder
from tests.codegen.plan_check import check_plan
from tests.golden import check_graph_golden
from tests.ops.test_conv_2d import CHAINS, INT8_CASES, chain_graph

KERNEL = "conv_2d_sparse_s8"


def zero_out(graph, name: str, fraction: float, seed: int = 0) -> None:
    """Set a seeded random `fraction` of a weights tensor to zero, as unstructured pruning does."""
    data = graph.tensors[name].data
    data[np.random.default_rng(seed).random(data.shape) < fraction] = 0


def sparse_conv_graph(op_type: str, cases: dict, case: str, zeros: float, channel_axis: int, y_scale: float,
                      per_channel: bool = True, bias: bool = True, seed: int = 0):
    """One `op_type` (CONV_2D or DEPTHWISE_CONV_2D) layer of `cases[case]` whose filter (output channels along
    `channel_axis`) has a seeded `zeros` fraction pruned."""
    x_shape, w_shape, attrs, x_zp, y_zp = cases[case]
    b = GraphBuilder(seed=seed)
    x = b.input("x", x_shape, scale=0.03, zero_point=x_zp)
    w = b.int8_weights("w", w_shape, axis=channel_axis if per_channel else None)
    zero_out(b.graph, w, zeros, seed)
    out_c = w_shape[channel_axis]
    inputs = [x, w] + ([b.int32_bias("b", out_c, 0.03 * b.graph.tensors[w].quant.scale)] if bias else [])
    return b.build(b.op(op_type, inputs, "y", scale=y_scale, zero_point=y_zp, **attrs))


def sparse_conv(case: str, zeros: float, per_channel: bool = True, bias: bool = True, seed: int = 0):
    return sparse_conv_graph("CONV_2D", INT8_CASES, case, zeros, 0, 0.25, per_channel, bias, seed)


def kernels_of(graph) -> set[str]:
    return render_project(graph, name="model")[2].kernels


def check_chain_overlaps(graph, names: list[str]) -> None:
    """The planner placed some layer's output over its input rows (row_window), filters are stored sparse, and the
    generated C still equals the reference."""
    plan = plan_arena(graph)
    check_plan(graph, plan)
    overlapped = [(a, c) for a, c in zip(names, names[1:-1]) if plan.location(c)[1] < plan.location(a)[1]]
    assert overlapped, f"no layer's output was placed over its input: {[plan.location(n) for n in names]}"
    assert sparse.flash_saved(graph)
    check_graph_golden(graph, n=12)


def weight_bytes(graph) -> int:
    _, _, sources = render_project(graph, name="model")
    return sum(a.values.nbytes for a in sources.context.arrays if a.is_weight)


@pytest.mark.parametrize("case", sorted(INT8_CASES))
def test_sparse_filters_bit_exact(case):
    # ASan/UBSan once on a padded, strided window (border pixels skip taps) and once on a 1x1 filter.
    graph = sparse_conv(case, 0.8, per_channel=case != "3x3_valid_s2")
    assert use_sparse(graph.tensors["w"])
    checked = check_graph_golden(graph, n=12, sanitize=case in ("3x3_same_s2_relu6_odd", "1x1_pointwise_batch2"))
    # a pointwise filter of more than SKIP_KERNEL_MAX_NONZERO_FRACTION nonzeros: the _dense entry point runs the
    # dense kernel
    dense = dense_compute(graph.ops[0], graph)
    assert KERNEL in kernels_of(checked) and ("conv_2d_s8" in kernels_of(checked)) == dense


def test_sparse_without_bias_reads_no_bias():
    # LiteRT's CONV_2D insists on a bias; TFLite Micro does not.
    check_graph_golden(sparse_conv("3x3_same_s2_relu6_odd", 0.75, bias=False, seed=4), n=12, oracles=("tflm",))


def test_sparse_grouped():
    b = GraphBuilder(seed=5)
    x = b.input("x", (1, 7, 7, 16), scale=0.05, zero_point=-10)
    w = b.int8_weights("w", (6, 3, 3, 8), axis=0)  # 2 groups of 3 filters, 8 channels each
    zero_out(b.graph, w, 0.75)
    bias = b.int32_bias("b", 6, 0.05 * b.graph.tensors[w].quant.scale)
    graph = b.build(b.op("CONV_2D", [x, w, bias], "y", scale=0.3, zero_point=2))
    assert KERNEL in kernels_of(check_graph_golden(graph, n=12))


def test_all_zero_filters():
    graph = sparse_conv("3x3_same_s1_relu", 0.6)
    graph.tensors["w"].data[:3] = 0  # three output channels are bias only
    check_graph_golden(graph, n=8)
    graph = sparse_conv("3x3_same_s1_relu", 1.0)
    assert KERNEL in kernels_of(check_graph_golden(graph, n=4))


@pytest.mark.parametrize("zeros", [0.5, 0.75, 0.9])
def test_flash_drops_with_sparsity(zeros, monkeypatch):
    graph = sparse_conv("1x1_pointwise_batch2", zeros)  # 16 channels: whole bitmap bytes
    w = graph.tensors["w"]
    sparse_total = weight_bytes(graph)
    saved = flash_saved(graph)["w"]
    assert saved == w.data.size - sparse_bytes(w.data) > 0
    monkeypatch.setattr(sparse, "MAX_SPARSE_FRACTION", -1.0)  # force the dense filter
    assert "conv_2d_s8" in kernels_of(graph) and flash_saved(graph) == {}
    assert weight_bytes(graph) - sparse_total == saved


def test_dense_filters_stay_dense():
    graph = sparse_conv("3x3_same_s1_relu", 0.1)
    assert not use_sparse(graph.tensors["w"]) and flash_saved(graph) == {}
    assert "conv_2d_s8" in kernels_of(graph) and KERNEL not in kernels_of(graph)


@pytest.mark.parametrize("case", sorted(CHAINS))
def test_sparse_chain_overwrites_consumed_input_rows(case):
    """The planner's row-streaming overlap (row_window) holds for the sparse kernel: its output placed over the
    input rows it has consumed still equals the reference."""
    check_chain_overlaps(*chain_graph(case, lambda graph, w, k: zero_out(graph, w, 0.85, seed=k)))


def test_sparse_weights_from_a_weights_blob(tmp_path):
    """--weights-blob: the bitmap and the nonzeros live in the blob (not in the library) and still run bit-exact."""
    graph = sparse_conv("3x3_same_s2_relu6_odd", 0.8)
    compiled = compile_model(graph, tmp_path / "model", name="model", weights_blob=True)
    source = (compiled.outdir / "model.c").read_text()
    assert "mcuforge_conv_sparse_s8" in source and "sparse: nonzero bitmap" not in source
    exe = build_host(compiled.outdir, "model")
    x = np.random.default_rng(0).integers(-128, 128, graph.tensors["x"].shape).astype(np.int8)
    x.tofile(compiled.outdir / "in.bin")
    result = subprocess.run([str(exe), "in.bin", "out.bin"], cwd=compiled.outdir, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    expected = run_reference(graph, [x])[0]
    got = np.fromfile(compiled.outdir / "out.bin", np.int8).reshape(expected.shape)
    np.testing.assert_array_equal(got, expected)
