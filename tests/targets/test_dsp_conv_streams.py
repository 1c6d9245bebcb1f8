"""The DSP conv's streams of windowed pixel pairs (kernels/conv_2d_s8.c conv_dsp_windows, dsp_gemm_s8.h
mcuforge_dsp_stream): with an even filter count, a row's run of pixel pairs whose windows lie inside the input goes
through one call, each pair after the first gathered between the passes over the filters. Checked against the
reference interpreter, bit for bit, on every way a run starts and ends:

- 3x3 filters with pad 1 (runs between the border pixels, an odd and an even output width: a lone pixel after the
  run), the 3x3x3 first-layer shape (its own packing code), whole groups (in_c 4, 16) and packed rows (in_c 1, 2);
- runs cut short by the bytes packing may read past a run: VALID layers whose last windows end at the image's
  last byte (in_c 1 and 2: the last row's run stops where the second window's reads would leave the image);
- strided 1x1 filters (the ResNet shortcut: in_c 16 and 32 at stride 2, in_c 3 packed), an odd output width, one
  pair a row, a batch of two, dilation along y, a 10x4 filter on one channel (KWS-like);
- an odd filter count (no stream: one call a pair) beside it, a layer of one output pixel;
- the three output stages: fast, the general form (a TFLite shift of 0) and RELU6 (the clamping stage).

Each layer is built for the Cortex-M4 (DSP variant, assembly), the Cortex-M4 with MCUFORGE_NO_DSP (portable code)
and the Cortex-M7, run on QEMU, and run on the host under ASan/UBSan with MCUFORGE_DSP_EMULATE (the streams in C)."""

import pytest

from mcuforge.ops import conv_2d
from mcuforge.ops.conv_common import DSP_FOLDED, DSP_GENERAL
from tests.builders import GraphBuilder
from tests.targets.conftest import (assert_builds_match_reference, assert_emulated_matches_reference,
                                    build_dsp_variants, random_batch)

RECORDS = 3

# name: (input shape NHWC, input zero point, filters, kernel (h, w), conv attributes)
LAYERS = {
    "c16_3x3_w9": ((1, 5, 9, 16), 7, 4, (3, 3), {}),  # runs of 3 pairs (ox 2..7), a lone pixel 1 and 8
    "c16_3x3_w8": ((1, 4, 8, 16), -40, 6, (3, 3), {}),  # runs of 2 pairs (ox 2..5) and pixel pairs 0/1, 6/7
    "c4_3x3_s2": ((1, 9, 11, 4), 11, 2, (3, 3), {"stride_h": 2, "stride_w": 2}),  # runs from ox 0: no left pad
    "c3_3x3": ((1, 6, 12, 3), -128, 8, (3, 3), {}),  # the first-layer shape, 16 filters' worth halved
    "c3_3x3_s2": ((1, 9, 14, 3), 3, 4, (3, 3), {"stride_h": 2, "stride_w": 2}),  # vww's first layer, small
    "c1_3x3_valid": ((1, 4, 11, 1), 83, 2, (3, 3), {"padding": "VALID"}),  # rows of 3: the last run cut short
    "c2_3x3_valid": ((1, 5, 10, 2), 17, 4, (3, 3), {"padding": "VALID"}),  # rows of 6 reaching the last byte
    "c1_10x4_s2": ((1, 13, 9, 1), 90, 4, (10, 4), {"stride_h": 2, "stride_w": 2}),  # KWS-like, rows of 4
    "c8_3x3_dil_h": ((1, 8, 9, 8), -20, 2, (3, 3), {"dilation_h_factor": 2}),  # rows two input rows apart
    "pw16_s2": ((1, 7, 9, 16), -1, 8, (1, 1), {"stride_h": 2, "stride_w": 2}),  # out 4x5: two pairs and a pixel
    "pw32_s2": ((1, 4, 8, 32), 5, 6, (1, 1), {"stride_h": 2, "stride_w": 2}),  # out 2x4: two pairs a row
    "pw16_s2_w2": ((1, 6, 4, 16), 30, 2, (1, 1), {"stride_h": 2, "stride_w": 2}),  # one pair a row, one pair
    "pw3_s2_valid": ((1, 7, 9, 3), -60, 4, (1, 1), {"stride_h": 2, "stride_w": 2, "padding": "VALID"}),
    "c16_3x3_odd": ((1, 4, 9, 16), 9, 5, (3, 3), {}),  # an odd filter count: one call a pair, no stream
    "c16_3x3_one": ((1, 3, 3, 16), -2, 4, (3, 3), {"padding": "VALID"}),  # one output pixel
    "c16_3x3_batch2": ((2, 4, 7, 16), 12, 4, (3, 3), {}),  # a batch of two: each image's rows
}
# The other output stages, on a windowed layer that streams: channel 0 at real scale 0.75 (TFLite shift 0).
STAGES = {"c8_3x3_general": {}, "c8_3x3_relu6": {"fused_activation_function": "RELU6"}}


def stream_layers():
    """Independent single-conv layers side by side: one build, one boot per core."""
    b = GraphBuilder(seed=45)
    outs = []
    for name, (shape, zero_point, filters, kernel, attrs) in LAYERS.items():
        x = b.input(f"x_{name}", shape, scale=0.05, zero_point=zero_point)
        w = b.int8_weights(f"{name}_w", (filters, *kernel, shape[3]), axis=0)
        bias = b.int32_bias(f"{name}_b", filters, 0.05 * b.graph.tensors[w].quant.scale)
        outs.append(b.op("CONV_2D", [x, w, bias], name, scale=0.15, zero_point=-3, **attrs))
    x = b.input("x_stages", (1, 5, 10, 8), scale=0.05, zero_point=6)
    for name, attrs in STAGES.items():
        w = b.int8_weights(f"{name}_w", (4, 3, 3, 8), axis=0)
        scales = b.graph.tensors[w].quant.scale
        scales[0] = 0.75 / 0.05 * 0.2
        bias = b.int32_bias(f"{name}_b", 4, 0.05 * scales)
        outs.append(b.op("CONV_2D", [x, w, bias], name, scale=0.2, zero_point=-3, **attrs))
    return b.build(*outs)


def test_layers_take_the_intended_output_stages():
    graph = stream_layers()
    ops = {op.outputs[0]: op for op in graph.ops}
    for name in LAYERS:
        assert conv_2d._dsp_requant(ops[name], graph)[0] == DSP_FOLDED, name
    for name in STAGES:
        assert conv_2d._dsp_requant(ops[name], graph)[0] == DSP_GENERAL, name


@pytest.fixture(scope="module")
def stream_builds(tmp_path_factory):
    graph = stream_layers()
    return graph, build_dsp_variants(graph, tmp_path_factory.mktemp("streams"))


def test_streams_match_reference_on_qemu(stream_builds):
    graph, builds = stream_builds
    assert_builds_match_reference(graph, builds, random_batch(graph, RECORDS, seed=9))


def test_emulated_streams_under_sanitizers(tmp_path):
    """The streams in plain C on the host (MCUFORGE_DSP_EMULATE) with ASan and UBSan: a run cut short never lets
    packing read past the input, gathering writes inside the scratch."""
    graph = stream_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=7))
