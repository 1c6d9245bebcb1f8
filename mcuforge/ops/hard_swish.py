"""HARD_SWISH: y = x * relu6(x + 3) / 6, float32 or int8 with any input and output quantization.

TFLite Micro and LiteRT's BUILTIN_REF kernel run the same int16 fixed-point algorithm
(reference_ops::HardSwish, reference/hard_swish.h) with the same Prepare (HardSwishPrepare), so there is one
int8 flavor. Its only rounding-dependent step is QuantizeMultiplier, whose conventions agree for these
multipliers (both below 2^30)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import emit_elementwise_unary, qparams, require, require_quantized, same_shape
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant.activation_params import down_scale_int32_to_int16_multiplier
from mcuforge.quant.fixed_point import quantize_multiplier, rounding_divide_by_pot
from mcuforge.quant.gemmlowp import INT16_MAX, INT16_MIN, saturating_rounding_doubling_high_mul_int16


def hard_swish_params(input_scale: float, output_scale: float) -> dict[str, int]:
    """HardSwishPrepare: int16 multipliers of the output (input on a 2^-7 finer grid, over the output scale)
    and of the "relu-ish" factor (the same input onto a grid where 3.0 is 32768), scale products in float32."""
    hires_input_scale = np.float32(1.0 / 128.0) * np.float32(input_scale)
    reluish_scale = np.float32(3.0) / np.float32(32768.0)
    output_multiplier, output_exponent = quantize_multiplier(float(hires_input_scale / np.float32(output_scale)))
    reluish_multiplier, reluish_exponent = quantize_multiplier(float(hires_input_scale / reluish_scale))
    return {
        "output_multiplier": down_scale_int32_to_int16_multiplier(output_multiplier),
        "output_exponent": output_exponent,
        "reluish_multiplier": down_scale_int32_to_int16_multiplier(reluish_multiplier),
        "reluish_exponent": reluish_exponent,
    }


def check(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(x.dtype == y.dtype, op, graph, f"input is {x.dtype} but output is {y.dtype}")
    if x.dtype == "int8":
        require_quantized(op, graph, [op.inputs[0], op.outputs[0]])
        in_scale, out_scale = qparams(graph, op.inputs[0])[0], qparams(graph, op.outputs[0])[0]
        # HardSwishPrepare: TF_LITE_ENSURE(output_multiplier_exponent <= 0).
        require(hard_swish_params(in_scale, out_scale)["output_exponent"] <= 0, op, graph,
                f"output scale {out_scale:g} is too small for input scale {in_scale:g}: TFLite needs "
                "input_scale / 128 / output_scale < 1")


def _saturating_left_shift_int16(value: np.ndarray, amount: int) -> np.ndarray:
    """SaturatingLeftShift (reference/hard_swish.h): int16 shift saturating at the int16 range."""
    return np.clip(value * (1 << amount), INT16_MIN, INT16_MAX)


def _saturating_doubling_high_mul_int16(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SaturatingDoublingHighMul (reference/hard_swish.h): like the rounding one but truncating toward
    zero, which TFLite picked to cancel the rounding bias of the other steps."""
    ab = a * b
    high = np.where(ab >= 0, ab >> 15, -((-ab) >> 15))
    return np.where((a == INT16_MIN) & (b == INT16_MIN), INT16_MAX, high)


def hard_swish_int8(x: np.ndarray, input_scale: float, input_zero_point: int, output_scale: float,
                    output_zero_point: int) -> np.ndarray:
    """reference_ops::HardSwish<int8_t>. Every intermediate is an int16 in the C++; none can overflow since
    |x - zero_point| * 2^7 <= 32640 and the multipliers are at most 1."""
    p = hard_swish_params(input_scale, output_scale)
    input_on_hires_scale = (x.astype(np.int64) - input_zero_point) * (1 << 7)
    input_on_preshift_output_scale = saturating_rounding_doubling_high_mul_int16(
        input_on_hires_scale, p["output_multiplier"])
    # Rescale x from [-3, 3] to [-1, 1] (Q0.15), saturating; the left shift is split so that only the last
    # bit of it can saturate (see the C++ comments).
    reluish = input_on_hires_scale
    if p["reluish_exponent"] > 0:
        reluish = _saturating_left_shift_int16(reluish, p["reluish_exponent"] - 1)
    reluish = saturating_rounding_doubling_high_mul_int16(reluish, p["reluish_multiplier"])
    if p["reluish_exponent"] > 0:
        reluish = _saturating_left_shift_int16(reluish, 1)
    if p["reluish_exponent"] < 0:
        reluish = rounding_divide_by_pot(reluish, -p["reluish_exponent"])
    reluish = (reluish + (1 << 15)) >> 1  # [-1, 1] -> [0, 1]
    preshift_output = _saturating_doubling_high_mul_int16(reluish, input_on_preshift_output_scale)
    output = rounding_divide_by_pot(preshift_output, -p["output_exponent"])
    return np.clip(output + output_zero_point, -128, 127).astype(np.int8)


def reference(op: Op, graph: Graph, inputs):
    x = inputs[0]
    if x.dtype == np.float32:
        # reference_ops::HardSwish<float>: in * min(6, max(0, in + 3)) / 6 in float32.
        return [x * np.minimum(np.float32(6), np.maximum(np.float32(0), x + np.float32(3))) / np.float32(6)]
    (in_scale, in_zp), (out_scale, out_zp) = qparams(graph, op.inputs[0]), qparams(graph, op.outputs[0])
    return [hard_swish_int8(x, in_scale, in_zp, out_scale, out_zp)]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    return emit_elementwise_unary(op, graph, ctx, reference, "hard_swish_f32")


register(OpDef(
    name="HARD_SWISH",
    infer_shapes=same_shape,
    reference=reference,
    check=check,
    c_kernel="hard_swish",
    # The kernel is gemmlowp arithmetic in both runtimes; only QuantizeMultiplier could tell the conventions
    # apart, and only for input scales above 2e7.
    litert_rounding="double",
    emit_c=emit_c,
    inplace_inputs=(0,),  # element-wise
    doc="x * relu6(x + 3) / 6 (MobileNetV3); int16 fixed point for int8.",
))
