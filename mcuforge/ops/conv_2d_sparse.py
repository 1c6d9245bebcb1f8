"""CONV_2D with sparse int8 filters: a pruned conv (compress/prune.py) stores its OHWI filter in the sparse format
of quant/sparse.py (one bitmap row per output channel over its KH * KW * in_c / groups weights, plus the packed
nonzeros), read by kernels/conv_2d_sparse_s8.c, whenever that takes less flash than the dense filter
(quant.sparse.use_sparse, the rule FULLY_CONNECTED follows). Any kernel size, stride, dilation, padding and
groups; bit-exact with the dense kernel (a zero weight adds exactly 0). The kernel walks output rows in
increasing order and reads only taps inside the input, so the op's row_window holds for it too. A 1x1 filter in
one group (never padded) takes the pointwise kernel, a sparse matrix product with a DSP output stage."""

from __future__ import annotations

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import output_activation_range
from mcuforge.ops.conv_common import DSP_FOLDED, conv_int8_requant, geometry_fields
from mcuforge.quant.sparse import sparse_weights

KERNEL = "conv_2d_sparse_s8"


def emit_sparse_conv(op: Op, graph: Graph, ctx) -> str:
    """The call of the sparse kernel; the bitmap and nonzeros are flash data counted as weights."""
    x, w, y = (graph.tensors[n] for n in (op.inputs[0], op.inputs[1], op.outputs[0]))
    ctx.use_kernel("conv_window")
    ctx.use_kernel("sparse_s8", rounding_neutral=True)
    ctx.use_kernel("dsp_s8", rounding_neutral=True)  # conv_2d_sparse_s8.c includes it: the DSP output stage
    ctx.use_kernel(KERNEL)
    bitmap, values = sparse_weights(ctx, op.inputs[1])
    lo, hi = output_activation_range(op, graph)
    geom = geometry_fields(op, graph)
    groups = x.shape[3] // w.shape[3]
    # A 1x1 filter in one group is never padded: every pixel starts from the folded bias, the bias is not read,
    # so pruned channels may requantize their constant output the folded way; its kernel has the DSP output stage.
    pointwise = w.shape[1] == w.shape[2] == 1 and groups == 1 and geom["pad_top"] == geom["pad_left"] == 0
    form, start, requant = conv_int8_requant(op, graph, folded_only=True, dsp=pointwise)
    params = ctx.params("mcuforge_conv_params", {
        "geom": geom, "groups": groups,
        "input_offset": -x.quant.scalar_zero_point, "output_offset": y.quant.scalar_zero_point,
        "act_min": lo, "act_max": hi,
        "bias_folded": ctx.const_array("bias_folded", start),
        "requant": ctx.requant(*requant), "dsp_requant": form})
    args = f"{params}, {ctx.ptr(op.inputs[0])}, {bitmap}, {values}"
    if pointwise:
        fast = "_fast" if form == DSP_FOLDED and (lo, hi) == (-128, 127) else ""
        return f"mcuforge_conv_sparse_1x1_s8{fast}({args}, {ctx.ptr(op.outputs[0])});"
    bias = ctx.optional_ptr(op.inputs[2] if len(op.inputs) > 2 else "")
    return f"mcuforge_conv_sparse_s8({args}, {bias}, {ctx.ptr(op.outputs[0])});"
