"""MUL: element-wise product with broadcasting; int8 requantizes the product of the zero-point-free inputs by
input1_scale * input2_scale / output_scale."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.add_sub import FUSED_ACTIVATIONS, MAX_BROADCAST_RANK, broadcast_fields
from mcuforge.ops.common import (activation_range_float, broadcast_shape, output_activation_range, require,
                                 require_quantized, saturate)
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant.fixed_point import multiply_by_quantized_multiplier, quantize_multiplier, runtime_compat


def real_multiplier(op: Op, graph: Graph) -> float:
    """input1_scale * input2_scale / output_scale, as the oracle's Prepare computes it.

    TFLite Micro (mul_common.cc CalculateOpDataMul) widens each scale to double first. LiteRT (mul.cc Prepare)
    multiplies and divides the float scales in float32 and widens only the result, so its multiplier carries 24
    significant bits; the two differ on a few products near the top of the int8 range. runtime_compat() names the
    oracle."""
    s1, s2, so = (np.float32(graph.tensors[n].quant.scalar_scale) for n in (*op.inputs[:2], op.outputs[0]))
    if runtime_compat() == "litert":
        return float(s1 * s2 / so)
    return float(np.float64(s1) * np.float64(s2) / np.float64(so))


def check(op: Op, graph: Graph) -> None:
    a, b, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    require(a.dtype == b.dtype == y.dtype, op, graph, f"input and output dtypes differ: {a.dtype}, {b.dtype} -> "
            f"{y.dtype}")
    activation = op.attrs.get("fused_activation_function", "NONE")
    require(activation in FUSED_ACTIVATIONS, op, graph, f"fused activation {activation} is not supported")
    require(max(len(a.shape), len(b.shape)) <= MAX_BROADCAST_RANK, op, graph,
            f"broadcasting supports at most {MAX_BROADCAST_RANK} dimensions")
    if a.dtype == "int8":
        names = [op.inputs[0], op.inputs[1], op.outputs[0]]
        require_quantized(op, graph, names)
        for name in names:
            require(not graph.tensors[name].quant.per_channel, op, graph, f"{name!r} must be quantized per tensor")


def reference(op: Op, graph: Graph, inputs):
    a, b = inputs[0], inputs[1]
    out_t = graph.tensors[op.outputs[0]]
    if a.dtype == np.float32:
        lo, hi = activation_range_float(op.attrs.get("fused_activation_function", "NONE"))
        return [np.clip(a * b, np.float32(lo), np.float32(hi)).astype(np.float32).reshape(out_t.shape)]
    zp1, zp2 = (graph.tensors[n].quant.scalar_zero_point for n in op.inputs[:2])
    # reference_integer_ops::MulElementwise: (x1 - zp1) * (x2 - zp2) fits in int32 for int8 inputs.
    product = (a.astype(np.int64) - zp1) * (b.astype(np.int64) - zp2)
    multiplier, shift = quantize_multiplier(real_multiplier(op, graph))
    # Both oracles round this multiply the gemmlowp ("double") way, LiteRT's single-rounding build included
    # (exhaustive 256x256 tests over 40 random quantizations: no difference from double rounding, ~0.5% of
    # outputs off by one under single rounding); see add_sub.py for the same finding on ADD and SUB.
    y = multiply_by_quantized_multiplier(product, multiplier, shift) + out_t.quant.scalar_zero_point
    lo, hi = output_activation_range(op, graph)
    return [saturate(y, lo, hi, out_t.dtype).reshape(out_t.shape)]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    ctx.use_kernel("broadcast")
    shape = broadcast_fields(op, graph)
    args = f"{ctx.ptr(op.inputs[0])}, {ctx.ptr(op.inputs[1])}, {ctx.ptr(op.outputs[0])}"
    if graph.tensors[op.inputs[0]].dtype == "float32":
        ctx.use_kernel("mul_f32")
        lo, hi = activation_range_float(op.attrs.get("fused_activation_function", "NONE"))
        params = ctx.params("mcuforge_mul_f32_params", {"shape": shape, "act_min": lo, "act_max": hi})
        return f"mcuforge_mul_f32({params}, {args});"
    ctx.use_kernel("mul_s8")
    zp1, zp2 = (graph.tensors[n].quant.scalar_zero_point for n in op.inputs[:2])
    multiplier, shift = quantize_multiplier(real_multiplier(op, graph))  # runs under the model's compat
    lo, hi = output_activation_range(op, graph)
    params = ctx.params("mcuforge_mul_params", {
        "shape": shape, "input1_offset": -zp1, "input2_offset": -zp2,
        "output_offset": graph.tensors[op.outputs[0]].quant.scalar_zero_point, "multiplier": multiplier,
        "shift": shift, "act_min": lo, "act_max": hi})
    return f"mcuforge_mul_s8({params}, {args});"


def macs(op: Op, graph: Graph) -> int:
    return graph.tensors[op.outputs[0]].size


register(OpDef(
    litert_rounding="double",
    name="MUL",
    infer_shapes=broadcast_shape,
    reference=reference,
    attrs={"fused_activation_function": "NONE"},
    tflite_options="MulOptions",
    dtypes=("int8", "float32"),
    check=check,
    macs=macs,
    c_kernel="mul",
    emit_c=emit_c,
    # Element-wise: each output element is written after reading the input elements it comes from.
    inplace_inputs=(0, 1),
    doc="Element-wise product with broadcasting and a fused activation.",
))
