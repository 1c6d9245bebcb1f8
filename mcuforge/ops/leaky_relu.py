"""LEAKY_RELU: x if x > 0 else alpha * x. int8 requantizes non-negative inputs with input_scale / output_scale
and negative ones with input_scale * alpha / output_scale (reference_ops::QuantizeLeakyRelu)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import INT_RANGES, require, require_quantized, same_shape
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant.fixed_point import multiply_by_quantized_multiplier, quantize_multiplier, runtime_compat


def real_multipliers(op: Op, graph: Graph) -> tuple[float, float]:
    """(identity, alpha) real multipliers: input_scale / output_scale and input_scale * alpha / output_scale.

    LiteRT (activations.cc LeakyReluPrepare) evaluates them in float32 from the float scales and the float
    alpha, left to right, and widens only the result. The tflite-micro build our golden tests run agrees with
    double arithmetic instead (leaky_relu_common.cc on GitHub reads like LiteRT's, yet over 30 quantizations
    picked because the two differ, double agreed with TFLite Micro on every output and float32 missed 23). The
    rounding convention names the oracle: "double" is TFLite Micro, "single" LiteRT."""
    s_in, s_out = (np.float32(graph.tensors[n].quant.scalar_scale) for n in (op.inputs[0], op.outputs[0]))
    alpha = np.float32(op.attrs.get("alpha", 0.0))
    if runtime_compat() == "litert":
        return float(s_in / s_out), float(s_in * alpha / s_out)
    s_in, s_out, alpha = np.float64(s_in), np.float64(s_out), np.float64(alpha)
    return float(s_in / s_out), float(s_in * alpha / s_out)


def check(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(x.dtype == y.dtype, op, graph, f"input and output dtypes differ: {x.dtype} -> {y.dtype}")
    if x.dtype == "int8":
        require_quantized(op, graph, [op.inputs[0], op.outputs[0]])
        for name in (op.inputs[0], op.outputs[0]):
            require(not graph.tensors[name].quant.per_channel, op, graph, f"{name!r} must be quantized per tensor")


def reference(op: Op, graph: Graph, inputs):
    x = inputs[0]
    if x.dtype == np.float32:
        alpha = np.float32(op.attrs.get("alpha", 0.0))
        return [np.where(x > 0, x, x * alpha).astype(np.float32)]
    out_t = graph.tensors[op.outputs[0]]
    centered = x.astype(np.int64) - graph.tensors[op.inputs[0]].quant.scalar_zero_point
    (identity_mult, identity_shift), (alpha_mult, alpha_shift) = map(quantize_multiplier, real_multipliers(op, graph))
    # Both oracles round the gemmlowp ("double") way here, LiteRT's single-rounding build included (exhaustive
    # int8 tests; see add_sub.py). A negative alpha gives a negative Q31 multiplier; LiteRT's leaky_relu.h on
    # GitHub negates around a positive one instead, which is the same thing under this symmetric rounding.
    scaled = np.where(centered >= 0, multiply_by_quantized_multiplier(centered, identity_mult, identity_shift),
                      multiply_by_quantized_multiplier(centered, alpha_mult, alpha_shift))
    lo, hi = INT_RANGES[out_t.dtype]
    return [np.clip(scaled + out_t.quant.scalar_zero_point, lo, hi).astype(out_t.dtype)]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    x = graph.tensors[op.inputs[0]]
    args = f"{ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])}"
    if x.dtype == "float32":
        ctx.use_kernel("leaky_relu_f32")
        params = ctx.params("mcuforge_leaky_relu_f32_params", {"size": x.size, "alpha": op.attrs.get("alpha", 0.0)})
        return f"mcuforge_leaky_relu_f32({params}, {args});"
    ctx.use_kernel("leaky_relu_s8")
    (identity_mult, identity_shift), (alpha_mult, alpha_shift) = map(quantize_multiplier, real_multipliers(op, graph))
    params = ctx.params("mcuforge_leaky_relu_params", {
        "size": x.size, "input_offset": -x.quant.scalar_zero_point, "identity_multiplier": identity_mult,
        "identity_shift": identity_shift, "alpha_multiplier": alpha_mult, "alpha_shift": alpha_shift,
        "output_offset": graph.tensors[op.outputs[0]].quant.scalar_zero_point})
    return f"mcuforge_leaky_relu_s8({params}, {args});"


register(OpDef(
    litert_rounding="double",
    name="LEAKY_RELU",
    infer_shapes=same_shape,
    reference=reference,
    # 0.0 as in the schema, and as TFLite's ParseOpData leaves it when a model has no LeakyReluOptions.
    attrs={"alpha": 0.0},
    tflite_options="LeakyReluOptions",
    dtypes=("int8", "float32"),
    check=check,
    c_kernel="leaky_relu",
    emit_c=emit_c,
    inplace_inputs=(0,),
    doc="x if x > 0 else alpha * x.",
))
