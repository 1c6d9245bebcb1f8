"""The fast int8 ADD/SUB (lookup tables, kernels/add_sub_s8.c) and average pool (SXTAB16 sums,
kernels/pooling_s8.c) paths give the reference interpreter's outputs, bit for bit, on the Cortex-M4 with and
without the DSP extension, on the Cortex-M7, and in plain C on the host (MCUFORGE_DSP_EMULATE) under ASan/UBSan.

The layers are chosen for the new paths' edges: element counts that leave 1..3 elements after the four-at-a-time
loop, SUB, clamps other than [-128, 127], a per-channel broadcast (table rows) next to a scalar one (no tables),
an output shift beyond the fast output stage (the three-stage path), equal input scales; global pools of
channels 3 (one at a time), 6 (an overlapping last block of four) and 64, a pool of more than 256 taps (the
int16 lanes widened in chunks), a window as wide as the input (rows merged into one run), and extreme inputs
(all -128, all 127) that fill the int16 lanes."""

import numpy as np
import pytest

from mcuforge.ops.add_sub import LUT_MIN_ELEMENTS, real_multipliers, scratch_bytes, uses_lut
from mcuforge.ops.pooling import is_global_pool
from mcuforge.quant.fixed_point import quantize_multiplier
from mcuforge.targets.instruction_count import count_instructions
from tests.builders import GraphBuilder
from tests.targets.conftest import (assert_builds_match_reference, assert_emulated_matches_reference,
                                    build_dsp_variants, random_batch)


def elementwise_layers():
    """Independent layers side by side: one build, one boot per core."""
    b = GraphBuilder(seed=31)
    outs = []
    # 2295 elements: 573 groups of four and a tail of 3.
    a = b.input("a", (1, 9, 15, 17), scale=0.04, zero_point=-128)
    c = b.input("c", (1, 9, 15, 17), scale=0.1, zero_point=4)
    outs.append(b.op("ADD", [a, c], "add_flat", scale=0.05, zero_point=-128, fused_activation_function="RELU"))
    outs.append(b.op("SUB", [a, c], "sub_relu6", scale=0.03, zero_point=-20, fused_activation_function="RELU6"))
    outs.append(b.op("ADD", [a, c], "add_n1_to_1", scale=0.01, zero_point=3,
                     fused_activation_function="RELU_N1_TO_1"))
    # Output scale 40x the inputs': output shift beyond 22, the LUT kernel hands over to the three-stage path.
    outs.append(b.op("SUB", [c, a], "sub_big_scale", scale=4.0, zero_point=1))
    # Equal input scales (both multipliers 2^30, shift 0); 2049 elements: tail of 1.
    e = b.input("e", (1, 2049), scale=0.05, zero_point=7)
    f = b.input("f", (1, 2049), scale=0.05, zero_point=-9)
    outs.append(b.op("SUB", [e, f], "sub_equal", scale=0.08, zero_point=0))
    # Per-channel broadcast: 300 rows of 7 (tail of 3 per row); scalar broadcast: no tables.
    g = b.input("g", (1, 10, 30, 7), scale=0.02, zero_point=10)
    h = b.input("h", (1, 1, 1, 7), scale=0.07, zero_point=-3)
    s = b.input("s", (1,), scale=0.03, zero_point=2)
    outs.append(b.op("ADD", [g, h], "add_channels", scale=0.06, zero_point=-5))
    outs.append(b.op("SUB", [h, g], "sub_channels", scale=0.06, zero_point=5))
    outs.append(b.op("ADD", [g, s], "add_scalar", scale=0.04, zero_point=0))

    def pool(x, name, window, strides=(1, 1), padding="VALID", **attrs):
        zp = b.graph.tensors[x].quant.scalar_zero_point
        return b.op("AVERAGE_POOL_2D", [x], name, scale=b.graph.tensors[x].quant.scalar_scale, zero_point=zp,
                    padding=padding, filter_height=window[0], filter_width=window[1], stride_h=strides[0],
                    stride_w=strides[1], **attrs)

    p64 = b.input("p64", (1, 25, 5, 64), scale=0.05, zero_point=-6)
    outs.append(pool(p64, "gap64", (25, 5)))
    p6 = b.input("p6", (2, 4, 5, 6), scale=0.05, zero_point=3)
    outs.append(pool(p6, "gap6_batches", (4, 5), fused_activation_function="RELU"))
    p3 = b.input("p3", (1, 7, 3, 3), scale=0.05, zero_point=-1)
    outs.append(pool(p3, "gap3", (7, 3)))
    p9 = b.input("p9", (1, 18, 17, 9), scale=0.05, zero_point=0)  # 306 taps: two chunks of lanes
    outs.append(pool(p9, "gap9_chunks", (18, 17), fused_activation_function="RELU6"))
    outs.append(pool(p9, "full_width_rows", (3, 17), strides=(2, 1), padding="VALID"))
    outs.append(pool(p9, "windows_same", (3, 3), strides=(2, 2), padding="SAME"))
    outs.append(pool(p64, "big_window_same", (25, 5), padding="SAME"))  # out 25x5: windows clamped
    return b.build(*outs)


def extreme_batch(graph):
    """Records of all -128 and all 127: the int16 lanes' extremes (256 taps of -128 is -32768)."""
    return [[np.full(graph.tensors[n].shape, v, np.int8) for n in graph.inputs] for v in (-128, 127)]


def _op(graph, name):
    return next(op for op in graph.ops if op.outputs[0] == name)


def test_layers_take_the_paths_they_are_meant_to():
    graph = elementwise_layers()
    lut = {op.outputs[0] for op in graph.ops if op.type in ("ADD", "SUB") and uses_lut(op, graph)}
    assert lut == {"add_flat", "sub_relu6", "add_n1_to_1", "sub_big_scale", "sub_equal", "add_channels",
                   "sub_channels"}
    assert scratch_bytes(_op(graph, "add_flat"), graph) == 2048 and scratch_bytes(_op(graph, "add_scalar"), graph) == 0
    assert quantize_multiplier(real_multipliers(_op(graph, "sub_big_scale"), graph)[2])[1] < -22
    assert all(quantize_multiplier(m) == (1 << 30, 0) for m in real_multipliers(_op(graph, "sub_equal"), graph)[:2])
    pools = {op.outputs[0] for op in graph.ops if op.type == "AVERAGE_POOL_2D" and is_global_pool(op, graph)}
    assert pools == {"gap64", "gap6_batches", "gap3", "gap9_chunks"}


def test_small_outputs_keep_the_direct_kernel():
    b = GraphBuilder(seed=2)
    x = b.input("x", (1, LUT_MIN_ELEMENTS - 1), scale=0.1, zero_point=0)
    z = b.input("z", (1, LUT_MIN_ELEMENTS - 1), scale=0.2, zero_point=0)
    graph = b.build(b.op("ADD", [x, z], "y", scale=0.3, zero_point=0))
    assert not uses_lut(graph.ops[0], graph) and scratch_bytes(graph.ops[0], graph) == 0


@pytest.fixture(scope="module")
def layer_builds(tmp_path_factory):
    graph = elementwise_layers()
    return graph, build_dsp_variants(graph, tmp_path_factory.mktemp("dsp_elementwise"))


def test_layers_match_reference_on_qemu(layer_builds):
    graph, builds = layer_builds
    assert_builds_match_reference(graph, builds, random_batch(graph, 2, seed=3) + extreme_batch(graph))


def test_fast_paths_cost(layer_builds):
    """Instructions on the M4 with DSP: the table ADD (add_flat) and the global pool (gap64) within the budgets
    they were written for (about 11.5 per element plus 16 per table entry, 2 per element), well under the
    portable build's."""
    graph, builds = layer_builds
    record = random_batch(graph, 1, seed=4)[0]
    dsp, portable = (count_instructions(builds[key], record) for key in ("m4-dsp", "m4-portable"))
    fast = {layer.output: layer.instructions for layer in dsp.layers}
    slow = {layer.output: layer.instructions for layer in portable.layers}
    elements = {name: graph.tensors[_op(graph, name).inputs[0]].size for name in ("add_flat", "gap64")}
    assert fast["add_flat"] < 12 * elements["add_flat"] + 18 * 512, fast["add_flat"]
    assert fast["gap64"] < 2.5 * elements["gap64"], fast["gap64"]
    for name in ("add_flat", "gap64"):
        assert fast[name] < 0.6 * slow[name], (name, fast[name], slow[name])


def test_emulated_dsp_paths_under_sanitizers(tmp_path):
    """The DSP variants in plain C on the host (MCUFORGE_DSP_EMULATE), with ASan and UBSan."""
    graph = elementwise_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, 1, seed=5) + extreme_batch(graph))
