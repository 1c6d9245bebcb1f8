"""Sparse int8 weights in the generated C: one storage format for every op that has a sparse kernel
(FULLY_CONNECTED: kernels/fully_connected_sparse_s8.c, CONV_2D: conv_2d_sparse_s8.c, DEPTHWISE_CONV_2D:
depthwise_conv_2d_sparse_s8.c; all walk the bitmap with sparse_s8.c), or decoded per call for the dense DSP
kernels ("sparse storage, dense compute": conv_2d_sparse_dense_s8.c, depthwise_conv_2d_sparse_dense_s8.c).

The weights are viewed as a 2-D matrix, one row per output channel (FC [units, depth]; CONV_2D's OHWI filter
[out_c, KH * KW * in_c / groups] and DEPTHWISE_CONV_2D's [1, KH, KW, out_c] filter as [out_c, KH * KW], in the
order the kernels walk a window), and stored as
- a bitmap of ceil(depth / 8) bytes per row, bit d % 8 of byte d // 8 set when w[row][d] != 0, then
- the nonzero weights, row after row, each row's in increasing d.
An op stores its weights so whenever that takes at most MAX_SPARSE_FRACTION of the dense bytes (magnitude-pruned
layers, compress/prune.py), unless the code is generated with sparse storage "off" (`sparse_storage`: the sparse
kernels are mostly slower than the dense SIMD ones, see MAX_SPARSE_FRACTION) or "speed" (only where they are
faster: MAX_FAST_NONZERO_FRACTION). The arithmetic is unchanged (a zero weight
adds exactly 0 to the accumulator), so the sparse kernels are bit-exact with the dense ones. No PyTorch here: the
op emitters call this while emitting C."""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from mcuforge.quant.int4 import is_int4

# Only pruned weights qualify (>= ~45% zeros with whole bitmap bytes), not the 10-30% zeros ordinary quantized
# layers have. The rule trades speed for flash: the sparse kernels skip zero weights but cost ~3x more per
# nonzero MAC than the dense SIMD ones. Measured (benchmarks/sparse_storage.py, Cortex-M4, magnitude-pruned
# ResNet-8): 3.5x the dense cycles at 50% zeros, 2.4x at 75%, 1.7x at 90%; against the portable kernels (no DSP:
# M0+, M3) 1.3x, 0.90x and 0.67x. 1x1 convs have a pointwise sparse kernel (four pixels per nonzero weight):
# 0.3-0.9x the dense SIMD cycles at 90-99% zeros (vww), ~1x at 85%; with more than
# SKIP_KERNEL_MAX_NONZERO_FRACTION nonzeros they decode blocks of filters and run the dense SIMD kernel instead
# (ops/conv_2d_sparse.py, "sparse storage, dense compute": ~1.15x the dense cycles, and its code is linked, ~2.6 KB
# when no dense conv needed it).
# A sparse depthwise filter whose dense kernel would run its DSP variant (3x3, depth multiplier 1) is decoded whole
# into scratch per call and run by the dense kernel (ops/depthwise_conv_2d_sparse.py: DS-CNN's 3x3x64 layers 1.02x
# the dense cycles on a Cortex-M4, where the sparse kernel took ~32x, and 5.2x the portable kernel's on cores
# without DSP; the dense kernel's code is linked, ~1.3 KB); the others run the sparse kernel. `sparse="off"` opts
# out.
MAX_SPARSE_FRACTION = 0.7

# Ops with a sparse int8 kernel (int8 input, int8 weights as input 1): the output-channel axis of their weights.
SPARSE_OPS = {"FULLY_CONNECTED": 0, "CONV_2D": 0, "DEPTHWISE_CONV_2D": 3}

# The pointwise sparse ("skip") kernel costs ~0.4 + 7 x the nonzero fraction cycles per dense MAC on a Cortex-M4,
# the dense SIMD pairs ~1.3-1.45. "speed" stores sparse only what the sparse kernels also run faster than the dense
# ones: 1x1 conv filters with at most MAX_FAST_NONZERO_FRACTION nonzero weights (break-even ~15%; 13% keeps a
# margin). A sparse 1x1 conv with more than SKIP_KERNEL_MAX_NONZERO_FRACTION ("auto") decodes its filters for the
# dense SIMD kernel instead (ops/conv_2d_sparse.py dense_compute: ~1.5-1.6 cycles a MAC where the skip kernel takes
# 1.4-1.45 at 15%, 1.65-1.8 at 20%, 3.0 at 36% nonzeros: they break even at ~17%).
MAX_FAST_NONZERO_FRACTION = 0.13
SKIP_KERNEL_MAX_NONZERO_FRACTION = 0.17

# "auto": weights go sparse where that saves flash (use_sparse's rule); "speed": only where it also saves cycles;
# "off": always dense.
SPARSE_MODES = ("auto", "speed", "off")
_MODE = contextvars.ContextVar("mcuforge_sparse_storage", default="auto")


def sparse_mode() -> str:
    """The storage mode the code being generated uses: "auto", "speed" or "off"."""
    return _MODE.get()


def check_sparse_mode(mode: str) -> str:
    if mode not in SPARSE_MODES:
        raise ValueError(f"sparse must be one of {', '.join(SPARSE_MODES)}, got {mode!r}")
    return mode


@contextlib.contextmanager
def sparse_storage(mode: str):
    """Generate code (plan the arena, emit the ops) with sparse storage `mode`: the planner's scratch rules and
    the emitters both ask use_sparse, so they agree on which layers are sparse."""
    token = _MODE.set(check_sparse_mode(mode))
    try:
        yield
    finally:
        _MODE.reset(token)


def weight_rows(weights: np.ndarray, axis: int = 0) -> np.ndarray:
    """The 2-D view the format stores: one row per output channel (`axis`), the other axes flattened in order."""
    w = np.moveaxis(np.asarray(weights), axis, 0)
    return w.reshape(w.shape[0], -1)


def pack_sparse(weights: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Weights int8 -> (bitmap uint8 [rows * ceil(depth / 8)], nonzero values int8 in row-major order) of their
    weight_rows [rows, depth]."""
    w = weight_rows(weights, axis)
    bitmap = np.packbits(w != 0, axis=1, bitorder="little")
    return bitmap.reshape(-1).astype(np.uint8), w[w != 0].astype(np.int8)


def unpack_sparse(bitmap: np.ndarray, values: np.ndarray, shape: tuple[int, ...], axis: int = 0) -> np.ndarray:
    """The inverse of pack_sparse, back to `shape`."""
    moved = (shape[axis],) + tuple(n for k, n in enumerate(shape) if k != axis)
    rows, depth = moved[0], int(np.prod(moved[1:], dtype=np.int64))
    nonzero = np.unpackbits(np.asarray(bitmap, np.uint8).reshape(rows, -1), axis=1, bitorder="little")[:, :depth]
    w = np.zeros((rows, depth), np.int8)
    w[nonzero.astype(bool)] = values
    return np.moveaxis(w.reshape(moved), 0, axis)


def sparse_bytes(weights: np.ndarray, axis: int = 0) -> int:
    """Flash bytes of the compressed form: bitmap + nonzeros."""
    w = weight_rows(weights, axis)
    return w.shape[0] * ((w.shape[1] + 7) // 8) + int(np.count_nonzero(w))


def use_sparse(tensor, axis: int = 0, one_group: bool = True) -> bool:
    """True for constant symmetric int8 weights (not INT4) whose compressed form, one row per index of `axis`,
    is at most MAX_SPARSE_FRACTION of the dense bytes, unless sparse storage is "off" (sparse_storage); with
    "speed", only the filters of 1x1 convs in `one_group` (the pointwise sparse kernel's) with at most
    MAX_FAST_NONZERO_FRACTION nonzero weights."""
    mode = sparse_mode()
    if (mode == "off" or tensor.dtype != "int8" or tensor.data is None or len(tensor.shape) < 2
            or is_int4(tensor) or tensor.quant is None or tensor.quant.zero_point.any()):
        return False
    if mode == "speed" and not (one_group and len(tensor.shape) == 4 and axis == 0 and tensor.shape[1:3] == (1, 1)
                                and np.count_nonzero(tensor.data) <= MAX_FAST_NONZERO_FRACTION * tensor.data.size):
        return False
    return sparse_bytes(tensor.data, axis) <= MAX_SPARSE_FRACTION * tensor.data.size


def sparse_op_weights(op, graph):
    """The weights tensor an op stores sparse, or None (another op type, float input, or dense is smaller)."""
    axis = SPARSE_OPS.get(op.type)
    if axis is None or graph.tensors[op.inputs[0]].dtype != "int8":
        return None
    w = graph.tensors[op.inputs[1]]
    one_group = op.type != "CONV_2D" or graph.tensors[op.inputs[0]].shape[3] == w.shape[3]
    return w if use_sparse(w, axis, one_group) else None


def flash_saved(graph) -> dict[str, int]:
    """{weights tensor: dense bytes - compressed bytes} for every op whose weights go sparse."""
    saved = {}
    for op in graph.ops:
        w = sparse_op_weights(op, graph)
        if w is not None:
            saved[w.name] = int(w.data.size - sparse_bytes(w.data, SPARSE_OPS[op.type]))
    return saved


def sparse_weights(ctx, tensor_name: str, axis: int = 0) -> tuple[str, str]:
    """Emit a weights tensor in the sparse format, one row per index of `axis` (flash data or weights blob,
    counted as weights, once however many ops read it) and return the symbols of (bitmap, nonzeros)."""
    w = ctx.graph.tensors[tensor_name]
    bitmap, values = pack_sparse(w.data, axis)
    return (ctx.weights(tensor_name, bitmap, "uint8_t", "sparse: nonzero bitmap"),
            ctx.weights(tensor_name, values, "int8_t", f"sparse: {values.size} nonzeros"))
