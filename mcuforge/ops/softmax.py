"""SOFTMAX over the last axis: y = exp(beta * (x - max)) / sum(...), float32 or int8 (output scale 1/256,
zero point -128).

Both TFLite Micro and LiteRT's BUILTIN_REF kernel run reference_ops::Softmax for int8 (LiteRT's optimized
kernel would use a float lookup table instead; BUILTIN_REF does not): input differences from the row maximum
are rescaled to Q5.26 by PreprocessSoftmaxScaling's multiplier, exponentiated with gemmlowp's
exp_on_negative_values, summed in Q12.19, inverted with GetReciprocal and rounded to the 1/256 grid;
differences below diff_min (where exp is negligible) give the minimum output. The runtimes differ only in
rounding: PreprocessSoftmaxScaling caps the multiplier lower under single rounding, and the rescaling is
MultiplyByQuantizedMultiplierGreaterThanOne in each convention, so one algorithm serves both flavors.
The generated C (kernels/softmax_s8) gets the 256 possible exps as a table (exp_table) computed at compile
time under the op's rounding, and sums, inverts and rounds in integers as the C++ does."""

from __future__ import annotations

import numpy as np

from mcuforge.errors import InputError
from mcuforge.ir import Graph, Op
from mcuforge.ops.common import qparams, require, require_quantized, same_shape
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant import gemmlowp
from mcuforge.quant.activation_params import calculate_input_radius, preprocess_softmax_scaling
from mcuforge.quant.fixed_point import (
    multiply_by_quantized_multiplier_greater_than_one,
    rounding_divide_by_pot,
    wrap_int32,
)

OUTPUT_SCALE = 1.0 / 256
OUTPUT_ZERO_POINT = -128
# Q5.26 for the scaled differences: values down to -32 fit, and exp(-16) is already negligible.
_SCALED_DIFF_INTEGER_BITS = 5
# Q12.19 for the sum of exps; the output shift further limits the sum to below 512 (see softmax_int8).
_ACCUMULATION_INTEGER_BITS = 12


def check(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(len(x.shape) >= 1, op, graph, "input must have at least one dimension")
    require(x.dtype == y.dtype, op, graph, f"input is {x.dtype} but output is {y.dtype}")
    if x.dtype != "int8":
        return
    require_quantized(op, graph, [op.inputs[0], op.outputs[0]])
    scale, zero_point = qparams(graph, op.outputs[0])
    # CalculateSoftmaxParams (TFLite Micro) requires the scale exactly; LiteRT allows 0.1% off.
    require(np.float32(scale) == np.float32(OUTPUT_SCALE) and zero_point == OUTPUT_ZERO_POINT, op, graph,
            f"int8 output must have scale 1/256 and zero point -128 (TFLite's rule), got scale {scale:g}, "
            f"zero point {zero_point}")
    # PreprocessSoftmaxScaling goes through QuantizeMultiplierGreaterThanOne, which CHECK-fails at <= 1.
    beta, in_scale = op.attrs.get("beta", 1.0), qparams(graph, op.inputs[0])[0]
    real = float(np.float32(beta)) * float(np.float32(in_scale)) * (1 << (31 - _SCALED_DIFF_INTEGER_BITS))
    require(real > 1.0, op, graph, f"beta * input scale = {beta:g} * {in_scale:g} is too small "
            "(TFLite needs beta * scale * 2^26 > 1)")


def exp_table(input_scale: float, beta: float) -> np.ndarray:
    """The exps of reference_ops::Softmax<int8_t, int8_t>, tabulated: entry d is exp of the difference -d
    from the row maximum (d in 0..255), rescaled to Q5.26 with PreprocessSoftmaxScaling's multiplier under the
    current rounding, as Q0.31. Differences below diff_min (-CalculateInputRadius), which the C++ skips, are 0:
    they then add nothing to the sum and give the minimum output, as the skip does."""
    multiplier, left_shift = preprocess_softmax_scaling(beta, input_scale, _SCALED_DIFF_INTEGER_BITS)
    diff_min = -calculate_input_radius(_SCALED_DIFF_INTEGER_BITS, left_shift)
    diff = -np.arange(256, dtype=np.int64)
    counted = diff >= diff_min
    # Zero the skipped differences before rescaling so that the rescaling cannot overflow.
    scaled_diff = multiply_by_quantized_multiplier_greater_than_one(np.where(counted, diff, 0), multiplier,
                                                                    left_shift)
    return np.where(counted, gemmlowp.exp_on_negative_values(scaled_diff, _SCALED_DIFF_INTEGER_BITS), 0)


def softmax_int8(x: np.ndarray, input_scale: float, beta: float, where: str = "SOFTMAX") -> np.ndarray:
    """reference_ops::Softmax<int8_t, int8_t> over the last axis, with its Prepare parameters
    (PreprocessSoftmaxScaling, diff_min = -CalculateInputRadius) under the current rounding.

    A row whose exps sum to 512 or more (only possible in rows of 512+ values, nearly all at the maximum)
    makes the output shift exceed 31; TFLite's kernel aborts there (TFLITE_CHECK), so this raises."""
    rows = x.reshape(-1, x.shape[-1]).astype(np.int64)
    exp_q0 = exp_table(input_scale, beta)[rows.max(axis=1, keepdims=True) - rows]
    exp_accum = gemmlowp.rescale(exp_q0, 0, _ACCUMULATION_INTEGER_BITS)
    # The C++ adds int32s in order; wrapping addition is associative, so a sum then a wrap is the same.
    sum_of_exps = wrap_int32(exp_accum.sum(axis=1))
    shifted_scale, num_bits_over_unit = gemmlowp.get_reciprocal(sum_of_exps, _ACCUMULATION_INTEGER_BITS)
    exponent = num_bits_over_unit + 31 - 8  # to the 8-bit output grid
    if (exponent > 31).any():
        row = int(np.flatnonzero(exponent > 31)[0])
        raise InputError(f"{where}: row {row} of the input sums to 512 or more after exp, beyond the Q12.19 "
                         "range TFLite's int8 softmax supports (its kernel aborts on such input)")
    unsat = rounding_divide_by_pot(gemmlowp.mul(shifted_scale[:, None], exp_q0), exponent[:, None])
    return np.clip(unsat + OUTPUT_ZERO_POINT, -128, 127).astype(np.int8).reshape(x.shape)


def softmax_float32(x: np.ndarray, beta: float) -> np.ndarray:
    """reference_ops::Softmax<float>: exp((x - max) * beta) in float32, summed in row order, then divided."""
    rows = x.reshape(-1, x.shape[-1]).astype(np.float32)
    scaled = (rows - rows.max(axis=1, keepdims=True)) * np.float32(beta)
    exps = np.exp(scaled.astype(np.float64)).astype(np.float32)
    total = np.zeros(rows.shape[0], dtype=np.float32)
    for c in range(rows.shape[1]):
        total = total + exps[:, c]
    return (exps / total[:, None]).reshape(x.shape)


def reference(op: Op, graph: Graph, inputs):
    x = inputs[0]
    beta = float(op.attrs.get("beta", 1.0))
    if x.dtype == np.float32:
        return [softmax_float32(x, beta)]
    where = f"{graph.where()}: SOFTMAX ({op.outputs[0]})"
    return [softmax_int8(x, qparams(graph, op.inputs[0])[0], beta, where)]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    x = graph.tensors[op.inputs[0]]
    beta = float(op.attrs.get("beta", 1.0))
    dims = {"rows": x.size // x.shape[-1], "depth": x.shape[-1]}
    args = f"{ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])}"
    if x.dtype == "float32":
        ctx.use_kernel("softmax_f32")
        return f"mcuforge_softmax_f32({ctx.params('mcuforge_softmax_f32_params', {**dims, 'beta': beta})}, {args});"
    # emit_c runs under the op's rounding, so the table holds the very exps the reference computes.
    ctx.use_kernel("softmax_s8")
    table = ctx.const_array("exp", exp_table(qparams(graph, op.inputs[0])[0], beta))
    return f"mcuforge_softmax_s8({ctx.params('mcuforge_softmax_s8_params', {**dims, 'exp_table': table})}, {args});"


register(OpDef(
    name="SOFTMAX",
    infer_shapes=same_shape,
    reference=reference,
    attrs={"beta": 1.0},
    tflite_options="SoftmaxOptions",
    check=check,
    c_kernel="softmax",
    # TFLITE_SINGLE_ROUNDING changes PreprocessSoftmaxScaling's cap and MultiplyByQuantizedMultiplierGreaterThanOne,
    # but the outputs only part on exact ties of the input rescaling, which need beta * scale * 2^26 to hold a
    # half: no test here (nor a realistic model) tells the conventions apart for this op.
    litert_rounding="single",
    emit_c=emit_c,
    inplace_inputs=(0,),  # each input value is read before its output is written, and never after
    doc="Softmax over the last axis; int8 output fixed at scale 1/256, zero point -128.",
))
