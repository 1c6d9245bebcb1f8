"""CONV_2D with sparse int8 filters: a pruned conv (compress/prune.py) stores its OHWI filter in the sparse format
of quant/sparse.py (one bitmap row per output channel over its KH * KW * in_c / groups weights, plus the packed
nonzeros), read by kernels/conv_2d_sparse_s8.c, whenever that takes less flash than the dense filter
(quant.sparse.use_sparse, the rule FULLY_CONNECTED follows). Any kernel size, stride, dilation, padding and
groups; bit-exact with the dense kernel (a zero weight adds exactly 0). The kernel walks output rows in
increasing order and reads only taps inside the input, so the op's row_window holds for it too. A 1x1 filter in
one group (never padded) takes the pointwise kernel, a sparse matrix product with a DSP output stage; at stride 1
with more than SKIP_KERNEL_MAX_NONZERO_FRACTION nonzero weights (where that kernel is slower than the dense SIMD
one) and the fast output stage, the _dense entry point instead (kernels/conv_2d_sparse_dense_s8.c): blocks of filters
decoded into scratch, run by the dense SIMD kernel over the whole input (sparse storage, dense compute;
dense_compute below)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import output_activation_range
from mcuforge.ops.conv_common import (DSP_FOLDED, conv_int8_requant, dsp_pairs_scratch, geometry_fields,
                                      use_dense_conv_kernels)
from mcuforge.quant.sparse import SKIP_KERNEL_MAX_NONZERO_FRACTION, sparse_weights

KERNEL = "conv_2d_sparse_s8"
DENSE_KERNEL = "conv_2d_sparse_dense_s8"  # the _dense entry point


# The _dense entry point (kernels/conv_2d_sparse_dense_s8.h) decodes blocks of filters of up to DECODE_BYTES and
# runs the dense kernel on chunks of pixels of up to CHUNK_BYTES outputs: scratch bounded, each block widening the
# input again (~0.06 cycles a MAC at 32 filters a block).
DECODE_BYTES, CHUNK_BYTES = 4096, 2048


def _one_by_one(op: Op, graph: Graph) -> bool:
    """A 1x1 filter in one group, never padded, at any stride: the pointwise kernel's layers."""
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    geom = geometry_fields(op, graph)
    return w.shape[1] == w.shape[2] == 1 and x.shape[3] == w.shape[3] and geom["pad_top"] == geom["pad_left"] == 0


def _requant(op: Op, graph: Graph):
    """(dsp_requant, accumulator starts, (multipliers, shifts)) of the sparse kernels' params."""
    return conv_int8_requant(op, graph, folded_only=True, dsp=_one_by_one(op, graph))


def _fast(op: Op, graph: Graph) -> bool:
    """The pointwise kernel's DSP output stage holds: the folded form, clamp [-128, 127]."""
    return _requant(op, graph)[0] == DSP_FOLDED and output_activation_range(op, graph) == (-128, 127)


def dense_compute(op: Op, graph: Graph) -> bool:
    """A sparse conv (use_sparse) run by the _dense entry point: a pointwise layer at stride 1 with the fast output
    stage whose filter has more than SKIP_KERNEL_MAX_NONZERO_FRACTION nonzero weights. Its every block of filters
    reads the whole input: the output may not overlap it (row_window)."""
    w = graph.tensors[op.inputs[1]]
    geom = geometry_fields(op, graph)
    return (_one_by_one(op, graph) and geom["stride_h"] == geom["stride_w"] == 1
            and np.count_nonzero(w.data) > SKIP_KERNEL_MAX_NONZERO_FRACTION * w.data.size and _fast(op, graph))


def dense_compute_blocks(op: Op, graph: Graph) -> tuple[int, int]:
    """The _dense entry point's (filters a block, pixels a chunk): the most filters, an even count, whose decoded
    rows fit DECODE_BYTES (2 at least, out_c at most), and the most pixels whose outputs of a block fit CHUNK_BYTES
    (2 at least, the layer's at most)."""
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    k, out_c, pixels = w.shape[3], w.shape[0], x.shape[0] * x.shape[1] * x.shape[2]
    filters = min(max(DECODE_BYTES // k & ~1, 2), out_c)
    return filters, min(max(CHUNK_BYTES // filters, 2), pixels)


def dense_compute_scratch(op: Op, graph: Graph) -> int:
    """Scratch bytes of the _dense entry point: a block of filters decoded and 32 bytes of slack, a chunk's
    outputs, rounded up to 16 bytes, then the dense kernel's scratch for a block."""
    k = graph.tensors[op.inputs[1]].shape[3]
    filters, chunk = dense_compute_blocks(op, graph)
    return (filters * k + 32 + chunk * filters + 15) // 16 * 16 + dsp_pairs_scratch(k, filters)


def emit_sparse_conv(op: Op, graph: Graph, ctx) -> str:
    """The call of the sparse kernel; the bitmap and nonzeros are flash data counted as weights."""
    x, w, y = (graph.tensors[n] for n in (op.inputs[0], op.inputs[1], op.outputs[0]))
    ctx.use_kernel("conv_window")
    ctx.use_kernel("sparse_s8", rounding_neutral=True)
    ctx.use_kernel("dsp_s8", rounding_neutral=True)  # conv_2d_sparse_s8.c includes it: the DSP output stage
    ctx.use_kernel(KERNEL)
    bitmap, values = sparse_weights(ctx, op.inputs[1])
    lo, hi = output_activation_range(op, graph)
    groups = x.shape[3] // w.shape[3]
    # A 1x1 filter in one group is never padded: every pixel starts from the folded bias, the bias is not read,
    # so pruned channels may requantize their constant output the folded way; its kernel has the DSP output stage.
    form, start, requant = _requant(op, graph)
    params = ctx.params("mcuforge_conv_params", {
        "geom": geometry_fields(op, graph), "groups": groups,
        "input_offset": -x.quant.scalar_zero_point, "output_offset": y.quant.scalar_zero_point,
        "act_min": lo, "act_max": hi,
        "bias_folded": ctx.const_array("bias_folded", start),
        "requant": ctx.requant(*requant), "dsp_requant": form})
    args = f"{params}, {ctx.ptr(op.inputs[0])}, {bitmap}, {values}"
    if dense_compute(op, graph):  # its own file, which ships the dense kernel too (conv_2d_s8.c and its parts)
        use_dense_conv_kernels(ctx)
        ctx.use_kernel(DENSE_KERNEL)
        filters, chunk = dense_compute_blocks(op, graph)
        out = ctx.ptr(op.outputs[0])
        return f"mcuforge_conv_sparse_1x1_s8_dense({args}, {out}, {ctx.scratch()}, {filters}, {chunk});"
    if _one_by_one(op, graph):
        fast = "_fast" if _fast(op, graph) else ""
        return f"mcuforge_conv_sparse_1x1_s8{fast}({args}, {ctx.ptr(op.outputs[0])});"
    bias = ctx.optional_ptr(op.inputs[2] if len(op.inputs) > 2 else "")
    return f"mcuforge_conv_sparse_s8({args}, {bias}, {ctx.ptr(op.outputs[0])});"
