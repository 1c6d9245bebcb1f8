"""QUANTIZE (float32 -> int8, or int8 -> int8 requantization) and DEQUANTIZE (int8 -> float32)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import INT_RANGES, require, require_quantized, same_shape
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant.fixed_point import multiply_by_quantized_multiplier, quantize_multiplier


def round_float32_half_away(x) -> np.ndarray:
    """TfLiteRound / std::round of float32 values (halves away from zero), exactly.

    Widening to float64 first keeps |x| + 0.5 exact: in float32, 0.49999997 + 0.5 rounds up to 1.0 and
    2^23 + 1 + 0.5 rounds to 2^23 + 2, so a float32 floor(|x| + 0.5) is off by one there."""
    wide = np.asarray(x, dtype=np.float32).astype(np.float64)
    return np.sign(wide) * np.floor(np.abs(wide) + 0.5)


def quantize_float32(x: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
    """reference_ops::AffineQuantize: zero_point + TfLiteRound(x / (float)scale) in float32, clamped.

    Values past the int32 range saturate (as an Arm float-to-int conversion does; C++ leaves it undefined)."""
    quotient = np.asarray(x, dtype=np.float32) / np.float32(scale)
    rounded = np.clip(np.nan_to_num(round_float32_half_away(quotient)), -(2.0 ** 31), 2.0 ** 31 - 1)
    lo, hi = INT_RANGES[dtype]
    return np.clip(rounded.astype(np.int64) + zero_point, lo, hi).astype(dtype)


def requantize_multiplier(op: Op, graph: Graph) -> tuple[int, int]:
    """input_scale / output_scale in double, as both quantize.cc Prepare and TFLM's PrepareQuantizeReference."""
    s_in, s_out = (np.float64(graph.tensors[n].quant.scalar_scale) for n in (op.inputs[0], op.outputs[0]))
    return quantize_multiplier(float(s_in / s_out))


def check_quantize(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(y.dtype == "int8", op, graph, f"output must be int8, got {y.dtype}")
    names = [op.outputs[0]] if x.dtype == "float32" else [op.inputs[0], op.outputs[0]]
    require_quantized(op, graph, names)
    for name in names:
        require(not graph.tensors[name].quant.per_channel, op, graph, f"{name!r} must be quantized per tensor")


def quantize_reference(op: Op, graph: Graph, inputs):
    x = inputs[0]
    out_t = graph.tensors[op.outputs[0]]
    zero_point = out_t.quant.scalar_zero_point
    if x.dtype == np.float32:
        return [quantize_float32(x, out_t.quant.scalar_scale, zero_point, out_t.dtype)]
    # reference_ops::Requantize: requantize (x - input_zero_point) to the output scale, add its zero point.
    multiplier, shift = requantize_multiplier(op, graph)
    input_zero_point = graph.tensors[op.inputs[0]].quant.scalar_zero_point
    # Both oracles round the gemmlowp ("double") way here, LiteRT's single-rounding build included (exhaustive
    # int8 tests over 60 quantizations; see add_sub.py).
    y = multiply_by_quantized_multiplier(x.astype(np.int64) - input_zero_point, multiplier, shift) + zero_point
    lo, hi = INT_RANGES[out_t.dtype]
    return [np.clip(y, lo, hi).astype(out_t.dtype)]


def check_dequantize(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(y.dtype == "float32", op, graph, f"output must be float32, got {y.dtype}")
    require_quantized(op, graph, [op.inputs[0]])
    require(not x.quant.per_channel, op, graph, "per-channel dequantization is not supported")


def dequantize_reference(op: Op, graph: Graph, inputs):
    """reference_ops::Dequantize: (float)(double scale * (x - zero_point)). The product of a float32 scale and
    a 9-bit integer is exact in double, so this is the float32 product rounded once."""
    q = graph.tensors[op.inputs[0]].quant
    centered = inputs[0].astype(np.float64) - q.scalar_zero_point
    return [(np.float64(q.scalar_scale) * centered).astype(np.float32)]


def emit_quantize(op: Op, graph: Graph, ctx) -> str:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    args = f"{ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])}"
    if x.dtype == "float32":
        ctx.use_kernel("quantize_f32")
        params = ctx.params("mcuforge_quantize_f32_params", {"size": x.size, "scale": y.quant.scalar_scale,
                                                              "zero_point": y.quant.scalar_zero_point})
        return f"mcuforge_quantize_f32({params}, {args});"
    ctx.use_kernel("quantize_s8")
    multiplier, shift = requantize_multiplier(op, graph)
    params = ctx.params("mcuforge_requantize_params", {
        "size": x.size, "input_offset": -x.quant.scalar_zero_point, "multiplier": multiplier, "shift": shift,
        "output_offset": y.quant.scalar_zero_point})
    return f"mcuforge_requantize_s8({params}, {args});"


def emit_dequantize(op: Op, graph: Graph, ctx) -> str:
    q = graph.tensors[op.inputs[0]].quant
    ctx.use_kernel("dequantize_f32")
    params = ctx.params("mcuforge_dequantize_f32_params", {"size": graph.tensors[op.inputs[0]].size,
                                                            "scale": q.scalar_scale, "zero_point": q.scalar_zero_point})
    return f"mcuforge_dequantize_f32({params}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])});"


register(OpDef(
    litert_rounding="double",
    name="QUANTIZE",
    infer_shapes=same_shape,
    reference=quantize_reference,
    tflite_options="QuantizeOptions",
    dtypes=("float32", "int8"),
    check=check_quantize,
    c_kernel="quantize",
    emit_c=emit_quantize,
    # The planner shares buffers of equal dtype only: int8 -> int8 requantization, element-wise.
    inplace_inputs=(0,),
    doc="float32 -> int8 (round half away from zero), or int8 -> int8 with new scale and zero point.",
))
register(OpDef(
    litert_rounding="double",
    name="DEQUANTIZE",
    infer_shapes=same_shape,
    reference=dequantize_reference,
    tflite_options="DequantizeOptions",
    dtypes=("int8",),
    check=check_dequantize,
    c_kernel="dequantize",
    emit_c=emit_dequantize,
    doc="int8 -> float32: scale * (x - zero_point).",
))
