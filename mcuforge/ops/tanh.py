"""TANH: float32, or int8 with output scale 1/128 and zero point 0.

The int8 algorithm depends on the runtime (fixed_point.runtime_compat()):
- "tflm" (TFLite Micro): reference_integer_ops::Tanh. The input
  difference is rescaled to Q4.27 with a frexp multiplier (CalculateArithmeticOpDataTanh), gemmlowp::tanh
  gives Q0.31, rounded to the 1/128 output grid; inputs beyond the radius saturate. The kernel never reads
  the output quantization: it assumes scale 1/128, zero point 0, hence the check.
- "litert" (LiteRT's BUILTIN_REF TanhPrepare/TanhEval): a 256-entry table built by
  LUTPopulate<int8_t> from the host C library's tanhf.
They agree on every input scale below 8 we tried; from 8 up TFLite Micro's saturation radius is 0, so its
kernel maps every input, even x = 0, to -128 or 127 while the table stays exact; each runtime is matched bit
for bit.
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

OUTPUT_SCALE = 1.0 / 128
OUTPUT_ZERO_POINT = 0
_INPUT_INTEGER_BITS = 4  # Q4.27: tanh saturates in int8 well before |x| = 16
_OUTPUT_FRACTIONAL_BITS = 7  # the int8 output is Q0.7


def check(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(x.dtype == y.dtype, op, graph, f"input is {x.dtype} but output is {y.dtype}")
    if x.dtype == "int8":
        require_quantized(op, graph, [op.inputs[0], op.outputs[0]])
        scale, zero_point = qparams(graph, op.outputs[0])
        require(np.float32(scale) == np.float32(OUTPUT_SCALE) and zero_point == OUTPUT_ZERO_POINT, op, graph,
                f"int8 output must have scale 1/128 and zero point 0 (TFLite's rule), got scale {scale:g}, "
                f"zero point {zero_point}")


def _tanhf_correctly_rounded(x: np.ndarray) -> np.ndarray:
    return np.tanh(x.astype(np.float64)).astype(np.float32)


def _tanh_float32(x: np.ndarray) -> np.ndarray:
    """std::tanh(float): the C library's tanhf (see c_float_function)."""
    return c_float_function("tanhf", _tanhf_correctly_rounded)(x)


def tanh_int8_fixed_point(x: np.ndarray, input_scale: float, input_zero_point: int) -> np.ndarray:
    """reference_integer_ops::Tanh (int8), with TFLite Micro's Prepare parameters."""
    multiplier, left_shift, radius = input_multiplier_q4(input_scale, _INPUT_INTEGER_BITS)
    diff = x.astype(np.int64) - input_zero_point
    # Saturated inputs are replaced before rescaling so the (unused) left shift cannot overflow.
    inside = (diff > -radius) & (diff < radius)
    input_q4 = multiply_by_quantized_multiplier(np.where(inside, diff, 0), multiplier, left_shift)
    output_q0 = gemmlowp.tanh(input_q4, _INPUT_INTEGER_BITS)
    output = np.clip(rounding_divide_by_pot(output_q0, 31 - _OUTPUT_FRACTIONAL_BITS), -128, 127)
    output = np.where(diff <= -radius, -128, np.where(diff >= radius, 127, output))
    return output.astype(np.int8)


@functools.lru_cache(maxsize=64)
def _tanh_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    return lut_populate_int8(input_scale, input_zero_point, OUTPUT_SCALE, OUTPUT_ZERO_POINT, _tanh_float32)


def tanh_int8_lut(x: np.ndarray, input_scale: float, input_zero_point: int) -> np.ndarray:
    """LiteRT's TanhPrepare table (LUTPopulate<int8_t> of tanhf, onto the fixed output grid checked above),
    looked up by TanhEval."""
    return lookup_int8(_tanh_table(input_scale, input_zero_point), x)


# The int8 algorithm of each runtime (see the module docstring).
INT8_KERNELS = {"tflm": tanh_int8_fixed_point, "litert": tanh_int8_lut}


def reference(op: Op, graph: Graph, inputs):
    x = inputs[0]
    if x.dtype == np.float32:
        return [_tanhf_correctly_rounded(x)]  # within an ulp of tanhf, and vectorized
    scale, zero_point = qparams(graph, op.inputs[0])
    return [INT8_KERNELS[runtime_compat()](x, scale, zero_point)]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    return emit_elementwise_unary(op, graph, ctx, reference, "tanh_f32")


register(OpDef(
    name="TANH",
    infer_shapes=same_shape,
    reference=reference,
    check=check,
    c_kernel="tanh",
    litert_rounding="double",  # LiteRT's int8 kernel is a table lookup: nothing to requantize
    emit_c=emit_c,
    inplace_inputs=(0,),  # element-wise
    doc="Hyperbolic tangent; int8 output fixed at scale 1/128, zero point 0.",
))
