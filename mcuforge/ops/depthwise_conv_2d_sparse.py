"""DEPTHWISE_CONV_2D with sparse int8 filters: a pruned depthwise filter [1, KH, KW, out_c] is stored in the sparse
format of quant/sparse.py with one bitmap row of KH * KW taps per output channel, read by
kernels/depthwise_conv_2d_sparse_s8.c, whenever that takes less flash than the dense filter (quant.sparse's rule:
a 3x3 filter needs about 2/3 zeros). Any geometry and depth multiplier; bit-exact with the dense kernel. The
kernel walks output rows in increasing order and reads only taps inside the input: the op's row_window holds."""

from __future__ import annotations

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import output_activation_range
from mcuforge.ops.conv_common import folded_bias, geometry_fields, output_multipliers
from mcuforge.quant.sparse import SPARSE_OPS, sparse_weights

KERNEL = "depthwise_conv_2d_sparse_s8"
CHANNEL_AXIS = SPARSE_OPS["DEPTHWISE_CONV_2D"]


def emit_sparse_depthwise(op: Op, graph: Graph, ctx) -> str:
    """The call of the sparse kernel; the bitmap and nonzeros are flash data counted as weights."""
    x, w, y = (graph.tensors[n] for n in (op.inputs[0], op.inputs[1], op.outputs[0]))
    ctx.use_kernel("conv_window")
    ctx.use_kernel("sparse_s8", rounding_neutral=True)
    ctx.use_kernel(KERNEL)
    bitmap, values = sparse_weights(ctx, op.inputs[1], CHANNEL_AXIS)
    lo, hi = output_activation_range(op, graph)
    filter_sums = w.data.reshape(-1, w.shape[3]).sum(axis=0, dtype="int64")
    params = ctx.params("mcuforge_depthwise_conv_params", {
        "geom": geometry_fields(op, graph), "depth_multiplier": w.shape[3] // x.shape[3],
        "input_offset": -x.quant.scalar_zero_point, "output_offset": y.quant.scalar_zero_point,
        "act_min": lo, "act_max": hi,
        "bias_folded": ctx.const_array("bias_folded", folded_bias(op, graph, filter_sums)),
        "requant": ctx.requant(*output_multipliers(op, graph, w.shape[3]))})
    bias = ctx.optional_ptr(op.inputs[2] if len(op.inputs) > 2 else "")
    return (f"mcuforge_depthwise_conv_sparse_s8({params}, {ctx.ptr(op.inputs[0])}, {bitmap}, {values}, {bias}, "
            f"{ctx.ptr(op.outputs[0])});")
