"""The narrow pointwise kernels (kernels/dsp_gemm_s8.h: in_c <= 8 into 16 filters, and their deeper kind, in_c <= 16
into 32 filters in two passes a filter; fast output stage, one filter's weights and output stage held in registers
over a pass of pixels) against the reference, bit for bit, on QEMU (Cortex-M4 with and without the DSP extension)
and emulated on the host under ASan/UBSan (their C passes).

Every k from 1 to 16 (a partial last group of four, or none), pixel counts that leave 0 to 7 pixels to the C tail,
a layer of fewer pixels than a run of 8 (the tail alone) and ones of more than a pass (full passes of 128 pixels,
then a shorter one); the output stage at its edges: TFLite shifts -1 and -22 and accumulators of -1 at a multiplier
of exactly 2^30 (a high word of 0, where the stage takes its sign correction from the accumulator). Neighbouring
shapes that must not take the kernels (k 9 to 16 into 16 filters, 17 into 32, 15, 17, 31 and 33 filters, a clamp,
the general form) run beside them. The deeper kind also at strides (1x1 filters, output pixels gathered row by row,
passes and the tail crossing rows and images), and a strided layer of other filters beside it."""

import re
from pathlib import Path

import numpy as np
import pytest

from mcuforge.codegen.project import compile_model
from mcuforge.ops import conv_2d
from mcuforge.ops.conv_common import DSP_FOLDED, DSP_GENERAL
from mcuforge.quant.sparse import sparse_storage
from tests.builders import GraphBuilder
from tests.targets.conftest import (assert_builds_match_reference, assert_emulated_matches_reference,
                                    build_dsp_variants, int8_conv, random_batch)

RECORDS = 3
# (k, (height, width)), pixels in runs of 8 and a tail of 0-7: 35 (a tail of 3), 10 (2), 25 (1), 21 (5),
# 8 (a run alone), 12 (4), 14 (6), 3 (the tail alone), 11 x 13 = 143 (a pass of 128 pixels, one of 8, a tail of 7)
NARROW = [(1, (5, 7)), (2, (5, 2)), (3, (5, 5)), (4, (3, 7)), (5, (1, 8)), (6, (1, 12)), (7, (2, 7)), (3, (1, 3)),
          (8, (11, 13))]
# The deeper kind (32 filters, k <= 16, two passes a filter): every k from 9 to 16, and 4 (a zero second half),
# 17 x 17 = 289 pixels (two passes of 128, one of 32, a tail of 1)
NARROW16 = [(9, (5, 7)), (10, (5, 2)), (11, (5, 5)), (12, (3, 7)), (13, (1, 8)), (14, (1, 12)), (15, (2, 7)),
            (16, (1, 3)), (16, (17, 17)), (4, (3, 5))]
EDGES, EDGES16 = 6, 12  # edge channels of the stage tests (more would make the weights sparse)
# The deeper kind at a stride (1x1, never padded: mcuforge_conv_s8_narrow16), output pixels gathered row by row:
# name: (input shape, (stride_h, stride_w), padding). 24 x 25 at stride 2: 12 x 13 = 156 pixels (a pass of 128 that
# ends inside a row, one of 24, a tail of 4 across rows); ResNet's shortcut shape (16 channels, an odd input side);
# k 5 (partial groups) at strides 3 x 2; a batch of two (rows of both images in one pass); VALID; 6 pixels (fewer
# than a run: the general kernel).
STRIDED16 = {"s16_24x25": ((1, 24, 25, 16), (2, 2), "SAME"), "s16_9x11": ((1, 9, 11, 16), (2, 2), "SAME"),
             "s5_10x9": ((1, 10, 9, 5), (3, 2), "SAME"), "s12_batch2": ((2, 7, 8, 12), (2, 2), "SAME"),
             "s16_valid": ((1, 8, 10, 16), (2, 2), "VALID"), "s16_few": ((1, 3, 5, 16), (2, 2), "SAME")}
BESIDE = {"k9_fast": (9, 16), "k16_fast": (16, 16), "f15_fast": (8, 15), "f17_fast": (8, 17), "k17_fast": (17, 32),
          "f31_fast": (16, 31), "f33_fast": (16, 33)}
TILED = ["k16_fast"]  # of those, the one the 3x2 tiles take (an even filter count, k a multiple of 4)


def _random_conv(b, x, name, filters, w_scales=None, **attrs):
    in_c = b.graph.tensors[x].shape[3]
    weights = b.rng.integers(-127, 128, size=(filters, 1, 1, in_c))
    scales = b.rng.uniform(0.002, 0.02, filters) if w_scales is None else w_scales
    bias = b.rng.integers(-3000, 3000, size=filters)
    return int8_conv(b, x, name, weights, scales, bias, **attrs)


def narrow_layers():
    b = GraphBuilder(seed=47)
    outs = []
    for k, (h, w) in NARROW:
        x = b.input(f"x_k{k}_{h}x{w}", (1, h, w, k), scale=0.05, zero_point=-9)
        outs.append(_random_conv(b, x, f"narrow_k{k}_{h}x{w}", 16, scale=0.1, zero_point=4))
    for k, (h, w) in NARROW16:
        x = b.input(f"x16_k{k}_{h}x{w}", (1, h, w, k), scale=0.05, zero_point=-9)
        outs.append(_random_conv(b, x, f"narrow16_k{k}_{h}x{w}", 32, scale=0.1, zero_point=4))
    # The stage's edges (input and output scales 2^-4: a channel's real scale is its weight scale). Channels 0-5
    # read input channel j with weight +-1, bias 0: accumulators +-x_j, often -1, at multiplier 2^30 (TFLite shift
    # -4); channels 6-15 random weights at TFLite shifts -1 (0.3, 0.45) and -22 (0.7 2^-22), bias up to 2^20.
    # (More edge channels would make the weights sparse, another kernel.) 144 pixels: a pass of 128, one of 16.
    # The same for the deeper kind: 12 edge channels of 32 over 16 input channels, the others random.
    for tag, in_c, filters, edges in (("", 8, 16, EDGES), ("16", 16, 32, EDGES16)):
        x = b.input(f"x{tag}_edge", (1, 12, 12, in_c), scale=0.0625, zero_point=0)
        weights = np.zeros((filters, 1, 1, in_c), np.int64)
        for j in range(edges):
            weights[j, 0, 0, j] = 1 if j % 2 else -1
        weights[edges:] = b.rng.integers(-127, 128, size=(filters - edges, 1, 1, in_c))
        scales = [2.0 ** -5] * edges + [0.3, 0.45, 0.7 * 2.0 ** -22, 0.3 * 2.0 ** -21, 0.3] * ((filters - edges) // 5)
        bias = [0] * edges + [-20, 7, 5, -(1 << 20), 3000, -3000, 1 << 20, 0, 1, -1] * ((filters - edges) // 10)
        outs.append(int8_conv(b, x, f"narrow{tag}_edges", weights, scales, bias, scale=0.0625, zero_point=0))
    for name, (shape, (sh, sw), padding) in STRIDED16.items():
        x = b.input(f"x_{name}", shape, scale=0.05, zero_point=-7)
        outs.append(_random_conv(b, x, name, 32, scale=0.1, zero_point=2, stride_h=sh, stride_w=sw, padding=padding))
    x = b.input("x_s16_f31", (1, 6, 7, 16), scale=0.05, zero_point=1)  # 31 filters at stride 2: not narrow
    outs.append(_random_conv(b, x, "s16_f31", 31, scale=0.1, zero_point=2, stride_h=2, stride_w=2))
    for name, (k, filters) in BESIDE.items():
        x = b.input(f"x_{name}", (1, 5, 7, k), scale=0.05, zero_point=3)
        outs.append(_random_conv(b, x, name, filters, scale=0.1, zero_point=-2))
    x = b.input("x_clamped", (1, 5, 7, 8), scale=0.05, zero_point=3)  # RELU6: the clamping entry point
    outs.append(_random_conv(b, x, "k8_clamped", 16, scale=0.05, zero_point=-128, fused_activation_function="RELU6"))
    x = b.input("x_general", (1, 5, 7, 8), scale=0.05, zero_point=6)  # channel 0 at real scale 0.75: TFLite shift 0
    general = [0.75 / 0.05 * 0.2] + [0.01] * 15
    outs.append(_random_conv(b, x, "k8_wide", 16, w_scales=general, scale=0.2, zero_point=-3))
    return b.build(*outs)


def _op(graph, name):
    return next(op for op in graph.ops if op.outputs[0] == name)


def test_layers_take_the_intended_entry_points(tmp_path):
    graph = narrow_layers()
    narrow = [f"narrow_k{k}_{h}x{w}" for k, (h, w) in NARROW] + ["narrow_edges"]
    narrow16 = [f"narrow16_k{k}_{h}x{w}" for k, (h, w) in NARROW16] + ["narrow16_edges"]
    assert all(conv_2d._dsp_requant(_op(graph, n), graph)[0] == DSP_FOLDED
               for n in narrow + narrow16 + list(BESIDE))
    assert conv_2d._dsp_requant(_op(graph, "k8_wide"), graph)[0] == DSP_GENERAL
    assert all(conv_2d.scratch_bytes(_op(graph, n), graph) == conv_2d.NARROW_SCRATCH for n in narrow)
    assert all(conv_2d.scratch_bytes(_op(graph, n), graph) == conv_2d.NARROW16_SCRATCH for n in narrow16)
    assert conv_2d.scratch_bytes(_op(graph, "k9_fast"), graph) == 20 * 16 + 16 * 3
    source = (compile_model(graph, tmp_path / "lib", name="net").outdir / "net.c").read_text()
    calls = {line.split("(")[0].strip() for line in source.splitlines() if "mcuforge_conv_1x1_s8" in line}
    assert calls == {"mcuforge_conv_1x1_s8_narrow", "mcuforge_conv_1x1_s8_narrow16", "mcuforge_conv_1x1_s8_fast",
                     "mcuforge_conv_1x1_s8", "mcuforge_conv_1x1_s8_wide", "mcuforge_conv_1x1_s8_tiles"}, calls
    assert source.count("mcuforge_conv_1x1_s8_narrow(") == len(narrow)
    assert source.count("mcuforge_conv_1x1_s8_narrow16(") == len(narrow16)
    assert source.count("mcuforge_conv_1x1_s8_fast(") == len(BESIDE) - len(TILED)
    assert source.count("mcuforge_conv_1x1_s8_tiles(") == len(TILED)  # kernels/dsp_gemm_s8.h's 3x2 tiles
    assert source.count("mcuforge_conv_s8_narrow16(") == len(STRIDED16)
    assert source.count("mcuforge_conv_s8_fast(") == 1  # s16_f31
    assert all(conv_2d.scratch_bytes(_op(graph, n), graph) == conv_2d.NARROW16_SCRATCH for n in STRIDED16)


def test_a_model_with_sparse_conv_weights_keeps_only_the_narrow_kind(tmp_path):
    """A model pruned to save flash (a conv stored sparse) keeps the narrow kernel (~1.7 cycles a MAC better than the
    pairs for ~1 KB of code) but runs the deeper kind's layers, at stride 1 or not, through the _fast pairs (the
    deeper kind: ~0.6 for ~1.35 KB, the trade the tiles make too); the model bit-exact on QEMU and under the
    sanitizers."""
    b = GraphBuilder(seed=11)
    x = b.input("x", (1, 6, 6, 8), scale=0.05, zero_point=0)
    narrow = _random_conv(b, x, "narrow", 16, scale=0.1, zero_point=0)
    deeper = _random_conv(b, narrow, "deeper", 32, scale=0.1, zero_point=0)
    strided = _random_conv(b, narrow, "strided", 32, scale=0.1, zero_point=0, stride_h=2, stride_w=2)
    pruned = np.zeros((64, 1, 1, 32), np.int64)
    pruned[::4, 0, 0, ::8] = 50
    graph = b.build(int8_conv(b, deeper, "pruned", pruned, [0.01] * 64, [0] * 64, scale=0.1, zero_point=0), strided)
    assert conv_2d.sparse_op_weights(_op(graph, "pruned"), graph) is not None
    form = {n: conv_2d._dsp_requant(_op(graph, n), graph)[0] for n in ("narrow", "deeper", "strided")}
    assert set(form.values()) == {DSP_FOLDED}
    entry = {n: conv_2d._dsp_entry(_op(graph, n), graph, form[n]) for n in form}
    assert entry == {"narrow": "_narrow", "deeper": "_fast", "strided": "_fast"}
    assert conv_2d.scratch_bytes(_op(graph, "narrow"), graph) == conv_2d.NARROW_SCRATCH
    assert conv_2d.scratch_bytes(_op(graph, "deeper"), graph) == 20 * 32 + 4 * 16 < conv_2d.NARROW16_SCRATCH
    with sparse_storage("off"):  # the same model stored dense takes the deeper kind again
        assert conv_2d._dsp_entry(_op(graph, "deeper"), graph, DSP_FOLDED) == "_narrow16"
        assert conv_2d._dsp_entry(_op(graph, "strided"), graph, DSP_FOLDED) == "_narrow16"
    source = (compile_model(graph, tmp_path / "lib", name="net").outdir / "net.c").read_text()
    assert "_narrow16(" not in source and source.count("mcuforge_conv_1x1_s8_narrow(") == 1
    batch = random_batch(graph, RECORDS, seed=3)
    assert_builds_match_reference(graph, build_dsp_variants(graph, tmp_path / "fw", keys=("m4-dsp",)), batch)
    assert_emulated_matches_reference(graph, tmp_path / "host", batch)


def test_emitter_mirrors_the_kernel_constants():
    header = (Path(conv_2d.__file__).parents[1] / "kernels" / "dsp_gemm_s8.h").read_text()
    value = {name: int(v) for name, v in re.findall(r"#define MCUFORGE_DSP_((?:NARROW|TILES_)\w*) (\d+)\n", header)}
    assert (value["NARROW_MAX_K"], value["NARROW_FILTERS"], value["NARROW_PIXELS"]) == (
        conv_2d.NARROW_MAX_K, conv_2d.NARROW_FILTERS, conv_2d.NARROW_PIXELS)
    assert (value["NARROW16_MAX_K"], value["NARROW16_FILTERS"], value["NARROW16_PIXELS"]) == (
        conv_2d.NARROW16_MAX_K, conv_2d.NARROW16_FILTERS, conv_2d.NARROW16_PIXELS)
    assert value["NARROW_RUN"] == conv_2d.NARROW_RUN
    # the tiles' pass size, floor and alignment: the planner reserves what the kernel lays out from them
    assert (value["TILES_BYTES"], value["TILES_MIN"], value["TILES_ALIGN"]) == (
        conv_2d.TILES_BYTES, conv_2d.TILES_MIN, conv_2d.TILES_ALIGN)
    assert conv_2d.NARROW_PIXELS % conv_2d.NARROW_RUN == conv_2d.NARROW16_PIXELS % conv_2d.NARROW_RUN == 0


def test_edge_channels_meet_accumulators_of_minus_one():
    """The records below do give the edge channels accumulators of -1 (else the stage's edge goes untested)."""
    graph = narrow_layers()
    for name, channels, edges in (("x_edge", 8, EDGES), ("x16_edge", 16, EDGES16)):
        index = graph.inputs.index(name)
        signs = np.array([1 if j % 2 else -1 for j in range(edges)])
        hits = sum(int(np.count_nonzero(record[index].astype(np.int64).reshape(-1, channels)[:, :edges] * signs == -1))
                   for record in random_batch(graph, RECORDS, seed=5))
        assert hits >= 4, (name, hits)


@pytest.mark.parametrize("key", ["m4-dsp", "m4-portable", "m4-dsp-c"])
def test_layers_match_reference_on_qemu(key, tmp_path):
    graph = narrow_layers()
    assert_builds_match_reference(graph, build_dsp_variants(graph, tmp_path, keys=(key,)), random_batch(graph, RECORDS, seed=5))


def test_emulated_under_sanitizers(tmp_path):
    graph = narrow_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=5))
