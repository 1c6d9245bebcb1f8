"""RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1: clamps. int8 requantizes the input to the output's scale and zero
point, then clamps to the activation's range in the output's integers (activations.cc QuantizedReluX)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import INT_RANGES, require, require_quantized, same_shape
from mcuforge.ops.quantize import round_float32_half_away
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant.fixed_point import multiply_by_quantized_multiplier, quantize_multiplier, runtime_compat

# The float range each op clamps to.
RANGES = {"RELU": (0.0, np.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0), "RELU_0_TO_1": (0.0, 1.0)}


def real_multiplier(op: Op, graph: Graph) -> float:
    """input_scale / output_scale as the oracle's Prepare computes it: TFLite Micro (activations_common.cc
    CalculateReluOpData) divides in double, LiteRT (activations.cc ReluPrepare) divides the float scales in
    float32. The rounding convention names the oracle: "double" is TFLite Micro, "single" LiteRT."""
    s_in, s_out = (np.float32(graph.tensors[n].quant.scalar_scale) for n in (op.inputs[0], op.outputs[0]))
    if runtime_compat() == "litert":
        return float(s_in / s_out)
    return float(np.float64(s_in) / np.float64(s_out))


def quantized_bounds(op: Op, graph: Graph, name: str) -> tuple[int, int]:
    """The clamp range in tensor `name`'s integers: zero_point + roundf(bound / scale) in float32, within the
    dtype's range; an infinite upper bound is the dtype's maximum (QuantizedReluX)."""
    t = graph.tensors[name]
    lo_f, hi_f = RANGES[op.type]
    qmin, qmax = INT_RANGES[t.dtype]
    scale, zero_point = np.float32(t.quant.scalar_scale), t.quant.scalar_zero_point

    def to_int(value: float) -> int:
        return zero_point + int(round_float32_half_away(np.float32(value) / scale))

    return max(qmin, to_int(lo_f)), qmax if hi_f == np.inf else min(qmax, to_int(hi_f))


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
        lo, hi = RANGES[op.type]
        return [np.clip(x, np.float32(lo), np.float32(hi)).astype(np.float32)]
    out_t = graph.tensors[op.outputs[0]]
    if op.type == "RELU6" and runtime_compat() == "tflm":
        # TFLite Micro's RELU6 (activations_common.cc Relu6Prepare, Relu6Quantized) clamps the input's integers
        # to [zero_point, quantized 6.0] in the *input's* quantization and ignores the output's: it equals
        # LiteRT only when input and output share scale and zero point.
        lo, hi = quantized_bounds(op, graph, op.inputs[0])
        return [np.clip(x, lo, hi).astype(out_t.dtype)]
    # ReluX: requantize, then clamp to the activation range in the output's integers. Both oracles round the
    # gemmlowp ("double") way here, LiteRT's single-rounding build included (exhaustive int8 tests over 60
    # quantizations per op; see add_sub.py).
    multiplier, shift = quantize_multiplier(real_multiplier(op, graph))
    zp_in = graph.tensors[op.inputs[0]].quant.scalar_zero_point
    y = multiply_by_quantized_multiplier(x.astype(np.int64) - zp_in, multiplier, shift)
    y = y + out_t.quant.scalar_zero_point
    lo, hi = quantized_bounds(op, graph, op.outputs[0])
    return [np.clip(y, lo, hi).astype(out_t.dtype)]


# quantize_multiplier(1.0): 2^30 * 2^(1 - 31). Multiplying by it is exact under either rounding convention.
IDENTITY_MULTIPLIER = (1 << 30, 1)


def emit_c(op: Op, graph: Graph, ctx) -> str:
    x = graph.tensors[op.inputs[0]]
    args = f"{ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])}"
    if x.dtype == "float32":
        ctx.use_kernel("activation_f32")
        lo, hi = RANGES[op.type]
        params = ctx.params("mcuforge_activation_f32_params", {"size": x.size, "act_min": lo, "act_max": hi})
        return f"mcuforge_activation_f32({params}, {args});"
    ctx.use_kernel("activation_s8")
    if op.type == "RELU6" and runtime_compat() == "tflm":  # a clamp of the input's integers, as the reference
        fields = {"requantize": 0, "input_offset": 0, "multiplier": 0, "shift": 0, "output_offset": 0}
        lo, hi = quantized_bounds(op, graph, op.inputs[0])
    else:
        multiplier, shift = quantize_multiplier(real_multiplier(op, graph))
        fields = {"requantize": int((multiplier, shift) != IDENTITY_MULTIPLIER),
                  "input_offset": -x.quant.scalar_zero_point, "multiplier": multiplier, "shift": shift,
                  "output_offset": graph.tensors[op.outputs[0]].quant.scalar_zero_point}
        lo, hi = quantized_bounds(op, graph, op.outputs[0])
    params = ctx.params("mcuforge_activation_params", {"size": x.size, **fields, "act_min": lo, "act_max": hi})
    return f"mcuforge_activation_s8({params}, {args});"


for _name, _doc in (
    ("RELU", "max(x, 0)."),
    ("RELU6", "min(max(x, 0), 6)."),
    ("RELU_N1_TO_1", "min(max(x, -1), 1)."),
    ("RELU_0_TO_1", "min(max(x, 0), 1)."),
):
    register(OpDef(litert_rounding="double",
                   name=_name, infer_shapes=same_shape, reference=reference, dtypes=("int8", "float32"),
                   check=check, c_kernel="activation", emit_c=emit_c, inplace_inputs=(0,), doc=_doc))
