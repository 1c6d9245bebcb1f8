"""The pointwise conv's 3x2 tiles (kernels/dsp_gemm_s8.h, the _tiles entry point) against the reference, bit for
bit, on QEMU (Cortex-M4 with the assembly, in C, without the DSP extension; Cortex-M7) and emulated on the host
under ASan/UBSan.

The layers reach each way into the tiles' eight-group loop (k / 4 mod 8 = 0..7, one loop pass and several), one
pass of tiles and several with a shorter last one (MCUFORGE_DSP_TILES_PER_PASS: k = 116 is the deepest layer with
tiles, six a pass; MCUFORGE_DSP_TILES_EVEN evens the passes out), odd and even group counts (the rows widen two
groups a step), pixel counts that leave 0, 1 and 2 pixels to the pairs, one filter pair and many, a batch of two
images, and the fast output stage at its edges: TFLite shifts -1 and -22, and accumulators of -1 at a
multiplier of exactly 2^30. Layers that keep the pairs (odd filter count, k not a multiple of 4, k = 120, fewer
than three pixels, a model with sparse conv weights) take the _fast entry point."""

import numpy as np
import pytest

from mcuforge.codegen.project import compile_model
from mcuforge.ops import conv_2d
from tests.builders import GraphBuilder
from tests.targets.conftest import (assert_builds_match_reference, assert_emulated_matches_reference,
                                    build_dsp_variants, int8_conv, random_batch)

RECORDS = 3
# (pixels as (batches, h, w), k, filters): pixels mod 3 = 0, 1, 2; k / 4 mod 8 = 0..7; passes of tiles: one (k
# small), several (k = 64: 14 tiles, two passes of 7) with a shorter last one (k = 116: 7 tiles, passes of 4 and 3)
TILED = [((1, 3, 5), 4, 2), ((1, 4, 4), 8, 4), ((1, 2, 7), 12, 6), ((1, 3, 3), 16, 2), ((1, 5, 5), 20, 8),
         ((1, 1, 3), 24, 2), ((1, 2, 5), 28, 4), ((1, 7, 6), 64, 6), ((2, 2, 4), 36, 4), ((1, 7, 3), 116, 4),
         ((1, 5, 1), 92, 2)]
# The same entry point's shapes that keep the pairs.
UNTILED = [((1, 3, 5), 16, 3), ((1, 3, 5), 18, 4), ((1, 3, 5), 120, 2), ((1, 1, 2), 16, 4)]
EDGE_CHANNELS = 16  # channels at multiplier 2^30 whose accumulator is one input value (or its negation)


def _random_pointwise(b, shape, k, filters, name):
    x = b.input(f"x_{name}", (*shape, k), scale=0.05, zero_point=-9)
    weights = b.rng.integers(-127, 128, size=(filters, 1, 1, k))
    return int8_conv(b, x, name, weights, b.rng.uniform(0.002, 0.02, filters),
                     b.rng.integers(-3000, 3000, size=filters), scale=0.1, zero_point=4)


def tile_layers():
    b = GraphBuilder(seed=47)
    outs = [_random_pointwise(b, shape, k, n, f"t{k}_{n}") for shape, k, n in TILED + UNTILED]
    # The fast stage's edges (as tests/targets/test_dsp_conv.py), an even filter count: 16 edge channels, then
    # TFLite shifts -1 (0.3) and -22 (0.7 2^-22), and 20 more random filters (the weights then stay dense: a model
    # with sparse conv weights keeps the pairs), over 8 x 7 pixels (two left to the pairs).
    x = b.input("x_edge", (1, 8, 7, EDGE_CHANNELS), scale=0.0625, zero_point=0)
    weights = np.zeros((EDGE_CHANNELS + 24, 1, 1, EDGE_CHANNELS), np.int64)
    for j in range(EDGE_CHANNELS):
        weights[j, 0, 0, j] = 1 if j % 2 else -1
    weights[EDGE_CHANNELS:] = b.rng.integers(-127, 128, size=(24, 1, 1, EDGE_CHANNELS))
    scales = [2.0 ** -5] * EDGE_CHANNELS + [0.3, 0.7 * 2.0 ** -22, 0.3 * 2.0 ** -21, 0.3] + [0.01] * 20
    bias = [0] * EDGE_CHANNELS + [-20, 5, -(1 << 20), 7] + [100] * 20
    outs.append(int8_conv(b, x, "t_edges", weights, scales, bias, scale=0.0625, zero_point=0))
    return b.build(*outs)


def _entry(graph, name):
    op = next(op for op in graph.ops if op.outputs[0] == name)
    return conv_2d._dsp_entry(op, graph, conv_2d._dsp_requant(op, graph)[0])


def test_layers_take_the_intended_entry_points():
    graph = tile_layers()
    assert all(_entry(graph, f"t{k}_{n}") == "_tiles" for _, k, n in TILED)
    assert all(_entry(graph, f"t{k}_{n}") == "_fast" for _, k, n in UNTILED)
    assert _entry(graph, "t_edges") == "_tiles"


def even_tiles_per_pass(k, pixels):
    """MCUFORGE_DSP_TILES_EVEN: the fewest passes of at most TILES_BYTES of tiles, as even as they go."""
    most = conv_2d.TILES_BYTES // (6 * k)
    assert most >= conv_2d.TILES_MIN and 4 * k < conv_2d.TILES_ALIGN
    tiles = pixels // 3
    passes = (tiles + most - 1) // most
    per_pass = (tiles + passes - 1) // passes
    assert per_pass <= most and (passes - 1) * per_pass < tiles <= passes * per_pass
    return per_pass


def test_tiles_reserve_their_scratch():
    """The channel table, a pass of tiles and the pair's rows, aligned, fit the layer's scratch (ops/conv_2d.py
    mirrors MCUFORGE_DSP_TILES_EVEN), and no more than that."""
    graph = tile_layers()
    for shape, k, n in TILED:
        op = next(op for op in graph.ops if op.outputs[0] == f"t{k}_{n}")
        need = 20 * n + 6 * k * even_tiles_per_pass(k, int(np.prod(shape))) + 4 * k + conv_2d.TILES_ALIGN - 4
        assert need <= conv_2d.scratch_bytes(op, graph) <= need + 4


def test_a_model_with_sparse_conv_weights_keeps_the_pairs():
    b = GraphBuilder(seed=5)
    x = b.input("x", (1, 4, 4, 64), scale=0.05, zero_point=0)
    dense = int8_conv(b, x, "dense", b.rng.integers(-127, 128, size=(8, 1, 1, 64)), [0.01] * 8, [0] * 8, scale=0.1,
                  zero_point=0)
    pruned = np.zeros((64, 1, 1, 8), np.int64)
    pruned[::8, 0, 0, 0] = 50
    sparse = int8_conv(b, dense, "pruned", pruned, [0.01] * 64, [0] * 64, scale=0.1, zero_point=0)
    graph = b.build(sparse)
    assert conv_2d.sparse_op_weights(graph.ops[1], graph) is not None
    assert _entry(graph, "dense") == "_fast"


def test_edge_channels_meet_accumulators_of_minus_one():
    graph = tile_layers()
    index = graph.inputs.index("x_edge")
    hits = 0
    for record in random_batch(graph, RECORDS, seed=8):
        x = record[index].astype(np.int64).reshape(-1, EDGE_CHANNELS)
        signs = np.array([1 if j % 2 else -1 for j in range(EDGE_CHANNELS)])
        hits += int(np.count_nonzero(x * signs == -1))
    assert hits >= 4, hits


def test_entry_point_in_the_generated_code(tmp_path):
    source = (compile_model(tile_layers(), tmp_path / "lib", name="net").outdir / "net.c").read_text()
    assert source.count("mcuforge_conv_1x1_s8_tiles(") == len(TILED) + 1


@pytest.mark.parametrize("key", ["m4-dsp", "m4-portable", "m4-dsp-c", "m7-dsp"])
def test_layers_match_reference_on_qemu(key, tmp_path):
    graph = tile_layers()
    assert_builds_match_reference(graph, build_dsp_variants(graph, tmp_path, keys=(key,)),
                                  random_batch(graph, RECORDS, seed=8))


def test_emulated_under_sanitizers(tmp_path):
    graph = tile_layers()
    assert_emulated_matches_reference(graph, tmp_path, random_batch(graph, RECORDS, seed=8))
