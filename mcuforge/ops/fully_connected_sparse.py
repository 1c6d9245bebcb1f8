"""FULLY_CONNECTED with sparse int8 weights: a layer whose weights are mostly zeros (e.g. after magnitude
pruning, compress/prune.py) stores them in the sparse format of quant/sparse.py (a per-row bitmap plus the packed
nonzeros), read by kernels/fully_connected_sparse_s8.c, whenever that takes less flash than the dense
[units, depth] bytes (quant.sparse.use_sparse). Bit-exact with the dense kernel: a zero weight adds exactly 0."""

from __future__ import annotations

from mcuforge.quant.sparse import sparse_weights, use_sparse  # noqa: F401  (use_sparse: fully_connected's rule)

KERNEL = "fully_connected_sparse_s8"


def emit_sparse_fc(op, graph, ctx, dims: dict, bias: str, act_range: tuple[int, int], requant: dict) -> str:
    """The call of the sparse kernel; the bitmap and nonzeros are flash data counted as weights."""
    ctx.use_kernel("sparse_s8", rounding_neutral=True)
    ctx.use_kernel(KERNEL)
    bitmap, values = sparse_weights(ctx, op.inputs[1])
    params = ctx.params("mcuforge_fc_sparse_params", {
        **dims, "input_offset": -graph.tensors[op.inputs[0]].quant.scalar_zero_point,
        "output_offset": graph.tensors[op.outputs[0]].quant.scalar_zero_point,
        "act_min": act_range[0], "act_max": act_range[1], "requant": requant})
    args = f"{ctx.ptr(op.inputs[0])}, {bitmap}, {values}, {bias}, {ctx.ptr(op.outputs[0])}"
    return f"mcuforge_fully_connected_sparse_s8({params}, {args});"
