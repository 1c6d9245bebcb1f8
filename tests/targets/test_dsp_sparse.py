"""The pointwise sparse conv kernels (kernels/conv_2d_sparse_s8.c, mcuforge_conv_sparse_1x1_s8[_fast]; _dense in
conv_2d_sparse_dense_s8.c): a 1x1 filter stored bitmap-sparse runs as a sparse matrix product, with the DSP output
stage when the layer's requantization takes the folded form. Built for the Cortex-M4 (DSP), the Cortex-M4 with
MCUFORGE_NO_DSP (portable) and the Cortex-M7 and run on QEMU, on layers chosen for its edge cases: rows of 1 to 6
pixels (groups of four and a last group of one to three with the last pixel repeated), bitmap rows of whole words,
a word and a byte, and bytes only, stride 2, a batch of two, clamps other than [-128, 127] and TFLite shift 0 (the
portable output stage), TFLite shifts -1 and -22 (the folded form's ends), pruned channels with a +-2^30 bias. The
DSP output stage also runs on the host under ASan/UBSan. Filters only moderately sparse take the _dense entry
point (sparse storage, dense compute: blocks of filters decoded into scratch, run by the dense SIMD kernel), tested
with small blocks and chunks (the emitter chooses both) for their tails: filter counts not a multiple of the block,
a last block of one filter, chunks of pixels not a multiple of the chunk, k not a multiple of 4, all-zero filters,
one pixel, k beyond a block's bytes, a batch of two, and chained layers whose outputs may not overlap their
inputs."""

import subprocess

import numpy as np
import pytest

import mcuforge.ops.conv_2d_sparse as conv_2d_sparse
from mcuforge.codegen.project import compile_model, render_project
from mcuforge.frontends import load_model
from mcuforge.ops.conv_common import output_multipliers
from mcuforge.ops.registry import get_op
from mcuforge.quant.sparse import SKIP_KERNEL_MAX_NONZERO_FRACTION, use_sparse
from mcuforge.targets.build import build_firmware
from tests.builders import GraphBuilder
from tests.conftest import shared_model
from tests.targets.conftest import (assert_builds_match_reference, assert_emulated_matches_reference,
                                    build_dsp_variants, random_batch, require_cross_toolchain)

RECORDS = 3


def _pointwise(b, x, name, filters, zeros=0.8, w_scales=None, bias=None, scale=0.1, zero_point=0, dead=(), **attrs):
    """A 1x1 CONV_2D with a seeded `zeros` fraction of its filter pruned (and the `dead` filters all zero)."""
    x_t = b.graph.tensors[x]
    data = b.rng.integers(-127, 128, size=(filters, 1, 1, x_t.shape[3]))
    data[b.rng.random(data.shape) < zeros] = 0
    data[list(dead)] = 0
    scales = b.rng.uniform(0.002, 0.02, filters) if w_scales is None else w_scales
    w = b.const(f"{name}_w", data, "int8", np.asarray(scales, np.float32), np.zeros(filters, np.int64), 0)
    bias_t = b.int32_bias(f"{name}_b", filters, x_t.quant.scale[0] * b.graph.tensors[w].quant.scale)
    if bias is not None:
        b.graph.tensors[bias_t].data = np.asarray(bias, np.int32)
    return b.op("CONV_2D", [x, w, bias_t], name, scale=scale, zero_point=zero_point, **attrs)


def sparse_layers():
    """Independent pointwise layers side by side: one build, one boot per core."""
    b = GraphBuilder(seed=31)
    outs = []
    x1 = b.input("x1", (1, 3, 5, 40), scale=0.05, zero_point=-5)  # rows of 5: 4 + 1; 40 bits: a word and a byte
    # at most SKIP_KERNEL_MAX_NONZERO_FRACTION nonzero weights: these take the skip kernels (the _dense layers: below)
    outs.append(_pointwise(b, x1, "pw_fast", 9, zeros=0.85, zero_point=3))
    outs.append(_pointwise(b, x1, "pw_relu6", 7, scale=0.02, fused_activation_function="RELU6"))  # portable stage
    # TFLite shift 0 on one channel (scale 0.75 / 0.05 / 0.1 folds to a multiplier of 0.75): not the folded form.
    outs.append(_pointwise(b, x1, "pw_shift0", 4, w_scales=[0.01, 1.5, 0.02, 0.005], scale=0.1))
    outs.append(_pointwise(b, x1, "pw_s2", 6, zeros=0.6, stride_h=2, stride_w=2, padding="VALID"))  # rows of 3
    # Pruned channels at a +-2^30 bias and odd scales, as in vww: rewritten to the folded form.
    outs.append(_pointwise(b, x1, "pw_pruned", 5, zero_point=-20, w_scales=[0.01, 1.5, 0.02, 1e-8, 0.005],
                           bias=[50, 300, -7, -(1 << 30), 9], dead=(1, 3)))
    # TFLite shifts -1 and -22, the ends of the folded form, on channels whose accumulators stay near 0.
    outs.append(_pointwise(b, x1, "pw_shift_ends", 4, zeros=0.9, w_scales=[0.6, 3.4e-7, 0.3, 1e-6],
                           bias=[-3, -1, 2, -40], zero_point=-1))
    x2 = b.input("x2", (2, 2, 6, 64), scale=0.03, zero_point=12)  # a batch of two, rows of 6: 4 + 2; two words
    outs.append(_pointwise(b, x2, "pw_batch2", 10, zeros=0.9, zero_point=-128, scale=0.05))
    x3 = b.input("x3", (1, 4, 3, 20), scale=0.04, zero_point=-60)  # rows of 3; 20 bits: bytes only
    outs.append(_pointwise(b, x3, "pw_bytes", 8, zeros=0.85, zero_point=7))
    x4 = b.input("x4", (1, 5, 1, 96), scale=0.04, zero_point=0)  # rows of 1; three words
    outs.append(_pointwise(b, x4, "pw_w1", 3, zeros=0.95))
    return b.build(*outs)


def _calls(graph, outdir) -> dict[str, str]:
    """{layer output: the kernel its call names} in the generated net.c."""
    source = (compile_model(graph, outdir, name="net").outdir / "net.c").read_text()
    calls = [line.strip().split("(")[0] for line in source.splitlines() if "mcuforge_conv_sparse" in line
             and "(" in line and "params" in line and "static" not in line]
    names = [op.outputs[0] for op in graph.ops]
    assert len(calls) == len(names), calls
    return dict(zip(names, calls))


def test_pointwise_layers_take_the_pointwise_entry_points(tmp_path):
    graph = sparse_layers()
    assert all(use_sparse(graph.tensors[op.inputs[1]]) for op in graph.ops)
    calls = _calls(graph, tmp_path / "lib")
    fast = {name for name, call in calls.items() if call == "mcuforge_conv_sparse_1x1_s8_fast"}
    portable = {name for name, call in calls.items() if call == "mcuforge_conv_sparse_1x1_s8"}
    assert portable == {"pw_relu6", "pw_shift0"}
    assert fast == set(calls) - portable
    op = next(op for op in graph.ops if op.outputs[0] == "pw_shift_ends")
    assert {-1, -22} <= set(output_multipliers(op, graph, 4)[1].tolist())


@pytest.fixture(scope="module")
def layer_builds(tmp_path_factory):
    graph = sparse_layers()
    return graph, build_dsp_variants(graph, tmp_path_factory.mktemp("dsp_sparse"))


def test_layers_match_reference_on_qemu(layer_builds):
    graph, builds = layer_builds
    assert_builds_match_reference(graph, builds, random_batch(graph, RECORDS, seed=3))


def test_emulated_dsp_output_stage_under_sanitizers(tmp_path):
    """The _fast entry point's DSP output stage in plain C on the host (MCUFORGE_DSP_EMULATE), ASan and UBSan."""
    graph = sparse_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=5))


def test_vww_links_only_the_pointwise_kernel(tmp_path):
    """vww's pruned pointwise layers link the one pointwise entry point, not the general sparse kernel and its
    run helpers."""
    require_cross_toolchain()
    build = build_firmware(load_model(shared_model("vww")), tmp_path / "vww", target="cortex-m4", name="net")
    symbols = subprocess.run(["arm-none-eabi-nm", str(build.elf)], capture_output=True, text=True,
                             check=True).stdout.split()
    assert "mcuforge_conv_sparse_1x1_s8_fast" in symbols
    linked = {s for s in symbols if s.startswith("mcuforge_") and "sparse" in s}
    # its half-pruned layer 14 runs sparse storage, dense compute: the decoder and the dense kernel
    assert linked == {"mcuforge_conv_sparse_1x1_s8_fast", "mcuforge_conv_sparse_1x1_s8_dense",
                      "mcuforge_sparse_decode"}, linked
    assert "mcuforge_conv_1x1_s8_fast" in symbols


# Small blocks of filters and chunks of pixels for the _dense layers below, so that tiny layers have several of
# both, with tails (the emitter passes both to the kernel).
SMALL_BLOCKS = {"DECODE_BYTES": 96, "CHUNK_BYTES": 40}


def dense_layers():
    """Pointwise layers whose filters are about half zeros (the _dense entry point) with the tails of its blocks and
    chunks, a chain of two, and one layer of each other pointwise path."""
    b = GraphBuilder(seed=47)
    outs = []
    x1 = b.input("x1", (1, 3, 5, 24), scale=0.05, zero_point=-5)
    outs.append(_pointwise(b, x1, "pd_tail", 11, zeros=0.5, zero_point=3))  # blocks 4 4 3, chunks of 10 and 5
    x2 = b.input("x2", (1, 2, 7, 13), scale=0.04, zero_point=9)
    outs.append(_pointwise(b, x2, "pd_k13", 13, zeros=0.55))  # k 13: blocks 6 6 1, chunks 6 6 2, two bitmap bytes
    x3 = b.input("x3", (2, 2, 3, 40), scale=0.03, zero_point=12)
    # k 40 (a word and a byte of bitmap): blocks of 2, the first and the third all zero; a batch of two
    outs.append(_pointwise(b, x3, "pd_dead", 7, zeros=0.3, dead=(0, 1, 4), zero_point=-20))
    x4 = b.input("x4", (1, 1, 1, 130), scale=0.04, zero_point=-60)
    outs.append(_pointwise(b, x4, "pd_one_pixel", 6, zeros=0.5))  # k beyond the block's bytes: 2 filters, 1 pixel
    x5 = b.input("x5", (1, 4, 4, 32), scale=0.05, zero_point=0)
    chain = _pointwise(b, x5, "pd_chain1", 32, zeros=0.5, scale=0.05)  # same size out: may not overlap x5
    outs.append(_pointwise(b, chain, "pd_chain2", 32, zeros=0.5))
    outs.append(_pointwise(b, x1, "pw_skip", 9, zeros=0.9))  # sparse enough for the skip kernel
    outs.append(_pointwise(b, x1, "pw_relu6", 7, zeros=0.5, scale=0.02, fused_activation_function="RELU6"))
    outs.append(_pointwise(b, x1, "pw_s2", 6, zeros=0.5, stride_h=2, stride_w=2, padding="VALID"))
    return b.build(*outs)


@pytest.fixture
def small_blocks(monkeypatch):
    for name, value in SMALL_BLOCKS.items():
        monkeypatch.setattr(conv_2d_sparse, name, value)


def _dense_op_names(graph):
    return {op.outputs[0] for op in graph.ops if op.outputs[0].startswith("pd_")}


def test_dense_layers_take_the_dense_entry_point(tmp_path, small_blocks):
    graph = dense_layers()
    assert all(use_sparse(graph.tensors[op.inputs[1]]) for op in graph.ops)
    for op in graph.ops:
        w = graph.tensors[op.inputs[1]].data
        dense = op.outputs[0] in _dense_op_names(graph) or op.outputs[0] in ("pw_relu6", "pw_s2")
        assert (np.count_nonzero(w) > SKIP_KERNEL_MAX_NONZERO_FRACTION * w.size) == dense, op.outputs[0]
    calls = _calls(graph, tmp_path / "lib")
    assert {name for name, call in calls.items() if call == "mcuforge_conv_sparse_1x1_s8_dense"} == \
        _dense_op_names(graph)
    assert calls["pw_skip"] == calls["pw_s2"] == "mcuforge_conv_sparse_1x1_s8_fast"
    assert calls["pw_relu6"] == "mcuforge_conv_sparse_1x1_s8"
    source = (tmp_path / "lib" / "net.c").read_text()
    assert ", 4, 10);" in source and ", 6, 6);" in source and ", 2, 12);" in source  # pd_tail, pd_k13, pd_dead
    by_name = {op.outputs[0]: op for op in graph.ops}
    assert conv_2d_sparse.dense_compute_blocks(by_name["pd_one_pixel"], graph) == (2, 1)


def test_dense_layers_do_not_overlap_their_inputs(small_blocks):
    """Each block of filters reads the whole input again: the planner may not stream the output over it."""
    graph = dense_layers()
    _, plan, _ = render_project(graph, name="net", io_in_arena=True)
    conv = get_op("CONV_2D")
    for op in graph.ops:
        x, y = op.inputs[0], op.outputs[0]
        if y not in _dense_op_names(graph):
            assert conv.row_window(op, graph) != (0, 0)
            continue
        assert conv.row_window(op, graph) == (0, 0)
        assert conv.scratch_bytes(op, graph) > 0
        (wx, ox), (wy, oy) = plan.location(x), plan.location(y)
        nx, ny = graph.tensors[x].nbytes, graph.tensors[y].nbytes
        assert wx != wy or ox + nx <= oy or oy + ny <= ox, y


@pytest.fixture(scope="module")
def dense_builds(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SMALL_BLOCKS.items():
            patch.setattr(conv_2d_sparse, name, value)
        graph = dense_layers()
        return graph, build_dsp_variants(graph, tmp_path_factory.mktemp("dsp_sparse_dense"))


def test_dense_layers_match_reference_on_qemu(dense_builds):
    graph, builds = dense_builds
    assert_builds_match_reference(graph, builds, random_batch(graph, RECORDS, seed=7))


def test_emulated_dense_layers_under_sanitizers(tmp_path, small_blocks):
    """The _dense entry point in plain C on the host, ASan and UBSan: the decoded rows' slack, the chunk's outputs
    and the dense kernel's scratch inside what the planner reserved."""
    graph = dense_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=9))


def test_emulated_dense_layer_alone_under_sanitizers(tmp_path):
    """One _dense layer with the default blocks: the arena is its scratch alone, so ASan sees a byte past it."""
    b = GraphBuilder(seed=53)
    x = b.input("x", (1, 3, 7, 126), scale=0.05, zero_point=4)  # k 126: blocks of 32, a partial last group of four
    graph = b.build(_pointwise(b, x, "pd_alone", 70, zeros=0.6, zero_point=-3))  # blocks 32 32 6
    assert conv_2d_sparse.dense_compute(graph.ops[0], graph)
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=11))


def test_one_block_dense_layer_streams_over_its_input(tmp_path, monkeypatch):
    """With all its filters in one decoded block the _dense entry point reads a chunk's pixels before writing their
    outputs, chunk after chunk: the planner may lay the output over the input (the usual 1x1 window), and the
    outputs still match on the M4 and under ASan/UBSan (chunks of 2 pixels: many chunks, the last one short)."""
    monkeypatch.setattr(conv_2d_sparse, "CHUNK_BYTES", 40)
    b = GraphBuilder(seed=59)
    x = b.input("x", (1, 5, 3, 20), scale=0.05, zero_point=-7)
    mid = _pointwise(b, x, "pd_pre", 20, zeros=0.1, scale=0.05)  # dense: the streamed layer's input is in the arena
    graph = b.build(_pointwise(b, mid, "pd_one_block", 20, zeros=0.5, zero_point=2))
    op = graph.ops[1]
    assert conv_2d_sparse.dense_compute(op, graph) and conv_2d_sparse.dense_compute_blocks(op, graph) == (20, 2)
    assert get_op("CONV_2D").row_window(op, graph) == (1, 0)
    _, plan, _ = render_project(graph, name="net", io_in_arena=True)
    (wx, ox), (wy, oy) = plan.location("pd_pre"), plan.location("pd_one_block")
    assert wx == wy and oy < ox + graph.tensors["pd_pre"].nbytes and ox < oy + graph.tensors["pd_one_block"].nbytes
    batch = random_batch(graph, RECORDS, seed=13)
    assert_builds_match_reference(graph, build_dsp_variants(graph, tmp_path / "qemu", keys=("m4-dsp",)), batch)
    assert_emulated_matches_reference(graph, tmp_path / "host", batch)
