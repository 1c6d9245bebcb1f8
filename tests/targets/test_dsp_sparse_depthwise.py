"""Sparse storage, dense compute for DEPTHWISE_CONV_2D (kernels/depthwise_conv_2d_sparse_dense_s8.c): a pruned
3x3 filter stored bitmap-sparse whose dense kernel would run its DSP variant is decoded into scratch in the dense
[KH, KW, C] layout and run by the dense entry point the dense emitter would choose (ops/depthwise_conv_2d.py,
graph-wide choice included): its DSP variant, or its portable code on cores without the DSP extension.

Layers built for the dense kernel's paths, their filters about 80% zeros: rows of 5 (the row-of-five entry), of
6k (blocks only), and of other lengths (pairs, triples, a row of one) at strides 1 and 2, 4, 5, 6, 7 and 11
channels, all-zero channels at the ends of the fast stage's shift range (TFLite shifts -1 and -22, biases -1, -2,
0), a narrow clamp (the general entry), shifts outside the fast range (the wide entry), a depth multiplier of 2
(no DSP variant: the sparse kernel), two images, and a chain of two (the row window). Each must equal the
reference interpreter on QEMU (the assembly on the Cortex-M4 and M7, the portable build, the DSP variant's C
loops) and, in plain C (MCUFORGE_DSP_EMULATE), under ASan/UBSan on the host."""

import subprocess

import numpy as np
import pytest

from mcuforge.codegen.project import compile_model, render_project
from mcuforge.ops import depthwise_conv_2d
from mcuforge.ops.depthwise_conv_2d import (BOTH_STRIDES_ENTRY, BOTH_STRIDES_NO_PAIRS_ENTRY, LONG_ENTRIES,
                                            ROW_BLOCK_ENTRIES)
from mcuforge.ops.registry import get_op
from mcuforge.quant.sparse import use_sparse
from tests.builders import GraphBuilder
from tests.targets.conftest import (DSP_BUILDS, assert_builds_match_reference, assert_emulated_matches_reference,
                                    build_dsp_variants, random_batch)
from tests.targets.test_dsp_depthwise import SHIFT_1, SHIFT_22

RECORDS = 3
SPARSE = "mcuforge_depthwise_conv_sparse_s8"
DENSE = "mcuforge_depthwise_conv_sparse_s8_dense"


def _sparse_depthwise(b, x, name, zeros=0.8, dead=(), w_scales=None, bias=None, scale=None, zero_point=-3,
                      multiplier=1, **attrs):
    """A 3x3 DEPTHWISE_CONV_2D whose filter has a seeded `zeros` fraction pruned and the `dead` channels all
    zero."""
    channels = b.graph.tensors[x].shape[3] * multiplier
    data = b.rng.integers(-127, 128, size=(1, 3, 3, channels))
    data[b.rng.random(data.shape) < zeros] = 0
    data[..., list(dead)] = 0
    scales = b.rng.uniform(0.002, 0.02, channels) if w_scales is None else np.asarray(w_scales)
    w = b.const(f"{name}_w", data, "int8", scales.astype(np.float32), np.zeros(channels, np.int64), 3)
    x_scale = b.graph.tensors[x].quant.scale[0]
    bias_t = b.const(f"{name}_b", b.rng.integers(-2000, 2000, size=channels) if bias is None else bias, "int32",
                     (x_scale * scales).astype(np.float32), np.zeros(channels, np.int64))
    if scale is None:
        scale = 1.0 if w_scales is not None else 0.1
    return b.op("DEPTHWISE_CONV_2D", [x, w, bias_t], name, scale=scale,
                zero_point=zero_point, depth_multiplier=multiplier, **attrs)


def _edge(b, channels):
    """Scales and biases of channels 0-5 at TFLite shifts -1 and -22, the first four all zero (dead) with biases
    -1, -1, -2, 0: the values where the fast stage's sign correction matters."""
    scales = b.rng.uniform(0.002, 0.02, channels)
    scales[:6] = [SHIFT_1, SHIFT_22, SHIFT_1, SHIFT_22, SHIFT_1, SHIFT_22]
    bias = b.rng.integers(-2000, 2000, size=channels)
    bias[:6] = [-1, -1, -2, 0, 700, -5000]
    return {"dead": (0, 1, 2, 3), "w_scales": scales, "bias": bias}


def sparse_layers():
    """Independent sparse layers side by side (one build, one boot per core), of both strides."""
    b = GraphBuilder(seed=61)
    outs = []
    xa = b.input("xa", (1, 4, 7, 11), scale=0.5, zero_point=0)
    edge = _edge(b, 11)
    outs.append(_sparse_depthwise(b, xa, "edge_s1", **edge))  # 7 outputs: two pairs and a triple
    outs.append(_sparse_depthwise(b, xa, "edge_s2", stride_h=2, stride_w=2, **edge))  # 4: two pairs
    outs.append(_sparse_depthwise(b, xa, "edge_w5", padding="VALID", **edge))  # a row of five
    outs.append(_sparse_depthwise(b, xa, "edge_s2_w3", padding="VALID", stride_w=2, **edge))  # a triple
    xb = b.input("xb", (1, 5, 13, 5), scale=0.05, zero_point=-15)
    outs.append(_sparse_depthwise(b, xb, "w13_s1", dead=(2,)))  # a block, two pairs and a triple
    outs.append(_sparse_depthwise(b, xb, "w11_s1_valid", padding="VALID"))  # a block, a pair and a triple
    outs.append(_sparse_depthwise(b, xb, "w7_s2", stride_h=2, stride_w=2))
    xc = b.input("xc", (1, 5, 25, 7), scale=0.05, zero_point=-33)
    outs.append(_sparse_depthwise(b, xc, "w13_s2", stride_h=2, stride_w=2))  # a block, two pairs and a triple
    outs.append(_sparse_depthwise(b, xc, "w12_s2_valid", padding="VALID", stride_w=2))  # two blocks
    xd = b.input("xd", (2, 4, 12, 6), scale=0.05, zero_point=8)  # two images
    outs.append(_sparse_depthwise(b, xd, "w12_s1", zero_point=-128, fused_activation_function="RELU"))
    outs.append(_sparse_depthwise(b, xd, "w6_s2", stride_w=2))  # SAME, even input: a block
    xe = b.input("xe", (1, 3, 1, 4), scale=0.05, zero_point=-2)
    outs.append(_sparse_depthwise(b, xe, "w1_s1"))  # a padded row of one
    xf = b.input("xf", (1, 4, 6, 5), scale=0.05, zero_point=12)
    outs.append(_sparse_depthwise(b, xf, "relu6", scale=0.02, fused_activation_function="RELU6"))  # general entry
    # TFLite shifts -27 and 0 (filter scales 1e-8 and 5): outside the fast stage's range, the wide entry
    wide = b.rng.uniform(0.002, 0.02, 5)
    wide[[1, 3]] = [1e-8, 5.0]
    outs.append(_sparse_depthwise(b, xf, "wide", w_scales=wide, bias=[9, -4, 100, 0, -60], zero_point=4))
    outs.append(_sparse_depthwise(b, xf, "m2", multiplier=2))  # no DSP variant: the sparse kernel
    xg = b.input("xg", (1, 6, 8, 8), scale=0.05, zero_point=0)
    chain = _sparse_depthwise(b, xg, "chain1", zero_point=5)  # same size out: may stream over xg's rows
    outs.append(_sparse_depthwise(b, chain, "chain2", stride_h=2, stride_w=2))
    return b.build(*outs)


def _calls(graph, tmp_path) -> dict[str, str]:
    """{layer output: the depthwise function its call names} in the generated net.c."""
    source = (compile_model(graph, tmp_path / "lib", name="net").outdir / "net.c").read_text()
    calls = [line.strip().split("(")[0] for line in source.splitlines()
             if line.strip().startswith("mcuforge_depthwise_conv")]
    assert len(calls) == len(graph.ops), calls
    return {op.outputs[0]: call for op, call in zip(graph.ops, calls)}


def _expected_suffix(op, graph, shared: bool) -> str:
    width = graph.tensors[op.outputs[0]].shape[2]
    if op.outputs[0] == "relu6":
        return ""
    if op.outputs[0] == "wide":
        return "_wide"
    entry = LONG_ENTRIES[2] if op.attrs["stride_w"] == 2 else ROW_BLOCK_ENTRIES.get(width, LONG_ENTRIES[1])
    return BOTH_STRIDES_ENTRY if shared and entry in LONG_ENTRIES.values() else entry


def _symbols(elf) -> set[str]:
    return set(subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                              check=True).stdout.split())


def per_stride_functions(monkeypatch):
    monkeypatch.setattr(depthwise_conv_2d, "_both_strides_entry", lambda graph: None)


@pytest.mark.parametrize("shared", [True, False])
def test_sparse_layers_take_the_dense_entry_they_would_take_dense(shared, tmp_path, monkeypatch):
    graph = sparse_layers()
    assert all(use_sparse(graph.tensors[op.inputs[1]], axis=3) for op in graph.ops)
    if not shared:
        per_stride_functions(monkeypatch)
    calls = _calls(graph, tmp_path)
    for op in graph.ops:
        name = op.outputs[0]
        expected = SPARSE if name == "m2" else DENSE + _expected_suffix(op, graph, shared)
        assert calls[name] == expected, (name, calls[name])
    suffixes = {call[len(DENSE):] for call in calls.values() if call.startswith(DENSE)}
    assert {"", "_wide", "_fast_w5"} <= suffixes  # the general, wide and row-of-five entries all run


def test_graph_wide_choice_counts_sparse_layers(tmp_path):
    """A dense stride-1 layer and a sparse stride-2 one link the one function for both strides; rows of 6k or
    6k + 3 only, the one without pairs."""
    b = GraphBuilder(seed=7)
    x = b.input("x", (1, 4, 12, 4), scale=0.05, zero_point=3)
    dense = _sparse_depthwise(b, x, "dense", zeros=0.0)
    graph = b.build(_sparse_depthwise(b, dense, "sparse", stride_w=2))
    assert not use_sparse(graph.tensors["dense_w"], axis=3) and use_sparse(graph.tensors["sparse_w"], axis=3)
    calls = _calls(graph, tmp_path)
    assert calls == {"dense": f"mcuforge_depthwise_conv_s8{BOTH_STRIDES_NO_PAIRS_ENTRY}",
                     "sparse": f"{DENSE}{BOTH_STRIDES_NO_PAIRS_ENTRY}"}


def test_scratch_holds_the_decoded_filter_then_the_dense_kernels():
    graph = sparse_layers()
    op = next(op for op in graph.ops if op.outputs[0] == "edge_s1")
    conv = get_op("DEPTHWISE_CONV_2D")
    scratch = conv.scratch_bytes(op, graph)
    w = graph.tensors[op.inputs[1]]
    graph.tensors[op.inputs[1]].data = np.ones_like(w.data)  # the same layer, dense
    assert scratch == conv.scratch_bytes(op, graph) + 112  # 99 filter bytes rounded up to 16
    m2 = next(op for op in graph.ops if op.outputs[0] == "m2")
    assert conv.scratch_bytes(m2, graph) == 0


def test_chain_streams_over_consumed_rows():
    """The dense kernel keeps the row window on the decoded filter: the planner may overlap a chained output
    with its input, and the QEMU runs below check it."""
    graph = sparse_layers()
    op = next(op for op in graph.ops if op.outputs[0] == "chain1")
    assert get_op("DEPTHWISE_CONV_2D").row_window(op, graph) != (0, 0)
    render_project(graph, name="net", io_in_arena=True)


@pytest.fixture(scope="module")
def layer_builds(tmp_path_factory):
    graph = sparse_layers()
    return graph, build_dsp_variants(graph, tmp_path_factory.mktemp("dsp_sparse_dw"))


@pytest.mark.parametrize("key", list(DSP_BUILDS))
def test_sparse_layers_match_reference_on_qemu(key, layer_builds):
    graph, builds = layer_builds
    assert_builds_match_reference(graph, {key: builds[key]}, random_batch(graph, RECORDS, seed=13))


def test_builds_link_the_dense_kernel_not_the_sparse_one(layer_builds):
    """The _dense entries run the dense kernel (its assembly with the DSP extension, its portable code without);
    only the depth-multiplier layer links the sparse kernel."""
    _, builds = layer_builds
    dsp, portable = _symbols(builds["m4-dsp"].elf), _symbols(builds["m4-portable"].elf)
    for symbols in (dsp, portable):
        assert {DENSE, f"{DENSE}_wide", "mcuforge_depthwise_conv_s8", SPARSE} <= symbols
    def assembly_rows(symbols):
        return {s for s in symbols if s.startswith("dw_fast_row")}
    assert assembly_rows(dsp) and not assembly_rows(portable)


@pytest.mark.parametrize("key", ["m4-dsp", "m7-dsp"])
def test_per_stride_entries_match_reference_on_qemu(key, tmp_path, monkeypatch):
    graph = sparse_layers()
    per_stride_functions(monkeypatch)
    assert_builds_match_reference(graph, build_dsp_variants(graph, tmp_path, keys=(key,)),
                                  random_batch(graph, RECORDS, seed=14))


def test_sparse_layers_emulated_under_sanitizers(tmp_path):
    graph = sparse_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=15))
