"""Sparse int8 weights in the generated C: a FULLY_CONNECTED whose weights are mostly zeros (e.g. after
magnitude pruning, compress/prune.py) stores them as a per-row bitmap plus the packed nonzeros, read by
kernels/fully_connected_sparse_s8.c, whenever that takes less flash than the dense [units, depth] bytes.

No PyTorch here: ops/fully_connected.py calls this while emitting C. The arithmetic is unchanged (a zero weight
adds exactly 0 to the accumulator), so the output is bit-exact with the dense kernel."""

from __future__ import annotations

import numpy as np

from mcuforge.quant.int4 import is_int4

KERNEL = "fully_connected_sparse_s8"


def pack_sparse(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[units, depth] int8 -> (bitmap uint8 [units * ceil(depth / 8)], nonzero values int8 in row-major order).
    Bit d % 8 of byte d // 8 of a row's bitmap is set when w[u][d] != 0."""
    w = np.asarray(weights)
    bitmap = np.packbits(w != 0, axis=1, bitorder="little")
    return bitmap.reshape(-1).astype(np.uint8), w[w != 0].astype(np.int8)


def unpack_sparse(bitmap: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The inverse of pack_sparse."""
    units, depth = shape
    nonzero = np.unpackbits(np.asarray(bitmap, np.uint8).reshape(units, -1), axis=1, bitorder="little")[:, :depth]
    w = np.zeros(shape, np.int8)
    w[nonzero.astype(bool)] = values
    return w


def sparse_bytes(weights: np.ndarray) -> int:
    """Flash bytes of the compressed form: bitmap + nonzeros."""
    units, depth = np.shape(weights)
    return units * ((depth + 7) // 8) + int(np.count_nonzero(weights))


# The sparse kernel walks a bitmap, several times slower per MAC than the dense one: only worth it for weights
# that were pruned (>= ~45% zeros), not for the 10-30% zeros ordinary quantized layers have.
MAX_SPARSE_FRACTION = 0.7


def use_sparse(tensor) -> bool:
    """True for constant 2-D symmetric int8 weights whose compressed form is at most MAX_SPARSE_FRACTION of the
    dense bytes."""
    if (tensor.dtype != "int8" or tensor.data is None or len(tensor.shape) != 2 or is_int4(tensor)
            or tensor.quant is None or tensor.quant.zero_point.any()):
        return False
    return sparse_bytes(tensor.data) <= MAX_SPARSE_FRACTION * tensor.data.size


def flash_saved(graph) -> dict[str, int]:
    """{weights tensor: dense bytes - compressed bytes} for every FULLY_CONNECTED whose weights go sparse."""
    saved = {}
    for op in graph.ops:
        if op.type != "FULLY_CONNECTED" or graph.tensors[op.inputs[0]].dtype != "int8":
            continue
        w = graph.tensors[op.inputs[1]]
        if use_sparse(w):
            saved[w.name] = int(w.data.size - sparse_bytes(w.data))
    return saved


def emit_sparse_fc(op, graph, ctx, dims: dict, bias: str, act_range: tuple[int, int], requant: dict) -> str:
    """The call of the sparse kernel; the bitmap and values are flash data counted as weights."""
    ctx.use_kernel(KERNEL)
    name = op.inputs[1]
    w = graph.tensors[name]
    bitmap, values = pack_sparse(w.data)
    symbols = []
    for hint, data, ctype, what in (("w_bitmap", bitmap, "uint8_t", "nonzero bitmap"),
                                    ("w_nonzeros", values, "int8_t", f"{values.size} nonzeros")):
        symbols.append(ctx.const_array(hint, data, ctype))
        ctx.arrays[-1].is_weight = True
        ctx.arrays[-1].comment = f"{name} {list(w.shape)}, sparse: {what}"
    params = ctx.params("mcuforge_fc_sparse_params", {
        **dims, "input_offset": -graph.tensors[op.inputs[0]].quant.scalar_zero_point,
        "output_offset": graph.tensors[op.outputs[0]].quant.scalar_zero_point,
        "act_min": act_range[0], "act_max": act_range[1], "requant": requant})
    args = f"{ctx.ptr(op.inputs[0])}, {symbols[0]}, {symbols[1]}, {bias}, {ctx.ptr(op.outputs[0])}"
    return f"mcuforge_fully_connected_sparse_s8({params}, {args});"
