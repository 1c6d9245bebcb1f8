"""The DSP conv's window gathering (kernels/dsp_window_s8.c and conv_dsp_gather in kernels/conv_2d_s8.c) gives
the reference interpreter's outputs, bit for bit, on every path it takes:

- pairs of inside windows whose filter rows are whole groups of four values (in_c 1 with a 4-wide filter, in_c 2
  with a 2-wide one, in_c 4, 8 and 16), widened straight from the input, groups an odd and an even count;
- pairs of inside windows whose rows straddle groups, packed across the rows' seams (in_c 1, 2, 3 and 5; rows of
  2, 3, 6, 9 and 15 values; the 3x3x3 first-layer shape has its own straight-line code);
- strided 1x1 filters (rows of 1, 3, 4 and 6 values: a row of one value is left to the general gather);
- windows the pairs leave over (a lone inside pixel at a row's end) and padded windows: the general gather, per
  tap in place when in_c is a multiple of 4, through bytes otherwise;
- VALID layers whose last windows end at the image's last byte and a last row shorter than a run and 3 bytes
  (packing reads past a run only inside the image; the sanitizers check it, the inputs being buffers of their
  own), dilation along y only (packed rows two input rows apart) and along x (general gather),
  a batch of two, an odd pixel count (a lone last pixel).

Each layer is built for the Cortex-M4 (DSP variant), the Cortex-M7 and the Cortex-M4 with MCUFORGE_NO_DSP
(portable code), run on QEMU, and run on the host under ASan/UBSan with MCUFORGE_DSP_EMULATE."""

import pytest

from mcuforge.ops import conv_2d
from tests.builders import GraphBuilder
from tests.targets.conftest import (assert_builds_match_reference, assert_emulated_matches_reference,
                                    build_dsp_variants, random_batch)

RECORDS = 3

# name: (input shape NHWC, input zero point, filters, kernel (h, w), conv attributes)
LAYERS = {
    "c1_10x4_s2": ((1, 13, 7, 1), 83, 6, (10, 4), {"stride_h": 2, "stride_w": 2}),  # KWS-like: rows of 4
    "c1_3x3": ((1, 6, 7, 1), -5, 5, (3, 3), {}),  # rows of 3 values packed
    "c2_3x3_valid": ((1, 5, 8, 2), 17, 4, (3, 3), {"padding": "VALID"}),  # rows of 6, last window at the end
    "c2_3x2": ((1, 5, 6, 2), -90, 3, (3, 2), {}),  # rows of 4: whole groups from in_c 2
    "c1_1x2": ((1, 4, 4, 1), 107, 2, (1, 2), {}),  # rows of 2; the last row has less than a run + 3 bytes
    "c3_3x3": ((1, 7, 8, 3), -128, 6, (3, 3), {}),  # the first-layer shape, stride 1, pad 1
    "c3_3x3_s2": ((1, 8, 10, 3), 3, 7, (3, 3), {"stride_h": 2, "stride_w": 2}),  # pad right and bottom only
    "c3_3x3_valid": ((1, 5, 9, 3), 60, 2, (3, 3), {"padding": "VALID"}),
    "c3_3x3_dil_h": ((1, 9, 7, 3), -20, 4, (3, 3), {"dilation_h_factor": 2}),  # rows two input rows apart
    "c3_3x3_dil_w": ((1, 6, 9, 3), 9, 4, (3, 3), {"dilation_w_factor": 2}),  # taps apart: general gather
    "c3_5x5_s2": ((1, 9, 11, 3), -7, 3, (5, 5), {"stride_h": 2, "stride_w": 2}),  # rows of 15
    "c5_2x3_valid": ((1, 4, 7, 5), 40, 5, (2, 3), {"padding": "VALID"}),  # rows of 15 reaching the end
    "c4_3x3": ((1, 5, 6, 4), 11, 3, (3, 3), {}),  # one group a tap
    "c8_3x3_s2": ((1, 7, 9, 8), -33, 5, (3, 3), {"stride_h": 2, "stride_w": 2}),  # rows of 6 groups
    "c16_3x3": ((1, 5, 6, 16), 7, 4, (3, 3), {}),  # rows of 12 groups, ResNet-like
    "pw1_s2": ((1, 6, 6, 1), 5, 3, (1, 1), {"stride_h": 2, "stride_w": 2}),  # a row of one value
    "pw3_s2": ((1, 7, 7, 3), -60, 4, (1, 1), {"stride_h": 2, "stride_w": 2}),  # 16 pixels
    "pw6_s2": ((1, 6, 5, 6), 25, 5, (1, 1), {"stride_h": 2, "stride_w": 2, "padding": "VALID"}),
    "pw16_s2": ((1, 6, 7, 16), -1, 6, (1, 1), {"stride_h": 2, "stride_w": 2}),
    "c3_3x3_batch2": ((2, 5, 5, 3), 12, 3, (3, 3), {}),  # 25 pixels an image: a lone last one
}


def window_layers():
    """Independent single-conv layers side by side: one build, one boot per core."""
    b = GraphBuilder(seed=44)
    outs = []
    for name, (shape, zero_point, filters, kernel, attrs) in LAYERS.items():
        x = b.input(f"x_{name}", shape, scale=0.05, zero_point=zero_point)
        w = b.int8_weights(f"{name}_w", (filters, *kernel, shape[3]), axis=0)
        bias = b.int32_bias(f"{name}_b", filters, 0.05 * b.graph.tensors[w].quant.scale)
        outs.append(b.op("CONV_2D", [x, w, bias], name, scale=0.15, zero_point=-3, **attrs))
    return b.build(*outs)


def test_every_layer_takes_the_dsp_variant():
    graph = window_layers()
    for op in graph.ops:
        assert conv_2d._dsp_requant(op, graph)[0] != 0, op.outputs[0]


@pytest.fixture(scope="module")
def window_builds(tmp_path_factory):
    graph = window_layers()
    return graph, build_dsp_variants(graph, tmp_path_factory.mktemp("windows"))


def test_windows_match_reference_on_qemu(window_builds):
    graph, builds = window_builds
    assert_builds_match_reference(graph, builds, random_batch(graph, RECORDS, seed=8))


def test_emulated_windows_under_sanitizers(tmp_path):
    """The gathering in plain C on the host (MCUFORGE_DSP_EMULATE) with ASan and UBSan: reads past a run stay
    inside the input, writes inside the scratch the emitter reserves."""
    graph = window_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=6))


def test_scratch_holds_the_gathering():
    """Scratch: the channel table and block, and when in_c is not a multiple of 4 one window's bytes and a zero
    word; none of those for a pointwise layer at stride 1 (it gathers nothing)."""
    graph = window_layers()
    ops = {op.outputs[0]: op for op in graph.ops}
    assert conv_2d.scratch_bytes(ops["c1_10x4_s2"], graph) == 20 * 6 + 4 * 40 + 44  # k = 40
    assert conv_2d.scratch_bytes(ops["c3_3x3"], graph) == 20 * 6 + 4 * 28 + 31  # k = 27: 7 groups
    assert conv_2d.scratch_bytes(ops["c16_3x3"], graph) == 20 * 4 + 4 * 144
    b = GraphBuilder(seed=1)
    x = b.input("x", (1, 3, 3, 5), scale=0.05)
    w = b.int8_weights("w", (2, 1, 1, 5), axis=0)
    y = b.op("CONV_2D", [x, w, b.int32_bias("b", 2, 0.05 * b.graph.tensors[w].quant.scale)], "y", scale=0.1)
    pointwise = b.build(y)
    assert conv_2d.scratch_bytes(pointwise.ops[0], pointwise) == 20 * 2 + 4 * 8
