"""The int8 conv's DSP matrix product (kernels/dsp_gemm_s8.h: the filter pairs in assembly) against the reference,
bit for bit, on QEMU (Cortex-M4 with and without the DSP extension) and emulated on the host under ASan/UBSan.

The layers reach each way into the assembly's eight-group loop (ceil(k / 4) mod 8 = 0..7, one pass and several),
partial groups (k not a multiple of 4: a last pair left to C), one pair, no pair, a lone last filter, a block of
one pixel (an odd pixel count, a single-pixel layer) and the fast output stage at its edges: TFLite shifts -1 and
-22, and accumulators of -1 at a multiplier of exactly 2^30, where rounding the product gives a high word of 0 and
the stage's sign correction comes from the accumulator instead."""

import re

import numpy as np
import pytest

from mcuforge.codegen.project import compile_model
from mcuforge.ops import conv_2d
from mcuforge.ops.conv_common import DSP_FOLDED, DSP_GENERAL
from tests.builders import GraphBuilder
from tests.targets.conftest import (assert_builds_match_reference, assert_emulated_matches_reference,
                                    build_dsp_variants, int8_conv, random_batch)

RECORDS = 4
# (k, filters) of pointwise layers over 35 pixels: every entry point of the eight-group loop, several passes,
# partial groups with an odd and an even filter count (then the last pair runs in C), a single pair, no pair.
POINTWISE = [(1, 3), (4, 2), (8, 5), (12, 6), (13, 6), (16, 7), (20, 4), (24, 9), (28, 2), (32, 3), (36, 8),
             (64, 4), (68, 5), (2, 2), (130, 4)]
EDGE_CHANNELS = 16  # channels at multiplier 2^30 whose accumulator is one input value (or its negation)


def _random_conv(b, x, name, filters, kernel, w_scales=None, **attrs):
    in_c = b.graph.tensors[x].shape[3]
    weights = b.rng.integers(-127, 128, size=(filters, *kernel, in_c))
    scales = b.rng.uniform(0.002, 0.02, filters) if w_scales is None else w_scales
    bias = b.rng.integers(-3000, 3000, size=filters)
    return int8_conv(b, x, name, weights, scales, bias, **attrs)


def conv_layers():
    b = GraphBuilder(seed=31)
    outs = []
    for k, filters in POINTWISE:
        x = b.input(f"x_pw{k}", (1, 5, 7, k), scale=0.05, zero_point=-9)
        outs.append(_random_conv(b, x, f"pw{k}_{filters}", filters, (1, 1), scale=0.1, zero_point=4))
    x = b.input("x_one", (1, 1, 1, 9), scale=0.05, zero_point=3)  # a single pixel: one block of one pixel
    outs.append(_random_conv(b, x, "pw_one_pixel", 4, (1, 1), scale=0.1, zero_point=-4))
    # The fast stage's edges. Input and output scales 2^-4: a channel's real scale is its weight scale, exactly.
    # Edge channel j reads input channel j with weight +-1 (bias 0, zero points 0): its accumulator is +-x_j, often
    # -1, at scale 2^-5 (multiplier 2^30, TFLite shift -4). Then TFLite shifts -1 (0.3) and -22 (0.7 2^-22).
    x = b.input("x_edge", (1, 8, 8, EDGE_CHANNELS), scale=0.0625, zero_point=0)
    weights = np.zeros((EDGE_CHANNELS + 3, 1, 1, EDGE_CHANNELS), np.int64)
    for j in range(EDGE_CHANNELS):
        weights[j, 0, 0, j] = 1 if j % 2 else -1
    weights[EDGE_CHANNELS:] = b.rng.integers(-127, 128, size=(3, 1, 1, EDGE_CHANNELS))
    scales = [2.0 ** -5] * EDGE_CHANNELS + [0.3, 0.7 * 2.0 ** -22, 0.3 * 2.0 ** -21]
    bias = [0] * EDGE_CHANNELS + [-20, 5, -(1 << 20)]
    outs.append(int8_conv(b, x, "pw_edges", weights, scales, bias, scale=0.0625, zero_point=0))
    # The general form (a TFLite shift 0: scale 0.75), clamp [-128, 127] and RELU6 (all pixel pairs in one call, and
    # with a lone filter one call a pair)
    x = b.input("x_general", (1, 3, 5, 24), scale=0.05, zero_point=6)
    general = [0.75 / 0.05 * 0.2, 0.01, 0.004, 0.02, 0.003, 0.01]  # output scale 0.2: channel 0 at real scale 0.75
    outs.append(_random_conv(b, x, "pw_general", 6, (1, 1), w_scales=general, scale=0.2, zero_point=-3))
    outs.append(_random_conv(b, x, "pw_general_relu6", 4, (1, 1), w_scales=general[:4], scale=0.2, zero_point=-3,
                             fused_activation_function="RELU6"))
    outs.append(_random_conv(b, x, "pw_general_relu6_odd", 5, (1, 1), w_scales=general[:5], scale=0.2,
                             zero_point=-3, fused_activation_function="RELU6"))
    # Windowed: k = 72 (whole groups), k = 27 (a partial group: the last pair reads into the filters' padding)
    # with 25 output pixels
    x = b.input("x_win8", (1, 6, 7, 8), scale=0.05, zero_point=-20)
    outs.append(_random_conv(b, x, "c3_k72", 6, (3, 3), scale=0.2, zero_point=2))
    x = b.input("x_win3", (1, 5, 5, 3), scale=0.05, zero_point=11)
    outs.append(_random_conv(b, x, "c3_k27", 4, (3, 3), scale=0.1, zero_point=-7))
    return b.build(*outs)


def _form(graph, name):
    op = next(op for op in graph.ops if op.outputs[0] == name)
    return conv_2d._dsp_requant(op, graph)[0]


def test_layers_take_the_intended_output_stages():
    graph = conv_layers()
    assert all(_form(graph, f"pw{k}_{n}") == DSP_FOLDED for k, n in POINTWISE)
    assert _form(graph, "pw_edges") == DSP_FOLDED
    assert _form(graph, "pw_general") == _form(graph, "pw_general_relu6") == DSP_GENERAL
    assert _form(graph, "pw_general_relu6_odd") == DSP_GENERAL


def test_filters_with_a_partial_group_are_padded(tmp_path):
    """The pair loop reads the last filter's last group whole: k % 4 != 0 filters carry 3 zero bytes after them."""
    graph = conv_layers()
    source = (compile_model(graph, tmp_path / "lib", name="net").outdir / "net.c").read_text()
    for name, size, padded in (("c3_k27_w", 4 * 27, True), ("c3_k72_w", 6 * 72, False), ("pw13_6_w", 6 * 13, True)):
        declaration = re.search(rf"/\* {name} .*\*/\n[^\n]*\[(\d+)\] = \{{([^}}]*)\}}", source)
        assert declaration is not None, name
        values = [int(v) for v in declaration.group(2).split(",")]
        padding = conv_2d.FILTER_PADDING if padded else 0
        assert len(values) == int(declaration.group(1)) == size + padding, name
        expected = graph.tensors[name].data.reshape(-1)
        assert values[:size] == expected.tolist() and values[size:] == [0] * padding, name


def test_edge_channels_meet_accumulators_of_minus_one():
    """The records below do give the edge channels accumulators of -1 (else the stage's edge goes untested)."""
    graph = conv_layers()
    index = graph.inputs.index("x_edge")
    hits = 0
    for record in random_batch(graph, RECORDS, seed=3):
        x = record[index].astype(np.int64).reshape(-1, EDGE_CHANNELS)
        signs = np.array([1 if j % 2 else -1 for j in range(EDGE_CHANNELS)])
        hits += int(np.count_nonzero(x * signs == -1))
    assert hits >= 4, hits


@pytest.mark.parametrize("key", ["m4-dsp", "m4-portable", "m4-dsp-c"])
def test_layers_match_reference_on_qemu(key, tmp_path):
    graph = conv_layers()
    assert_builds_match_reference(graph, build_dsp_variants(graph, tmp_path, keys=(key,)), random_batch(graph, RECORDS, seed=3))


def test_emulated_under_sanitizers(tmp_path):
    graph = conv_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=3))
