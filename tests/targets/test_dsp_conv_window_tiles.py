"""Windowed convolutions in the 3x2 tiles (kernels/conv_2d_s8.c conv_dsp_window_tiles, the mcuforge_conv_s8_tiles
entry point) against the reference, bit for bit, on QEMU (Cortex-M4 with the assembly, in C, without the DSP
extension; Cortex-M7) and emulated on the host under ASan/UBSan.

The layers gather their windows every way conv_tiles_window does: inside in whole words (kws's 10x4 first layer
at stride 2, in_c 1), inside in bytes (a filter row of 3 values), padded on every side (SAME), dilated along x (one
run a tap) and along y, at strides 1 and 2; one pass of tiles and several with a shorter last one; 0, 1 and 2
pixels left to the pairs; a batch of two images; chained, so that the planner may lay an output over its input
(the row window). Windowed layers take the tiles only in a model whose pointwise layers link them."""

import numpy as np
import pytest

from mcuforge.codegen.project import compile_model
from mcuforge.ops import conv_2d
from tests.builders import GraphBuilder
from tests.targets.conftest import (assert_builds_match_reference, assert_emulated_matches_reference,
                                    build_dsp_variants, random_batch)
from tests.targets.test_dsp_conv_tiles import even_tiles_per_pass

RECORDS = 3
# (name, input (batches, h, w, c), filter (kh, kw), filters, attributes): k = kh kw c a multiple of 4
WINDOWED = [
    ("first", (1, 13, 10, 1), (10, 4), 6, {"padding": "SAME", "stride_h": 2, "stride_w": 2}),  # kws's: 7 x 5 pixels
    ("rows3", (1, 6, 5, 1), (4, 3), 4, {"padding": "SAME"}),  # rows of 3 bytes
    ("deep", (2, 5, 4, 8), (3, 3), 2, {"padding": "SAME"}),  # k 72: 13 tiles, passes of 7 and 6
    ("dilated", (1, 7, 7, 4), (3, 3), 4, {"padding": "SAME", "dilation_h_factor": 2, "dilation_w_factor": 2}),
    ("valid", (1, 6, 9, 4), (2, 2), 8, {"padding": "VALID", "stride_h": 2}),  # 3 x 8 pixels
]
CHAINED = ("chained", (3, 3), 4)  # over the pointwise layer's output (1, 5, 5, 8): 25 pixels, one left


def _conv(b, x, name, weights, **attrs):
    filters = weights.shape[0]
    w = b.const(f"{name}_w", weights, "int8", np.asarray(b.rng.uniform(0.002, 0.02, filters), np.float32),
                np.zeros(filters, np.int64), 0)
    bias_t = b.int32_bias(f"{name}_b", filters, b.graph.tensors[x].quant.scale[0] * b.graph.tensors[w].quant.scale)
    b.graph.tensors[bias_t].data = b.rng.integers(-3000, 3000, size=filters).astype(np.int32)
    return b.op("CONV_2D", [x, w, bias_t], name, scale=0.1, zero_point=4, **attrs)


def window_layers(with_pointwise: bool = True):
    b = GraphBuilder(seed=23)
    outs = []
    for name, shape, (kh, kw), filters, attrs in WINDOWED:
        x = b.input(f"x_{name}", shape, scale=0.05, zero_point=-9)
        outs.append(_conv(b, x, name, b.rng.integers(-127, 128, size=(filters, kh, kw, shape[3])), **attrs))
    if with_pointwise:  # a pointwise layer in the tiles, then a windowed layer over its output
        x = b.input("x_pointwise", (1, 5, 5, 8), scale=0.05, zero_point=3)
        pointwise = _conv(b, x, "pointwise", b.rng.integers(-127, 128, size=(8, 1, 1, 8)))
        name, (kh, kw), filters = CHAINED
        outs.append(_conv(b, pointwise, name, b.rng.integers(-127, 128, size=(filters, kh, kw, 8)), padding="SAME"))
    return b.build(*outs)


def _entry(graph, name):
    op = next(op for op in graph.ops if op.outputs[0] == name)
    return conv_2d._dsp_entry(op, graph, conv_2d._dsp_requant(op, graph)[0])


def test_windowed_layers_take_the_tiles_with_pointwise_tiles_only():
    graph = window_layers()
    assert _entry(graph, "pointwise") == "_tiles"
    assert all(_entry(graph, name) == "_tiles" for name, *_ in WINDOWED)
    assert _entry(graph, CHAINED[0]) == "_tiles"
    alone = window_layers(with_pointwise=False)
    assert all(_entry(alone, name) == "_fast" for name, *_ in WINDOWED)


def test_windowed_tiles_reserve_their_scratch():
    """A pass of tiles, the pair's rows aligned, and a window's bytes after the pairs' block fit the scratch."""
    graph = window_layers()
    for name, shape, (kh, kw), filters, _ in WINDOWED:
        op = next(op for op in graph.ops if op.outputs[0] == name)
        k = kh * kw * shape[3]
        pixels = graph.tensors[name].size // filters
        need = max(20 * filters + 6 * k * even_tiles_per_pass(k, pixels) + 4 * k + conv_2d.TILES_ALIGN - 4,
                   20 * filters + 4 * 4 * ((k + 3) // 4) + k + 4)
        assert conv_2d.scratch_bytes(op, graph) >= need


def test_entry_point_in_the_generated_code(tmp_path):
    source = (compile_model(window_layers(), tmp_path / "lib", name="net").outdir / "net.c").read_text()
    assert source.count("mcuforge_conv_s8_tiles(") == len(WINDOWED) + 1


@pytest.mark.parametrize("key", ["m4-dsp", "m4-portable", "m4-dsp-c", "m7-dsp"])
def test_layers_match_reference_on_qemu(key, tmp_path):
    graph = window_layers()
    assert_builds_match_reference(graph, build_dsp_variants(graph, tmp_path, keys=(key,)),
                                  random_batch(graph, RECORDS, seed=3))


def test_emulated_under_sanitizers(tmp_path):
    graph = window_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=3))
