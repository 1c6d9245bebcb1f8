"""LOGISTIC (sigmoid): y = 1 / (1 + exp(-x)), float32 or int8 with output scale 1/256, zero point -128.

The int8 algorithm depends on the runtime (fixed_point.runtime_compat()):
- "tflm" (TFLite Micro): reference_integer_ops::Logistic. The
  input difference is rescaled to Q4.27 with a frexp multiplier (CalculateArithmeticOpDataLogistic),
  gemmlowp::logistic gives Q0.31, rounded to the 1/256 output grid; inputs beyond the radius saturate.
- "litert" (LiteRT's BUILTIN_REF SigmoidPrepare/SigmoidEval): a 256-entry table built by
  LUTPopulate<int8_t> from the float expression 1.0f / (1.0f + expf(-x)), with the host C library's expf.
They agree except on rare near-ties of the output rounding and at input scales of about 2 and above, where
TFLite Micro saturates every input beyond its radius (~7.5 to 15 in real terms) to -128/127 while the table
keeps e.g. round(256 * sigmoid(-6)) = 1; each runtime is matched bit for bit.
The generated C tabulates whichever algorithm its compat selects (kernels/lut_s8), so both are exact."""

from __future__ import annotations

import functools

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import emit_elementwise_unary, qparams, require, require_quantized, same_shape
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant import gemmlowp
from mcuforge.quant.activation_params import (
    c_float_function,
    input_multiplier_q4,
    lookup_int8,
    lut_populate_int8,
)
from mcuforge.quant.fixed_point import multiply_by_quantized_multiplier, rounding_divide_by_pot, runtime_compat

OUTPUT_SCALE = 1.0 / 256
OUTPUT_ZERO_POINT = -128
_INPUT_INTEGER_BITS = 4  # Q4.27: logistic saturates in int8 well before |x| = 16


def check(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(x.dtype == y.dtype, op, graph, f"input is {x.dtype} but output is {y.dtype}")
    if x.dtype == "int8":
        require_quantized(op, graph, [op.inputs[0], op.outputs[0]])
        scale, zero_point = qparams(graph, op.outputs[0])
        # SigmoidPrepare / CalculateArithmeticOpDataLogistic: the output grid is fixed.
        require(np.float32(scale) == np.float32(OUTPUT_SCALE) and zero_point == OUTPUT_ZERO_POINT, op, graph,
                f"int8 output must have scale 1/256 and zero point -128 (TFLite's rule), got scale {scale:g}, "
                f"zero point {zero_point}")


def _expf_correctly_rounded(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # expf overflows to inf, and 1 / (1 + inf) is 0 as in C
        return np.exp(x.astype(np.float64)).astype(np.float32)


def _sigmoid_float32(x: np.ndarray) -> np.ndarray:
    """The lambda SigmoidPrepare tabulates, 1.0f / (1.0f + std::exp(-value)), in float32 with the C
    library's expf (see c_float_function)."""
    e = c_float_function("expf", _expf_correctly_rounded)(-x)
    return np.float32(1) / (np.float32(1) + e)


def logistic_int8_fixed_point(x: np.ndarray, input_scale: float, input_zero_point: int) -> np.ndarray:
    """reference_integer_ops::Logistic (int8), with TFLite Micro's Prepare parameters."""
    multiplier, left_shift, radius = input_multiplier_q4(input_scale, _INPUT_INTEGER_BITS)
    diff = x.astype(np.int64) - input_zero_point
    # Saturated inputs are replaced before rescaling so the (unused) left shift cannot overflow.
    inside = (diff > -radius) & (diff < radius)
    input_q4 = multiply_by_quantized_multiplier(np.where(inside, diff, 0), multiplier, left_shift)
    output_q0 = gemmlowp.logistic(input_q4, _INPUT_INTEGER_BITS)
    output = np.clip(rounding_divide_by_pot(output_q0, 31 - 8) + OUTPUT_ZERO_POINT, -128, 127)
    output = np.where(diff <= -radius, -128, np.where(diff >= radius, 127, output))
    return output.astype(np.int8)


@functools.lru_cache(maxsize=64)
def _sigmoid_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    return lut_populate_int8(input_scale, input_zero_point, OUTPUT_SCALE, OUTPUT_ZERO_POINT, _sigmoid_float32)


def logistic_int8_lut(x: np.ndarray, input_scale: float, input_zero_point: int) -> np.ndarray:
    """LiteRT's SigmoidPrepare table (LUTPopulate<int8_t>), looked up by SigmoidEval."""
    return lookup_int8(_sigmoid_table(input_scale, input_zero_point), x)


# The int8 algorithm of each runtime (see the module docstring).
INT8_KERNELS = {"tflm": logistic_int8_fixed_point, "litert": logistic_int8_lut}


def _logistic_float(x: np.ndarray) -> np.ndarray:
    """reference_ops::Logistic<float>: exp(x) below -9 (1e-4 relative off the formula, visible at float
    tolerance) and exactly 1 above 16.619..."""
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore"):
        y = np.where(x64 < -9.0, np.exp(x64), 1.0 / (1.0 + np.exp(-x64)))
    return np.where(x > np.float32(16.619047164916992188), np.float32(1), y.astype(np.float32))


def reference(op: Op, graph: Graph, inputs):
    x = inputs[0]
    if x.dtype == np.float32:
        return [_logistic_float(x)]
    scale, zero_point = qparams(graph, op.inputs[0])
    return [INT8_KERNELS[runtime_compat()](x, scale, zero_point)]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    return emit_elementwise_unary(op, graph, ctx, reference, "logistic_f32")


register(OpDef(
    name="LOGISTIC",
    infer_shapes=same_shape,
    reference=reference,
    check=check,
    c_kernel="logistic",
    litert_rounding="double",  # LiteRT's int8 kernel is a table lookup: nothing to requantize
    emit_c=emit_c,
    inplace_inputs=(0,),  # element-wise
    doc="Sigmoid; int8 output fixed at scale 1/256, zero point -128.",
))
