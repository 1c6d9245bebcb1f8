"""FULLY_CONNECTED: y = x W^T + b, weights [out, in]; int8 per-tensor or per-channel weights, int32 bias."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.fully_connected_sparse import emit_sparse_fc, use_sparse
from mcuforge.ir import Graph, Op
from mcuforge.ops.common import (activation_range_float, apply_float_activation, output_activation_range, require,
                                  require_quantized, saturate)
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant.fixed_point import multiply_by_quantized_multiplier, quantize_multipliers
from mcuforge.quant.int4 import is_int4, packed_weights


def infer_shapes(op: Op, graph: Graph):
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    units, depth = w.shape
    require(x.size % depth == 0, op, graph, f"input of {x.size} elements is not a multiple of weights depth {depth}")
    if op.attrs.get("keep_num_dims"):
        return [x.shape[:-1] + (units,)]
    return [(x.size // depth, units)]


def check(op: Op, graph: Graph) -> None:
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    require(w.is_constant and len(w.shape) == 2, op, graph, "weights must be a constant 2-D tensor")
    if x.dtype == "int8":
        require(w.dtype == "int8", op, graph, f"int8 input needs int8 weights, got {w.dtype}")
        require_quantized(op, graph, [op.inputs[0], op.inputs[1], op.outputs[0]])
    else:  # no hybrid (float input, int8 weights) FULLY_CONNECTED yet: refuse rather than compute it wrong
        require(w.dtype == "float32", op, graph, f"float32 input needs float32 weights, got {w.dtype} "
                "(hybrid FULLY_CONNECTED is not supported)")


def output_multipliers(op: Op, graph: Graph) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel (multiplier, shift), as TFLite's FC Prepare computes them.

    Per-tensor weights use GetQuantizedConvolutionMultipler, whose scale product is taken in float32
    before widening to double; per-channel weights widen first (PopulateConvolutionQuantizationParams)."""
    x, w, y = (graph.tensors[n] for n in (op.inputs[0], op.inputs[1], op.outputs[0]))
    units = w.shape[0]
    if w.quant.per_channel:
        real = np.float64(x.quant.scalar_scale) * w.quant.scale.astype(np.float64) / np.float64(y.quant.scalar_scale)
    else:
        product = np.float32(x.quant.scalar_scale) * np.float32(w.quant.scalar_scale)
        real = np.full(units, np.float64(product) / np.float64(y.quant.scalar_scale))
    return quantize_multipliers(real)


def reference(op: Op, graph: Graph, inputs):
    x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
    out_t = graph.tensors[op.outputs[0]]
    depth = w.shape[1]
    rows = x.reshape(-1, depth)
    if x.dtype == np.float32:
        # reference_ops::FullyConnected: one float32 accumulator per output, products added in depth order,
        # then the bias. The Python loop runs over depth; each step is vectorized over batches and units.
        rows_t = np.ascontiguousarray(rows.astype(np.float32).T)  # [depth, batches]
        w_t = np.ascontiguousarray(w.astype(np.float32).T)  # [depth, units]
        y = np.zeros((rows.shape[0], w.shape[0]), np.float32)
        product = np.empty_like(y)
        for d in range(depth):
            np.multiply(rows_t[d, :, np.newaxis], w_t[d], out=product)
            y += product
        if b is not None:
            y = y + b.astype(np.float32)
        y = apply_float_activation(y, op.attrs.get("fused_activation_function", "NONE"))
        return [y.reshape(out_t.shape)]
    x_zp = graph.tensors[op.inputs[0]].quant.scalar_zero_point
    w_zp = graph.tensors[op.inputs[1]].quant.zero_point[0]
    # float64 matmul is exact here (|terms| < 2^16, sums far below 2^53) and much faster than int64.
    acc = (rows.astype(np.float64) - x_zp) @ (w.astype(np.float64) - w_zp).T
    acc = acc.astype(np.int64)
    if b is not None:
        acc = acc + b.astype(np.int64)
    mult, shift = output_multipliers(op, graph)
    y = multiply_by_quantized_multiplier(acc, mult, shift) + out_t.quant.scalar_zero_point
    lo, hi = output_activation_range(op, graph)
    return [saturate(y, lo, hi, out_t.dtype).reshape(out_t.shape)]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    units, depth = w.shape
    dims = {"batches": x.size // depth, "depth": depth, "units": units}
    bias = ctx.optional_ptr(op.inputs[2] if len(op.inputs) > 2 else "")
    if x.dtype == "int8" and is_int4(w):
        return _emit_s4(op, graph, ctx, dims, bias)
    if x.dtype == "int8" and use_sparse(w):
        return emit_sparse_fc(op, graph, ctx, dims, bias, output_activation_range(op, graph),
                              ctx.requant(*output_multipliers(op, graph)))
    args = f"{ctx.ptr(op.inputs[0])}, {ctx.ptr(op.inputs[1])}, {bias}, {ctx.ptr(op.outputs[0])}"
    if x.dtype == "float32":
        ctx.use_kernel("fully_connected_f32")
        lo, hi = activation_range_float(op.attrs.get("fused_activation_function", "NONE"))
        params = ctx.params("mcuforge_fc_f32_params", {**dims, "act_min": lo, "act_max": hi})
        return f"mcuforge_fully_connected_f32({params}, {args});"
    ctx.use_kernel("dsp_s8", rounding_neutral=True)  # fully_connected_s8.h includes it: the DSP variant
    ctx.use_kernel("fully_connected_s8")
    lo, hi = output_activation_range(op, graph)
    weights_offset = -int(w.quant.zero_point[0])
    params = ctx.params("mcuforge_fc_params", {
        **dims, "input_offset": -x.quant.scalar_zero_point, "weights_offset": weights_offset,
        "output_offset": graph.tensors[op.outputs[0]].quant.scalar_zero_point, "act_min": lo, "act_max": hi,
        "requant": ctx.requant(*output_multipliers(op, graph))})
    if small_fc_graph(graph):
        entry = "mcuforge_fully_connected_s8_small"
    else:
        entry = "mcuforge_fully_connected_s8_sym" if weights_offset == 0 else "mcuforge_fully_connected_s8"
    return f"{entry}({params}, {args});"


# Below this many MACs in all of a graph's dense int8 FC layers together, every one of them runs the portable loop
# (mcuforge_fully_connected_s8_small): ~390 B less flash than the DSP variant on an Armv7E-M core (278 B against
# 672 on the M4), for ~7 cycles a MAC more (~30 k cycles at the limit; vww, kws and ic have 512 to 768 FC MACs).
# A graph-wide choice, so a build links one of the two loops (both only with asymmetric weights, whose portable
# path is this loop).
SMALL_FC_MACS = 4096


def _dense_int8_fc(op: Op, graph: Graph) -> bool:
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    return x.dtype == "int8" and not is_int4(w) and not use_sparse(w)


def small_fc_graph(graph: Graph) -> bool:
    """Whether the graph's dense int8 FC layers are few and tiny enough for the portable loop alone."""
    layers = [op for op in graph.ops if op.type == "FULLY_CONNECTED" and _dense_int8_fc(op, graph)]
    return sum(macs(op, graph) for op in layers) <= SMALL_FC_MACS


def _emit_s4(op: Op, graph: Graph, ctx, dims: dict, bias: str) -> str:
    """INT4 weights (quant/int4.py): flash holds them packed two per byte, the kernel unpacks them."""
    ctx.use_kernel("int4_s8", rounding_neutral=True)
    ctx.use_kernel("fully_connected_s4")
    lo, hi = output_activation_range(op, graph)
    params = ctx.params("mcuforge_fc_s4_params", {
        **dims, "input_offset": -graph.tensors[op.inputs[0]].quant.scalar_zero_point,
        "output_offset": graph.tensors[op.outputs[0]].quant.scalar_zero_point, "act_min": lo, "act_max": hi,
        "requant": ctx.requant(*output_multipliers(op, graph))})
    args = f"{ctx.ptr(op.inputs[0])}, {packed_weights(ctx, op.inputs[1])}, {bias}, {ctx.ptr(op.outputs[0])}"
    return f"mcuforge_fully_connected_s4({params}, {args});"


def macs(op: Op, graph: Graph) -> int:
    w = graph.tensors[op.inputs[1]]
    return graph.tensors[op.outputs[0]].size * w.shape[1]


register(OpDef(
    name="FULLY_CONNECTED",
    infer_shapes=infer_shapes,
    reference=reference,
    attrs={"fused_activation_function": "NONE", "keep_num_dims": False, "weights_format": 0,
           "asymmetric_quantize_inputs": False, "quantized_bias_type": 0},
    tflite_options="FullyConnectedOptions",
    check=check,
    macs=macs,
    c_kernel="fully_connected",
    litert_rounding="single",
    emit_c=emit_c,
    doc="Dense layer; weights [units, depth].",
))
