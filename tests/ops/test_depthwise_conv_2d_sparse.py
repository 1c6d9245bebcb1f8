"""DEPTHWISE_CONV_2D with pruned (mostly zero) int8 filters: the generated C stores them sparse (quant/sparse.py,
kernels/depthwise_conv_2d_sparse_s8.c; decoded for the dense kernel's DSP variant where that would run:
kernels/depthwise_conv_2d_sparse_dense_s8.c) and stays bit-exact with the reference, TFLite Micro and LiteRT."""

import pytest

from mcuforge.ops import depthwise_conv_2d
from mcuforge.ops.depthwise_conv_2d_sparse import DENSE_KERNEL
from mcuforge.quant import sparse
from mcuforge.quant.sparse import flash_saved, sparse_bytes, use_sparse
from tests.golden import check_graph_golden
from tests.ops.test_conv_2d_sparse import (
    check_chain_overlaps,
    kernels_of,
    sparse_conv_graph,
    weight_bytes,
    zero_out,
)
from tests.ops.test_depthwise_conv_2d import INT8_CASES, chain_graph

KERNEL = "depthwise_conv_2d_sparse_s8"


def sparse_depthwise(case: str, zeros: float, per_channel: bool = True, bias: bool = True, seed: int = 0):
    return sparse_conv_graph("DEPTHWISE_CONV_2D", INT8_CASES, case, zeros, 3, 0.06, per_channel, bias, seed)


@pytest.mark.parametrize("case", sorted(INT8_CASES))
def test_sparse_filters_bit_exact(case):
    graph = sparse_depthwise(case, 0.85, per_channel=case != "3x3_valid_s2_m2")
    assert use_sparse(graph.tensors["w"], axis=3)
    checked = check_graph_golden(graph, n=12, sanitize=case == "3x3_same_s2_relu6_odd")
    # where the dense kernel would run its DSP variant, the filter is decoded for it (sparse storage, dense compute)
    dense = depthwise_conv_2d._dsp_requant(checked.ops[0], checked)[0] != 0
    assert KERNEL in kernels_of(checked) and ("depthwise_conv_2d_s8" in kernels_of(checked)) == dense
    assert (DENSE_KERNEL in kernels_of(checked)) == dense


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
    graph, names = chain_graph(lambda graph, w, k: zero_out(graph, w, 0.9, seed=k))
    assert len(flash_saved(graph)) == 5
    check_chain_overlaps(graph, names)
