"""The depthwise kernel's DSP variant for the fast output stage (kernels/depthwise_conv_2d_s8.c): whole output
rows, every channel, in assembly, requantized in four instructions from doubled accumulators: a function per stride,
or one for both in a model with layers of each (the layers here; with the per-stride functions too), without the
pairs' phase when every row has 6k or 6k + 3 outputs (sixes_layers).

Layers built for its paths: rows of 1 to 14 outputs at strides 1 and 2 (a row of five in one block, blocks of six,
one or two of them, up to two pairs, a closing triple, a row of one, no pair at all), input rows
transposed pixel pair by pixel pair or channel group by channel group (with lone first and last columns), two
images (a padded row entering a ring slot a real row used), 1, 3, 4, 5, 6, 7, 9, 11 and 12 channels
(partial groups of four in the transposition), and channels at the ends of the fast stage's shift range (TFLite
shifts -1 and -22) whose filters are all zero, so that every accumulator is the bias: -1, -2 or 0, the values
where the 4-instruction stage's sign correction differs from dsp_s8.h's (a negative accumulator whose product
rounds to 0). Each must equal the reference interpreter on QEMU (the assembly on the Cortex-M4 and M7, the portable
kernels, the DSP variant's C loops) and, in plain C (MCUFORGE_DSP_EMULATE), under ASan/UBSan on the host."""

import numpy as np
import pytest

from mcuforge.codegen.project import compile_model
from mcuforge.ops import depthwise_conv_2d
from mcuforge.ops.conv_common import DSP_FOLDED, output_multipliers
from mcuforge.ops.depthwise_conv_2d import (BOTH_STRIDES_ENTRY, BOTH_STRIDES_NO_PAIRS_ENTRY, LONG_ENTRIES,
                                            ROW_BLOCK_ENTRIES)
from tests.builders import GraphBuilder
from tests.targets.conftest import (DSP_BUILDS, assert_builds_match_reference, assert_emulated_matches_reference,
                                    build_dsp_variants, random_batch)

RECORDS = 3
# x scale 0.5, output scale 1: a filter scale of 0.5 gives the multiplier 2^30 at TFLite shift -1 exactly (0.25),
# 3.5e-7 a shift of -22 (1.75e-7 is in [2^-23, 2^-22))
SHIFT_1, SHIFT_22 = 0.5, 3.5e-7


def _depthwise(b, x, name, weights=None, w_scales=None, bias=None, zero_point=-3, **attrs):
    channels = b.graph.tensors[x].shape[3]
    data = b.rng.integers(-127, 128, size=(1, 3, 3, channels)) if weights is None else weights
    scales = b.rng.uniform(0.002, 0.02, channels) if w_scales is None else np.asarray(w_scales)
    w = b.const(f"{name}_w", data, "int8", scales.astype(np.float32), np.zeros(channels, np.int64), 3)
    x_scale = b.graph.tensors[x].quant.scale[0]
    bias_t = b.const(f"{name}_b", b.rng.integers(-2000, 2000, size=channels) if bias is None else bias, "int32",
                     (x_scale * scales).astype(np.float32), np.zeros(channels, np.int64))
    return b.op("DEPTHWISE_CONV_2D", [x, w, bias_t], name, scale=1.0 if w_scales is not None else 0.1,
                zero_point=zero_point, depth_multiplier=1, **attrs)


def _edge_filter(b, channels):
    """Filters, scales and biases: zero filters with biases -1, -1, -2, 0 at TFLite shifts -1 and -22 (few enough
    that the layer stays dense, not stored sparse), random filters at both shifts, the rest random."""
    weights = b.rng.integers(-127, 128, size=(1, 3, 3, channels))
    weights[..., :4] = 0
    scales = b.rng.uniform(0.002, 0.02, channels)
    scales[:6] = [SHIFT_1, SHIFT_22, SHIFT_1, SHIFT_22, SHIFT_1, SHIFT_22]
    bias = b.rng.integers(-2000, 2000, size=channels)
    bias[:6] = [-1, -1, -2, 0, 700, -5000]
    return weights, scales, bias


def depthwise_layers():
    b = GraphBuilder(seed=33)
    outs = []
    edge = _edge_filter(b, 11)
    xa = b.input("xa", (1, 4, 7, 11), scale=0.5, zero_point=0)
    for name, attrs in (("edge_s1", {}),  # 7 outputs: two pairs and a triple
                        ("edge_s2", {"stride_h": 2, "stride_w": 2}),  # 4: two pairs
                        ("edge_s1_valid", {"padding": "VALID"}),  # 5: a row of five
                        ("edge_s2_valid", {"padding": "VALID", "stride_h": 2, "stride_w": 2})):  # 3: a triple
        outs.append(_depthwise(b, xa, name, *edge, **attrs))
    xb = b.input("xb", (1, 3, 2, 5), scale=0.05, zero_point=-128)
    outs.append(_depthwise(b, xb, "w2_s1", zero_point=-128, fused_activation_function="RELU"))  # one pair
    outs.append(_depthwise(b, xb, "w1_s2", stride_h=2, stride_w=2))  # a row of one
    xc = b.input("xc", (1, 5, 4, 1), scale=0.05, zero_point=17)
    outs.append(_depthwise(b, xc, "c1_s1", zero_point=4))  # one channel, two pairs
    outs.append(_depthwise(b, xc, "c1_s2_valid", padding="VALID", stride_w=2))  # one channel, a row of one
    xd = b.input("xd", (1, 6, 6, 3), scale=0.05, zero_point=-9)
    outs.append(_depthwise(b, xd, "c3_s2", stride_h=2, stride_w=2))  # SAME, even input: pad right only
    outs.append(_depthwise(b, xd, "c3_s1_valid", padding="VALID"))  # two pairs
    xe = b.input("xe", (1, 3, 10, 6), scale=0.05, zero_point=30)
    outs.append(_depthwise(b, xe, "w10_s1"))  # a block of six and two pairs
    outs.append(_depthwise(b, xe, "w8_s1_valid", padding="VALID", zero_point=-128,
                           fused_activation_function="RELU"))  # a block and a pair
    outs.append(_depthwise(b, xe, "w5_s2", stride_w=2))  # stride 2: a pair and a triple, no block
    xf = b.input("xf", (1, 4, 9, 5), scale=0.05, zero_point=-40)
    outs.append(_depthwise(b, xf, "w9_s1"))  # a block and a triple
    xg = b.input("xg", (1, 4, 3, 7), scale=0.05, zero_point=3)
    outs.append(_depthwise(b, xg, "w3_s1"))  # short rows: a triple
    outs.append(_depthwise(b, xg, "w1_s1_valid", padding="VALID"))  # a row of one
    xh = b.input("xh", (1, 5, 17, 5), scale=0.05, zero_point=-7)
    outs.append(_depthwise(b, xh, "w9_s2", stride_h=2, stride_w=2))  # a block and a triple
    outs.append(_depthwise(b, xh, "w8_s2_valid", padding="VALID", stride_w=2))  # a block and a pair
    xi = b.input("xi", (1, 4, 14, 3), scale=0.05, zero_point=12)
    outs.append(_depthwise(b, xi, "w7_s2", stride_w=2))  # two pairs and a triple
    outs.append(_depthwise(b, xi, "w6_s2_valid", padding="VALID", stride_h=2, stride_w=2))  # a block
    xk = b.input("xk", (1, 4, 8, 9), scale=0.05, zero_point=5)
    outs.append(_depthwise(b, xk, "w6_s1_valid", padding="VALID"))  # a block of six (and 2 + 1 channels)
    xl = b.input("xl", (1, 3, 6, 4), scale=0.05, zero_point=-60)
    outs.append(_depthwise(b, xl, "w6_s1", fused_activation_function="RELU", zero_point=-128))  # SAME: padded
    xj = b.input("xj", (2, 4, 4, 12), scale=0.05, zero_point=-20)  # two images: padded rows after real ones
    outs.append(_depthwise(b, xj, "b2_c12_s1"))  # transposition by channel groups (3 groups, 1 pixel pair)
    outs.append(_depthwise(b, xj, "b2_c12_s2", stride_h=2, stride_w=2))
    xm = b.input("xm", (1, 5, 14, 6), scale=0.05, zero_point=9)
    outs.append(_depthwise(b, xm, "w14_s1_h2", stride_h=2))  # two blocks of six and a pair, odd height
    outs.append(_depthwise(b, xm, "w12_s1_valid", padding="VALID"))  # two blocks, no pair
    xn = b.input("xn", (1, 3, 13, 5), scale=0.05, zero_point=-15)
    outs.append(_depthwise(b, xn, "w13_s1"))  # a block, two pairs and a triple
    outs.append(_depthwise(b, xn, "w11_s1_valid", padding="VALID"))  # a block, a pair and a triple
    xo = b.input("xo", (1, 5, 5, 7), scale=0.05, zero_point=21)
    outs.append(_depthwise(b, xo, "w5_s1"))  # SAME: a padded row of five, 4 + 3 channels
    outs.append(_depthwise(b, xo, "w5_s1_h2", stride_h=2))
    xp = b.input("xp", (1, 2, 1, 6), scale=0.05, zero_point=-2)
    outs.append(_depthwise(b, xp, "w1_s1"))  # SAME: a padded row of one
    xq = b.input("xq", (1, 5, 25, 5), scale=0.05, zero_point=-33)
    outs.append(_depthwise(b, xq, "w13_s2", stride_h=2, stride_w=2))  # a block of six, two pairs and a triple
    outs.append(_depthwise(b, xq, "w12_s2_valid", padding="VALID", stride_w=2))  # two blocks, odd height
    xr = b.input("xr", (1, 3, 20, 6), scale=0.05, zero_point=44)
    outs.append(_depthwise(b, xr, "w10_s2", stride_w=2))  # a block and two pairs
    return b.build(*outs)


def sixes_layers():
    """Both strides, rows of 6k and 6k + 3 outputs only (as VWW's): one, two or three blocks of six, a triple,
    blocks and a triple; 4, 5 and 8 channels, two images."""
    b = GraphBuilder(seed=41)
    outs = []
    xa = b.input("xa", (2, 5, 18, 5), scale=0.05, zero_point=-11)
    outs.append(_depthwise(b, xa, "w18_s1"))  # three blocks
    outs.append(_depthwise(b, xa, "w9_s2", stride_h=2, stride_w=2))  # a block and a triple
    outs.append(_depthwise(b, xa, "w9_s2_h3", stride_h=3, stride_w=2))  # the ring skips an input row
    xb = b.input("xb", (1, 4, 12, 8), scale=0.05, zero_point=25)
    outs.append(_depthwise(b, xb, "w12_s1", fused_activation_function="RELU", zero_point=-128))  # two blocks
    outs.append(_depthwise(b, xb, "w6_s2", stride_w=2))  # SAME, even input: a block
    xc = b.input("xc", (1, 3, 5, 8), scale=0.05, zero_point=-4)
    outs.append(_depthwise(b, xc, "w3_s1_valid", padding="VALID"))  # a triple
    outs.append(_depthwise(b, xc, "w3_s2", stride_w=2))  # a triple
    xd = b.input("xd", (1, 3, 25, 5), scale=0.05, zero_point=8)
    outs.append(_depthwise(b, xd, "w12_s2_valid", padding="VALID", stride_w=2))  # two blocks
    xe = b.input("xe", (1, 4, 23, 4), scale=0.05, zero_point=-50)
    outs.append(_depthwise(b, xe, "w21_s1_valid", padding="VALID"))  # three blocks and a triple
    return b.build(*outs)


def test_layers_take_the_fast_stage_at_both_shift_ends():
    graph = depthwise_layers()
    for op in graph.ops:
        assert depthwise_conv_2d._dsp_requant(op, graph)[0] == DSP_FOLDED, op.outputs[0]
    edge = next(op for op in graph.ops if op.outputs[0] == "edge_s1")
    multipliers, shifts = output_multipliers(edge, graph, 11)
    assert list(shifts[:6]) == [-1, -22, -1, -22, -1, -22] and multipliers[0] == 1 << 30


def per_stride_functions(monkeypatch):
    """The layers' graph emitted as a model with one stride: each layer takes its stride's function."""
    monkeypatch.setattr(depthwise_conv_2d, "_both_strides_entry", lambda graph: None)


@pytest.mark.parametrize("shared", [True, False])
def test_each_layer_takes_its_entry_point(shared, tmp_path, monkeypatch):
    """Stride 1: the row-of-five entry for rows of 5, the one with blocks of six for every other row; stride 2: the
    stride-2 one (blocks of six too); in a model with both strides (unless per_stride_functions) every layer but
    the rows of five takes the function for both. So each path of the assembly runs on QEMU."""
    graph = depthwise_layers()
    if not shared:
        per_stride_functions(monkeypatch)
    source = (compile_model(graph, tmp_path / "lib", name="dw").outdir / "dw.c").read_text()
    calls = {line.split("(&")[1].split("_params")[0]: line.split("(")[0].strip()
             for line in source.splitlines() if "mcuforge_depthwise_conv_s8" in line and "(&" in line}
    ops = {f"op{i}": op for i, op in enumerate(graph.ops)}
    assert len(calls) == len(graph.ops)  # every layer dense (no sparse kernel), through a DSP entry
    for key, entry in calls.items():
        op = ops[key]
        width = graph.tensors[op.outputs[0]].shape[2]
        expected = LONG_ENTRIES[2] if op.attrs["stride_w"] == 2 else ROW_BLOCK_ENTRIES.get(width, LONG_ENTRIES[1])
        if shared and expected in LONG_ENTRIES.values():
            expected = BOTH_STRIDES_ENTRY
        assert entry == f"mcuforge_depthwise_conv_s8{expected}", (op.outputs[0], entry)
    long_entries = {BOTH_STRIDES_ENTRY} if shared else set(LONG_ENTRIES.values())
    assert {e.rsplit("_s8", 1)[1] for e in calls.values()} == long_entries | {"_fast_w5"}


def test_a_model_of_one_stride_takes_its_function(tmp_path):
    """The function for both strides only where both per-stride ones would be linked."""
    b = GraphBuilder(seed=5)
    x = b.input("x", (1, 4, 8, 4), scale=0.05, zero_point=3)
    graph = b.build(_depthwise(b, _depthwise(b, x, "s1"), "s2", stride_w=2))
    source = (compile_model(graph, tmp_path / "both", name="dw").outdir / "dw.c").read_text()
    assert source.count(f"mcuforge_depthwise_conv_s8{BOTH_STRIDES_ENTRY}(") == 2
    b = GraphBuilder(seed=5)
    x = b.input("x", (1, 4, 8, 4), scale=0.05, zero_point=3)
    graph = b.build(_depthwise(b, _depthwise(b, x, "s1"), "s1b"))
    source = (compile_model(graph, tmp_path / "one", name="dw").outdir / "dw.c").read_text()
    assert source.count(f"mcuforge_depthwise_conv_s8{LONG_ENTRIES[1]}(") == 2 and BOTH_STRIDES_ENTRY not in source


@pytest.mark.parametrize("key", list(DSP_BUILDS))
def test_fast_rows_match_reference_on_qemu(key, tmp_path):
    """The assembly on the M4 and the M7, the portable kernels, and the DSP variant's C loops."""
    graph = depthwise_layers()
    assert_builds_match_reference(graph, build_dsp_variants(graph, tmp_path, keys=(key,)),
                                  random_batch(graph, RECORDS, seed=7))


def test_rows_of_sixes_take_the_function_without_pairs(tmp_path):
    graph = sixes_layers()
    source = (compile_model(graph, tmp_path / "lib", name="dw").outdir / "dw.c").read_text()
    assert source.count(f"mcuforge_depthwise_conv_s8{BOTH_STRIDES_NO_PAIRS_ENTRY}(") == len(graph.ops)
    for op in graph.ops:
        assert depthwise_conv_2d._dsp_requant(op, graph)[0] == DSP_FOLDED, op.outputs[0]
        assert graph.tensors[op.outputs[0]].shape[2] % 6 in (0, 3), op.outputs[0]


@pytest.mark.parametrize("key", ["m4-dsp", "m7-dsp"])
def test_rows_of_sixes_match_reference_on_qemu(key, tmp_path):
    graph = sixes_layers()
    assert_builds_match_reference(graph, build_dsp_variants(graph, tmp_path, keys=(key,)),
                                  random_batch(graph, RECORDS, seed=10))


@pytest.mark.parametrize("key", ["m4-dsp", "m7-dsp"])
def test_per_stride_rows_match_reference_on_qemu(key, tmp_path, monkeypatch):
    """The per-stride functions (a model of one stride links one of them) on the same layers."""
    graph = depthwise_layers()
    per_stride_functions(monkeypatch)
    assert_builds_match_reference(graph, build_dsp_variants(graph, tmp_path, keys=(key,)),
                                  random_batch(graph, RECORDS, seed=9))


def test_fast_rows_emulated_under_sanitizers(tmp_path):
    graph = depthwise_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=8))
