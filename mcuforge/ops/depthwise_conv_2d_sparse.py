"""DEPTHWISE_CONV_2D with sparse int8 filters: a pruned depthwise filter [1, KH, KW, out_c] is stored in the sparse
format of quant/sparse.py with one bitmap row of KH * KW taps per output channel, read by
kernels/depthwise_conv_2d_sparse_s8.c, whenever that takes less flash than the dense filter (quant.sparse's rule:
a 3x3 filter needs about 2/3 zeros). Any geometry and depth multiplier; bit-exact with the dense kernel. The
kernel walks output rows in increasing order and reads only taps inside the input: the op's row_window holds.
That kernel walks the bitmap at every output pixel: on DS-CNN's 3x3x64 layers (Cortex-M4, 75% zeros) ~32x the
dense DSP kernel's cycles, 5.2x the portable one's. So a layer whose dense kernel would run its DSP variant
(ops/depthwise_conv_2d.py decides and picks the entry) takes a _dense entry point instead
(kernels/depthwise_conv_2d_sparse_dense_s8.c, "sparse storage, dense compute"): the whole filter (KH * KW * C
bytes) is decoded into scratch in the dense layout once per call, then run by the dense entry the layer would take
dense (its DSP variant: 1.02x the dense layer's cycles; on cores without DSP its portable code). The dense kernel
keeps the row window."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import output_activation_range
from mcuforge.ops.conv_common import folded_bias, geometry_fields, output_multipliers
from mcuforge.quant.sparse import SPARSE_OPS, sparse_weights

KERNEL = "depthwise_conv_2d_sparse_s8"
DENSE_KERNEL = "depthwise_conv_2d_sparse_dense_s8"  # the _dense entry points
DENSE_KERNEL_STEM = "depthwise_conv_2d_s8"  # the dense kernel they run
CHANNEL_AXIS = SPARSE_OPS["DEPTHWISE_CONV_2D"]


def emit_sparse_depthwise(op: Op, graph: Graph, ctx, dense: tuple[int, np.ndarray, str] | None = None) -> str:
    """The call of the sparse kernel; the bitmap and nonzeros are flash data counted as weights. `dense`: the
    (dsp_requant, bias_folded, entry suffix) of the dense kernel's DSP variant when the layer would run it dense
    (ops/depthwise_conv_2d.py decides), so that a _dense entry decodes the filter for it."""
    x, w, y = (graph.tensors[n] for n in (op.inputs[0], op.inputs[1], op.outputs[0]))
    ctx.use_kernel("conv_window")
    ctx.use_kernel("sparse_s8", rounding_neutral=True)
    ctx.use_kernel(KERNEL)
    bitmap, values = sparse_weights(ctx, op.inputs[1], CHANNEL_AXIS)
    lo, hi = output_activation_range(op, graph)
    if dense is None:
        start = folded_bias(op, graph, w.data.reshape(-1, w.shape[3]).sum(axis=0, dtype="int64"))
    else:
        dsp, start, entry = dense  # start: the dense kernel's, pruned channels' maybe clipped (same outputs)
    fields = {
        "geom": geometry_fields(op, graph), "depth_multiplier": w.shape[3] // x.shape[3],
        "input_offset": -x.quant.scalar_zero_point, "output_offset": y.quant.scalar_zero_point,
        "act_min": lo, "act_max": hi,
        "bias_folded": ctx.const_array("bias_folded", start),
        "requant": ctx.requant(*output_multipliers(op, graph, w.shape[3]))}
    bias = ctx.optional_ptr(op.inputs[2] if len(op.inputs) > 2 else "")
    args = f"{ctx.ptr(op.inputs[0])}, {bitmap}, {values}, {bias}, {ctx.ptr(op.outputs[0])}"
    if dense is None:
        return f"mcuforge_depthwise_conv_sparse_s8({ctx.params('mcuforge_depthwise_conv_params', fields)}, {args});"
    # its own file, which ships the dense kernel too
    ctx.use_kernel("dsp_s8", rounding_neutral=True)
    ctx.use_kernel(DENSE_KERNEL_STEM)
    ctx.use_kernel(DENSE_KERNEL)
    params = ctx.params("mcuforge_depthwise_conv_params", {**fields, "dsp_requant": dsp})
    return f"mcuforge_depthwise_conv_sparse_s8_dense{entry}({params}, {args}, {ctx.scratch()});"
