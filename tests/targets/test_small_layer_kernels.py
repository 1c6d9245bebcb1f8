"""The small-layer entry points (kernels/fully_connected_s8.c's mcuforge_fully_connected_s8_small, pooling_s8.c's
mcuforge_global_avg_pool_s8_small), which graphs with only tiny FC layers and global pools take to save flash on
Armv7E-M cores: the emitters pick them graph-wide, the DSP build then links neither DSP variant, and every build
(M4 with and without DSP, M7, M4 with the DSP C loops; the host under ASan/UBSan) equals the reference
interpreter. Layers: odd depths and units, a batch of two, per-channel and per-tensor weights, a layer without
bias, asymmetric weights (weights_offset != 0), clamps; pools of 3 and 6 channels over two batch items; a softmax
behind the FC (compiled for size)."""

import subprocess

import numpy as np

from mcuforge.codegen.project import compile_model
from mcuforge.ops.fully_connected import SMALL_FC_MACS, small_fc_graph
from mcuforge.ops.pooling import SMALL_GLOBAL_POOL_VALUES, small_global_pools
from tests.builders import GraphBuilder
from tests.targets.conftest import (assert_builds_match_reference, assert_emulated_matches_reference,
                                    build_dsp_variants, random_batch)


def _fc(b, x, name, units, weights=None, bias=True, **attrs):
    depth = b.graph.tensors[x].shape[-1]
    w = weights or b.int8_weights(f"{name}_w", (units, depth), axis=0)
    inputs = [x, w]
    if bias:
        inputs.append(b.int32_bias(f"{name}_b", units, 0.05 * b.graph.tensors[w].quant.scale))
    return b.op("FULLY_CONNECTED", inputs, name, **attrs)


def _global_pool(b, x, name, **attrs):
    _, h, w, _ = b.graph.tensors[x].shape
    return b.op("AVERAGE_POOL_2D", [x], name, scale=0.05, zero_point=-6, padding="VALID", filter_height=h,
                filter_width=w, **attrs)


def small_layers(fc_depth: int = 13, pool_shape=(2, 3, 5, 6)):
    b = GraphBuilder(seed=41)
    x = b.input("x", (2, fc_depth), scale=0.05, zero_point=7)  # a batch of two rows, odd depth
    fc = _fc(b, x, "fc_relu", 5, scale=0.3, zero_point=-2, fused_activation_function="RELU")
    per_tensor = b.int8_weights("fc_nobias_w", (3, fc_depth), axis=None)
    no_bias = _fc(b, x, "fc_nobias", 3, weights=per_tensor, bias=False, scale=0.2, zero_point=5)
    asym = b.const("fc_asym_w", b.rng.integers(-128, 128, size=(4, fc_depth)), "int8", np.float32([0.01]),
                   np.int64([3]), 0)
    logits = _fc(b, x, "fc_asym", 4, weights=asym, scale=0.4, zero_point=1)
    softmax = b.op("SOFTMAX", [logits], "probs", scale=1 / 256, zero_point=-128)
    p6 = b.input("p6", pool_shape, scale=0.05, zero_point=-6)
    p3 = b.input("p3", (1, 7, 3, 3), scale=0.05, zero_point=-6)
    return b.build(fc, no_bias, softmax, _global_pool(b, p6, "gap6", fused_activation_function="RELU"),
                   _global_pool(b, p3, "gap3"))


def test_emitters_pick_the_small_entries_graph_wide(tmp_path):
    graph = small_layers()
    assert small_fc_graph(graph) and small_global_pools(graph)
    source = (compile_model(graph, tmp_path / "lib", name="net").outdir / "net.c").read_text()
    assert source.count("mcuforge_fully_connected_s8_small(") == 3
    assert source.count("mcuforge_global_avg_pool_s8_small(") == 2
    # one layer over either limit turns the whole graph to the DSP variants, so no build links both loops
    big_fc = small_layers(fc_depth=SMALL_FC_MACS // 2)
    assert not small_fc_graph(big_fc) and small_global_pools(big_fc)
    big_pool = small_layers(pool_shape=(1, 1, SMALL_GLOBAL_POOL_VALUES + 1, 1))
    assert small_fc_graph(big_pool) and not small_global_pools(big_pool)
    source = (compile_model(big_pool, tmp_path / "big", name="net").outdir / "net.c").read_text()
    assert "_small(" in source and "mcuforge_global_avg_pool_s8(" in source
    assert "mcuforge_global_avg_pool_s8_small(" not in source


def test_small_layers_match_reference_on_qemu(tmp_path):
    graph = small_layers()
    builds = build_dsp_variants(graph, tmp_path)
    symbols = subprocess.run(["arm-none-eabi-nm", str(builds["m4-dsp"].elf)], capture_output=True, text=True,
                             check=True).stdout.split()
    assert "mcuforge_fully_connected_s8_small" in symbols and "mcuforge_global_avg_pool_s8_small" in symbols
    assert "fc_dsp" not in symbols and "mcuforge_global_avg_pool_s8" not in symbols
    batch = random_batch(graph, 3, seed=2)
    batch.append([np.full(graph.tensors[n].shape, v, np.int8) for n, v in zip(graph.inputs, (127, -128, 127))])
    assert_builds_match_reference(graph, builds, batch)


def test_small_layers_under_sanitizers(tmp_path):
    graph = small_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, 3, seed=5))
