"""DEPTHWISE_CONV_2D: NHWC input, filter [1, KH, KW, C * M] with depth multiplier M, optional bias; int8
(per-channel scales on axis 3, or per-tensor; int32 bias) or float32.

Output channel c * M + m filters input channel c (TFLite's DepthwiseConvPerChannel). The reference kernel
sums KH * KW shifted views of the padded input: in float64 for int8 (exact), in float32 for float32 (TFLite's
reference order, bit-exact)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import output_activation_range, require
from mcuforge.ops.conv_common import (CONV_ATTRS, DSP_FOLDED, DSP_GENERAL, centered_input, check_conv_tensors,
                                      check_window_attrs, conv_geometry, dsp_requant, finish_conv,
                                      float_activation_range, folded_bias, geometry_fields, output_multipliers,
                                      row_window)
from mcuforge.ops.depthwise_conv_2d_sparse import CHANNEL_AXIS, emit_sparse_depthwise
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant.int4 import is_int4, packed_weights
from mcuforge.quant.sparse import use_sparse

ROW_BLOCK_ENTRIES = {5: "_fast_w5"}  # stride-1 row lengths the fast DSP variant computes in one block


def infer_shapes(op: Op, graph: Graph):
    check_window_attrs(op, graph)
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    require(w.shape[0] == 1, op, graph, f"filter must be [1, KH, KW, C*M], got {list(w.shape)}")
    in_channels, out_channels = x.shape[3], w.shape[3]
    require(out_channels % in_channels == 0, op, graph,
            f"filter channels {out_channels} are not a multiple of input channels {in_channels}")
    # LiteRT derives M from the shapes, TFLite Micro reads the attribute: a model is only portable if they agree.
    require(op.attrs["depth_multiplier"] == out_channels // in_channels, op, graph,
            f"depth_multiplier {op.attrs['depth_multiplier']} disagrees with {out_channels} filter channels "
            f"over {in_channels} input channels")
    geom = conv_geometry(op, graph)
    require(geom.out_h > 0 and geom.out_w > 0, op, graph,
            f"a {w.shape[1]}x{w.shape[2]} filter (dilation {op.attrs['dilation_h_factor']}x"
            f"{op.attrs['dilation_w_factor']}) does not fit the {x.shape[1]}x{x.shape[2]} input")
    return [(x.shape[0], geom.out_h, geom.out_w, out_channels)]


def check(op: Op, graph: Graph) -> None:
    check_conv_tensors(op, graph, channels=graph.tensors[op.inputs[1]].shape[3], quant_axis=3)


def reference(op: Op, graph: Graph, inputs):
    x, w = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    geom = conv_geometry(op, graph)
    multiplier = w.shape[3] // x.shape[3]
    # float32: TFLite's reference DepthwiseConv sums one float32 product per tap in (ky, kx) order, as here
    # (a padded tap adds 0 * w, which changes no sum); int8: float64, exact.
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    padded = geom.padded(x if dtype == np.float32 else centered_input(op, graph, x))
    if multiplier > 1:
        padded = np.repeat(padded, multiplier, axis=3)  # channel c feeds outputs c*M .. c*M + M - 1
    filters = w.astype(dtype)
    acc = np.zeros((x.shape[0], geom.out_h, geom.out_w, w.shape[3]), dtype)
    for ky in range(geom.kernel_h):
        for kx in range(geom.kernel_w):
            acc += geom.tap(padded, ky, kx) * filters[0, ky, kx]
    return [finish_conv(op, graph, acc, bias)]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    x, w, y = (graph.tensors[n] for n in (op.inputs[0], op.inputs[1], op.outputs[0]))
    fields = {"geom": geometry_fields(op, graph), "depth_multiplier": w.shape[3] // x.shape[3]}
    ctx.use_kernel("conv_window")
    if x.dtype == "int8" and is_int4(w):
        return _emit_s4(op, graph, ctx, fields)
    if x.dtype == "int8" and use_sparse(w, CHANNEL_AXIS):  # pruned filters (ops/depthwise_conv_2d_sparse.py)
        dsp, start = _dsp_requant(op, graph)  # a DSP variant: decoded for the dense kernel
        return emit_sparse_depthwise(op, graph, ctx, (dsp, start, _kernel_entry(op, graph, dsp)) if dsp else None)
    args = (f"{ctx.ptr(op.inputs[0])}, {ctx.ptr(op.inputs[1])}, "
            f"{ctx.optional_ptr(op.inputs[2] if len(op.inputs) > 2 else '')}, {ctx.ptr(op.outputs[0])}")
    if x.dtype == "float32":
        ctx.use_kernel("depthwise_conv_2d_f32")
        lo, hi = float_activation_range(op, graph)
        params = ctx.params("mcuforge_depthwise_conv_f32_params", {**fields, "act_min": lo, "act_max": hi})
        return f"mcuforge_depthwise_conv_f32({params}, {args});"
    ctx.use_kernel("dsp_s8", rounding_neutral=True)  # depthwise_conv_2d_s8.h includes it: the DSP variant
    ctx.use_kernel("depthwise_conv_2d_s8")
    lo, hi = output_activation_range(op, graph)
    dsp, bias_folded = _dsp_requant(op, graph)
    params = ctx.params("mcuforge_depthwise_conv_params", {
        **fields, "input_offset": -x.quant.scalar_zero_point, "output_offset": y.quant.scalar_zero_point,
        "act_min": lo, "act_max": hi, "bias_folded": ctx.const_array("bias_folded", bias_folded),
        "requant": ctx.requant(*output_multipliers(op, graph, w.shape[3])), "dsp_requant": dsp})
    fast = _kernel_entry(op, graph, dsp)
    return f"mcuforge_depthwise_conv_s8{fast}({params}, {args}, {ctx.scratch() if dsp else 'NULL'});"


# The fast stage has an assembly function per stride for any row length (blocks of six outputs, pairs and a closing
# triple), a model linking one per stride, whatever its rows; a model with layers of both strides links one function
# for both instead (BOTH_STRIDES_ENTRY: ~490 bytes less than the two; about as fast at stride 1, 4 cycles more per
# channel and block of six at stride 2), without the pairs' phase (~410 bytes less) when every row has 6k or 6k + 3
# outputs (VWW's 48, 24, 12, 6 and 3: 904 bytes less in all, 13.8 k cycles more, 0.13 %).
LONG_ENTRIES = {1: "_fast_long", 2: "_fast_s2_long"}
BOTH_STRIDES_ENTRY = "_fast_both_long"
BOTH_STRIDES_NO_PAIRS_ENTRY = "_fast_both_no_pairs"


def _entry(op: Op, graph: Graph, dsp: int) -> str:
    """The layer's int8 kernel entry suffix: _fast/_wide link only the layer's DSP output stage
    (kernels/depthwise_conv_2d_s8.h), the fast ones only the assembly of the layer's stride (LONG_ENTRIES) or row
    shape (ROW_BLOCK_ENTRIES); '' the general entry."""
    if output_activation_range(op, graph) != (-128, 127):
        return ""
    if dsp == DSP_GENERAL:
        return "_wide"
    if dsp != DSP_FOLDED:
        return ""
    stride = op.attrs["stride_w"]
    width = graph.tensors[op.outputs[0]].shape[2]
    return ROW_BLOCK_ENTRIES.get(width, LONG_ENTRIES[1]) if stride == 1 else LONG_ENTRIES[stride]


def _kernel_entry(op: Op, graph: Graph, dsp: int) -> str:
    """The entry suffix the layer's dense int8 kernel runs under: _entry, or the graph-wide function for both
    strides. The same for a sparse layer run by the dense kernel (ops/depthwise_conv_2d_sparse.py)."""
    fast = _entry(op, graph, dsp)
    if fast in LONG_ENTRIES.values():
        fast = _both_strides_entry(graph) or fast
    return fast


def _runs_dense_kernel(op: Op, graph: Graph) -> bool:
    """The layer runs the dense int8 kernel: its filter is dense, or sparse and decoded for the kernel's DSP
    variant (sparse storage, dense compute)."""
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    if x.dtype != "int8" or is_int4(w):
        return False
    return not use_sparse(w, CHANNEL_AXIS) or _dsp_requant(op, graph)[0] != 0


def _both_strides_entry(graph: Graph) -> str | None:
    """The entry of every layer that would take a per-stride fast entry when the graph's int8 depthwise layers run
    by the dense kernel (_runs_dense_kernel) take both (a graph-wide choice, so that a model links one function),
    else None."""
    widths = {}  # per-stride entry -> output widths
    for op in (op for op in graph.ops if op.type == "DEPTHWISE_CONV_2D"):
        if _runs_dense_kernel(op, graph):
            entry = _entry(op, graph, _dsp_requant(op, graph)[0])
            widths.setdefault(entry, set()).add(graph.tensors[op.outputs[0]].shape[2])
    if not all(entry in widths for entry in LONG_ENTRIES.values()):
        return None
    rows = widths[LONG_ENTRIES[1]] | widths[LONG_ENTRIES[2]]
    return BOTH_STRIDES_NO_PAIRS_ENTRY if all(width % 6 in (0, 3) for width in rows) else BOTH_STRIDES_ENTRY


def _emit_s4(op: Op, graph: Graph, ctx, fields: dict) -> str:
    """INT4 filters (quant/int4.py): flash holds them packed two per byte, the portable kernel decodes them."""
    x, w, y = (graph.tensors[n] for n in (op.inputs[0], op.inputs[1], op.outputs[0]))
    ctx.use_kernel("int4_s8", rounding_neutral=True)
    ctx.use_kernel("depthwise_conv_2d_s4")
    lo, hi = output_activation_range(op, graph)
    params = ctx.params("mcuforge_depthwise_conv_params", {
        **fields, "input_offset": -x.quant.scalar_zero_point, "output_offset": y.quant.scalar_zero_point,
        "act_min": lo, "act_max": hi, "requant": ctx.requant(*output_multipliers(op, graph, w.shape[3]))})
    bias = ctx.optional_ptr(op.inputs[2] if len(op.inputs) > 2 else "")
    return (f"mcuforge_depthwise_conv_s4({params}, {ctx.ptr(op.inputs[0])}, {packed_weights(ctx, op.inputs[1])}, "
            f"{bias}, {ctx.ptr(op.outputs[0])});")


def _dsp_requant(op: Op, graph: Graph) -> tuple[int, np.ndarray]:
    """The int8 kernel's (`dsp_requant`, `bias_folded`): the form of its DSP variant's requantization
    (conv_common.dsp_requant), 0 when the layer cannot take the DSP variant (not 3x3, a depth multiplier,
    dilation, a stride_w above 2, or a requantization outside both forms), and the folded bias."""
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    g = conv_geometry(op, graph)
    flat = w.data.reshape(-1, w.shape[3]).astype(np.int64)
    start = folded_bias(op, graph, flat.sum(axis=0))
    if (w.shape[1:3] != (3, 3) or w.shape[3] != x.shape[3] or (g.dilation_h, g.dilation_w) != (1, 1)
            or g.stride_w > 2):
        return 0, start
    return dsp_requant(op, graph, start, np.abs(flat).sum(axis=0), *output_multipliers(op, graph, w.shape[3]))


def scratch_bytes(op: Op, graph: Graph) -> int:
    """The int8 kernel's DSP variant takes MCUFORGE_DEPTHWISE_DSP_SCRATCH bytes: a channel table with the filter
    as q15 pairs, and three input rows transposed to int16; a sparse filter it runs is decoded in front of that
    (KH * KW * C bytes, rounded up to 16). Reserved whatever the target: the same library runs the DSP variant on
    cores with the DSP extension, portable code elsewhere. The int4 kernel and the sparse kernel (a layer without a
    DSP variant) need none."""
    x = graph.tensors[op.inputs[0]]
    w = graph.tensors[op.inputs[1]]
    if not _runs_dense_kernel(op, graph) or not _dsp_requant(op, graph)[0]:
        return 0
    g = conv_geometry(op, graph)
    width = max(x.shape[2] + g.pad_left, (g.out_w + 1) * g.stride_w + 2)  # the ring's, as the kernel sizes it
    width += width % 2
    decoded = (w.size + 15) // 16 * 16 if use_sparse(w, CHANNEL_AXIS) else 0
    return decoded + 44 * x.shape[3] + 6 * x.shape[3] * width


def macs(op: Op, graph: Graph) -> int:
    w = graph.tensors[op.inputs[1]]
    return graph.tensors[op.outputs[0]].size * w.shape[1] * w.shape[2]


register(OpDef(
    litert_rounding="double",
    name="DEPTHWISE_CONV_2D",
    infer_shapes=infer_shapes,
    reference=reference,
    attrs={**CONV_ATTRS, "depth_multiplier": 1},
    tflite_options="DepthwiseConv2DOptions",
    check=check,
    macs=macs,
    c_kernel="depthwise_conv_2d",
    emit_c=emit_c,
    scratch_bytes=scratch_bytes,
    row_window=row_window,
    doc="Depthwise 2-D convolution, filter [1, KH, KW, C*M]; SAME/VALID padding, strides, dilation.",
))
