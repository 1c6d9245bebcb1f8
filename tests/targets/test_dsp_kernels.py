"""The Armv7E-M DSP variants of the int8 conv, depthwise and fully connected kernels (kernels/dsp_s8.h) give the
portable code's outputs, bit for bit.

The same generated library is built three ways and run on QEMU: for the Cortex-M4 (DSP extension: the DSP
variants run), for the Cortex-M4 with MCUFORGE_NO_DSP (the portable kernels), and for the Cortex-M7 (DSP). Each
must equal the reference interpreter, on synthetic layers chosen for the DSP variants' edge cases (odd channel
counts and kernel sizes: partial groups of four; padding, strides, dilation, batches, clamps other than
[-128, 127], channels with TFLite shifts 0 and -29, pruned channels with a +-2^30 bias (pointwise ones
rewritten to the folded form), depthwise rows of 1, 5
and 9 outputs, ADD/SUB with a broadcast input, layers the DSP variants leave to the portable code) and on the
shared MLPerf Tiny models. The DSP variants also run on the host in
plain C (MCUFORGE_DSP_EMULATE) under ASan/UBSan: the sanitizers check their index arithmetic."""

import numpy as np
import pytest

from mcuforge.frontends import load_model
from mcuforge.ops import conv_2d, depthwise_conv_2d
from mcuforge.ops.conv_common import DSP_FOLDED, DSP_GENERAL
from mcuforge.runtime.reference import run_reference
from mcuforge.targets.instruction_count import count_instructions
from mcuforge.targets.qemu import run_qemu
from tests.builders import GraphBuilder
from tests.conftest import shared_model
from tests.targets.conftest import (assert_builds_match_reference, assert_emulated_matches_reference,
                                    assert_outputs_equal, build_dsp_variants, random_batch)

RECORDS = 4


def _conv(b, x, name, filters, kernel, scale=0.1, zero_point=0, weights=None, w_scales=None, bias=None, **attrs):
    x_t = b.graph.tensors[x]
    shape = (filters, *kernel, x_t.shape[3])
    if weights is None:
        w = b.int8_weights(f"{name}_w", shape, axis=0)
    else:
        w = b.const(f"{name}_w", weights, "int8", w_scales, np.zeros(filters, np.int64), 0)
    w_scale = b.graph.tensors[w].quant.scale
    bias_t = b.int32_bias(f"{name}_b", filters, x_t.quant.scale[0] * w_scale)
    if bias is not None:
        b.graph.tensors[bias_t].data = np.asarray(bias, np.int32)
    return b.op("CONV_2D", [x, w, bias_t], name, scale=scale, zero_point=zero_point, **attrs)


def _depthwise(b, x, name, scale=0.1, zero_point=0, w_scales=None, weights=None, bias=None, **attrs):
    x_t = b.graph.tensors[x]
    channels = x_t.shape[3]
    if weights is None and w_scales is None:
        w = b.int8_weights(f"{name}_w", (1, 3, 3, channels), axis=3)
    else:
        data = b.rng.integers(-127, 128, size=(1, 3, 3, channels)) if weights is None else weights
        scales = b.rng.uniform(0.002, 0.02, channels) if w_scales is None else w_scales
        w = b.const(f"{name}_w", data, "int8", np.asarray(scales, np.float32), np.zeros(channels, np.int64), 3)
    bias_t = b.int32_bias(f"{name}_b", channels, x_t.quant.scale[0] * b.graph.tensors[w].quant.scale)
    if bias is not None:
        b.graph.tensors[bias_t].data = np.asarray(bias, np.int32)
    return b.op("DEPTHWISE_CONV_2D", [x, w, bias_t], name, scale=scale, zero_point=zero_point,
                depth_multiplier=1, **attrs)


def dsp_layers():
    """Independent layers side by side: one build, one boot per core."""
    b = GraphBuilder(seed=21)
    outs = []
    x1 = b.input("x1", (1, 3, 5, 13), scale=0.05, zero_point=-5)  # 15 pixels: a lone last one
    outs.append(_conv(b, x1, "pw_odd", 7, (1, 1), zero_point=3))  # 13 values: a partial group
    outs.append(_conv(b, x1, "pw_s2", 6, (1, 1), stride_h=2, stride_w=2))
    # Pruned pointwise channels at TFLite shifts 0 and about -27 (as in vww): rewritten to the folded form.
    pruned = b.rng.integers(-127, 128, size=(5, 1, 1, 13))
    pruned[[1, 3]] = 0
    outs.append(_conv(b, x1, "pw_pruned", 5, (1, 1), zero_point=-20, weights=pruned,
                      w_scales=np.array([0.01, 1.5, 0.02, 1e-8, 0.005], np.float32),
                      bias=[50, 300, -7, -(1 << 30), 9], fused_activation_function="RELU"))
    x2 = b.input("x2", (1, 9, 11, 5), scale=0.03, zero_point=12)  # in_c % 4: windows gathered as bytes
    outs.append(_conv(b, x2, "c3_s2_relu6", 6, (3, 3), scale=0.02, zero_point=-5, stride_h=2, stride_w=2,
                      fused_activation_function="RELU6"))
    x3 = b.input("x3", (1, 10, 9, 8), scale=0.04, zero_point=-60)
    outs.append(_conv(b, x3, "c3_dil2", 9, (3, 3), zero_point=-7, padding="VALID", dilation_h_factor=2,
                      dilation_w_factor=2))
    # TFLite shifts 0 (scale 0.75), about -9 and -29, and a pruned channel: the general form.
    special = b.rng.integers(-127, 128, size=(4, 3, 3, 8))
    special[1] = 0
    w_scales = np.array([0.0375, 0.01, 1e-10, 0.01], np.float32)
    for name, act in (("c3_general", "NONE"), ("c3_general_relu", "RELU")):
        outs.append(_conv(b, x3, name, 4, (3, 3), scale=0.002, zero_point=10, weights=special, w_scales=w_scales,
                          bias=[100, -(1 << 30), 5, -70], fused_activation_function=act))
    outs.append(_conv(b, x3, "c3_big_bias", 5, (3, 3), bias=[(1 << 30) - 5, 0, 1, 2, 3]))  # left to portable
    x4 = b.input("x4", (1, 21, 6, 1), scale=0.1, zero_point=83)  # a KWS-like first layer
    outs.append(_conv(b, x4, "c10x4", 5, (10, 4), scale=0.2, zero_point=-128, stride_h=2, stride_w=2,
                      fused_activation_function="RELU"))
    x5 = b.input("x5", (1, 7, 9, 13), scale=0.05, zero_point=-128)  # 13 channels, odd width
    outs.append(_depthwise(b, x5, "dw_s1", zero_point=-128, fused_activation_function="RELU"))
    outs.append(_depthwise(b, x5, "dw_s2_relu6", scale=0.03, zero_point=5, stride_h=2, stride_w=2,
                           fused_activation_function="RELU6"))
    outs.append(_depthwise(b, x5, "dw_s2_valid", padding="VALID", stride_h=2, stride_w=2))
    dw_scales = np.full(13, 0.01, np.float32)
    dw_scales[[0, 4]] = [0.0075, 1e-10]  # TFLite shifts 0 and about -29
    dw_weights = b.rng.integers(-127, 128, size=(1, 3, 3, 13))
    dw_weights[..., 7] = 0
    dw_bias = b.rng.integers(-2000, 2000, size=13)
    dw_bias[7] = 1 << 30
    outs.append(_depthwise(b, x5, "dw_general", scale=0.02, zero_point=-3, w_scales=dw_scales, weights=dw_weights,
                           bias=dw_bias))
    outs.append(_depthwise(b, x5, "dw_dil2", dilation_h_factor=2, dilation_w_factor=2))  # left to portable
    # rows of 9 and 5 outputs close with a triple (above); a row of one output is a pair stored alone
    x_w1 = b.input("x_w1", (1, 5, 1, 6), scale=0.05, zero_point=-128)
    outs.append(_depthwise(b, x_w1, "dw_w1", zero_point=-128))
    x6 = b.input("x6", (2, 6, 5, 8), scale=0.05, zero_point=9)  # a batch of two: the ring restarts
    outs.append(_depthwise(b, x6, "dw_batch2", zero_point=-1, stride_h=2))
    # odd depth and units; over fully_connected.SMALL_FC_MACS, so the DSP variant (not the small-layer loop)
    x7 = b.input("x7", (3, 157), scale=0.05, zero_point=7)
    w7 = b.int8_weights("fc_w", (9, 157), axis=None)
    outs.append(b.op("FULLY_CONNECTED", [x7, w7, b.int32_bias("fc_b", 9, 0.05 * b.graph.tensors[w7].quant.scale)],
                     "fc_odd", scale=0.3, zero_point=-2, fused_activation_function="RELU"))
    # ADD/SUB: two requantized inputs (one at TFLite shift 0, the larger scale), a fused clamp, a broadcast input
    x8 = b.input("x8", (1, 4, 6, 8), scale=0.05, zero_point=-7)
    x9 = b.input("x9", (1, 4, 6, 8), scale=0.11, zero_point=20)
    x10 = b.input("x10", (1, 1, 1, 8), scale=0.02, zero_point=-100)
    outs.append(b.op("ADD", [x8, x9], "add_relu", scale=0.12, zero_point=-128, fused_activation_function="RELU"))
    outs.append(b.op("SUB", [x10, x8], "sub_broadcast", scale=0.09, zero_point=3))
    return b.build(*outs)


def _form(graph, name):
    op = next(op for op in graph.ops if op.outputs[0] == name)
    return (conv_2d if op.type == "CONV_2D" else depthwise_conv_2d)._dsp_requant(op, graph)[0]


def test_layers_cover_both_forms_and_the_fallback():
    graph = dsp_layers()
    assert _form(graph, "pw_odd") == _form(graph, "dw_s1") == _form(graph, "pw_pruned") == DSP_FOLDED
    assert _form(graph, "c3_general") == _form(graph, "dw_general") == DSP_GENERAL
    assert _form(graph, "c3_big_bias") == _form(graph, "dw_dil2") == 0


@pytest.fixture(scope="module")
def layer_builds(tmp_path_factory):
    graph = dsp_layers()
    return graph, build_dsp_variants(graph, tmp_path_factory.mktemp("dsp"))


def test_layers_match_reference_on_qemu(layer_builds):
    graph, builds = layer_builds
    assert_builds_match_reference(graph, builds, random_batch(graph, RECORDS, seed=3))


def test_dsp_variants_run_where_they_apply(layer_builds):
    """Instruction counts per layer: the DSP build runs fewer wherever the emitter allowed the DSP variant (far
    fewer over all such layers, though these are small and per-output costs weigh), and the portable code elsewhere
    (compiled next to the DSP variant, it may inline a little differently)."""
    graph, builds = layer_builds
    record = random_batch(graph, 1, seed=4)[0]
    dsp, portable = (count_instructions(builds[key], record) for key in ("m4-dsp", "m4-portable"))
    totals = [0, 0]
    for fast, slow in zip(dsp.layers[1:], portable.layers[1:]):
        if fast.output in ("c3_big_bias", "dw_dil2"):
            assert abs(fast.instructions - slow.instructions) < 0.1 * slow.instructions, fast.output
        else:
            assert fast.instructions < slow.instructions, (fast.output, fast.instructions, slow.instructions)
            totals[0] += fast.instructions
            totals[1] += slow.instructions
    assert totals[0] < 0.7 * totals[1], totals


def test_emulated_dsp_variants_under_sanitizers(tmp_path):
    """The DSP variants in plain C on the host (MCUFORGE_DSP_EMULATE), with ASan and UBSan."""
    graph = dsp_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=5))


@pytest.mark.parametrize("key", ["kws", "vww", "ic", "ad"])
def test_shared_model_dsp_equals_portable(key, tmp_path):
    graph = load_model(shared_model(key))
    batch = random_batch(graph, 2, seed=9)
    builds = build_dsp_variants(graph, tmp_path, keys=("m4-dsp", "m4-portable"))
    runs = {build_key: run_qemu(build, batch).outputs for build_key, build in builds.items()}
    for k, record in enumerate(batch):
        expected = run_reference(graph, record)
        assert_outputs_equal(graph, runs["m4-dsp"][k], runs["m4-portable"][k], f"{key} record {k}: DSP vs portable")
        assert_outputs_equal(graph, runs["m4-dsp"][k], expected, f"{key} record {k}: DSP vs reference")
