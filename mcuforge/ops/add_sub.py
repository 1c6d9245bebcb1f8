"""ADD and SUB: element-wise with broadcasting. int8 rescales both inputs to a common scale in 2^20 fixed
point, adds (or subtracts), then rescales to the output (TFLite's "general rescaling" 8-bit path)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import (activation_range_float, broadcast_shape, output_activation_range, require,
                                 require_quantized, saturate)
from mcuforge.ops.registry import OpDef, register
from mcuforge.quant.fixed_point import multiply_by_quantized_multiplier_smaller_than_one, quantize_multiplier

# int8 inputs are shifted left by 20 bits before rescaling: 255 << 20 still leaves headroom in int32 for the sum.
INT8_LEFT_SHIFT = 20
# The fused activations TFLite's binary ops clamp to; TANH and SIGN_BIT are not applied by their kernels.
FUSED_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
# LiteRT's reference broadcast kernels (BroadcastAdd6DSlow, BroadcastSubCommon) handle up to 6 dimensions.
MAX_BROADCAST_RANK = 6
# int8 outputs of at least this many elements use the lookup-table kernel (mcuforge_add_sub_s8_lut): its two
# 256-entry int32 tables (LUT_BYTES of arena scratch) then cost at most as much RAM as the output itself, and
# building them (512 rescales) a small part of the ~45 cycles per element they save on a Cortex-M4.
LUT_MIN_ELEMENTS = 2048
LUT_BYTES = 2048  # MCUFORGE_ADD_SUB_LUT_BYTES


def real_multipliers(op: Op, graph: Graph) -> tuple[float, float, float]:
    """(input1, input2, output) real multipliers as add.cc / sub.cc Prepare compute them: the float32 scales
    widened to double before dividing (multiplying by 2 or 2^20 is exact either way).

    TFLite Micro's sub_common.cc on GitHub divides in float32 and widens only the quotients, but the tflite-micro
    build our golden tests run agrees with the double quotients (with test_int8_broadcasting's scales, an
    exhaustive 256x256 SUB differs from it in 124 of 65536 outputs with float quotients, in none with double)."""
    s1, s2, so = (np.float64(graph.tensors[n].quant.scalar_scale) for n in (*op.inputs[:2], op.outputs[0]))
    twice_max = 2.0 * max(s1, s2)
    return float(s1 / twice_max), float(s2 / twice_max), float(twice_max / (2.0 ** INT8_LEFT_SHIFT * so))


def check(op: Op, graph: Graph) -> None:
    a, b, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    require(a.dtype == b.dtype == y.dtype, op, graph, f"input and output dtypes differ: {a.dtype}, {b.dtype} -> "
            f"{y.dtype}")
    activation = op.attrs.get("fused_activation_function", "NONE")
    require(activation in FUSED_ACTIVATIONS, op, graph, f"fused activation {activation} is not supported")
    require(max(len(a.shape), len(b.shape)) <= MAX_BROADCAST_RANK, op, graph,
            f"broadcasting supports at most {MAX_BROADCAST_RANK} dimensions")
    if a.dtype != "int8":
        return
    names = [op.inputs[0], op.inputs[1], op.outputs[0]]
    require_quantized(op, graph, names)
    for name in names:
        require(not graph.tensors[name].quant.per_channel, op, graph, f"{name!r} must be quantized per tensor")
    # QuantizeMultiplierSmallerThanOneExp aborts the interpreter otherwise (an output scale ~2^-19 of the inputs').
    require(real_multipliers(op, graph)[2] < 1.0, op, graph,
            "output scale is too small for TFLite's 2^20 fixed-point rescaling")


def _rescale_input(x: np.ndarray, zero_point: int, real_multiplier: float) -> np.ndarray:
    """(x - zero_point) << 20, times the input's multiplier (at most 1/2): the input in the common scale."""
    multiplier, shift = quantize_multiplier(real_multiplier)
    shifted = (x.astype(np.int64) - zero_point) << INT8_LEFT_SHIFT
    return multiply_by_quantized_multiplier_smaller_than_one(shifted, multiplier, shift)


def _quantized_add_sub(op: Op, graph: Graph, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """reference_integer_ops::AddFunc / reference_ops::SubElementwise before the clamp."""
    real1, real2, real_out = real_multipliers(op, graph)
    zp1, zp2 = (graph.tensors[n].quant.scalar_zero_point for n in op.inputs[:2])
    # The rescaling is per element, so each input is rescaled at its own shape and only the sum broadcasts.
    scaled1, scaled2 = _rescale_input(a, zp1, real1), _rescale_input(b, zp2, real2)
    raw = scaled1 - scaled2 if op.type == "SUB" else scaled1 + scaled2
    out_mult, out_shift = quantize_multiplier(real_out)
    return multiply_by_quantized_multiplier_smaller_than_one(raw, out_mult, out_shift)


def broadcast_layout(op: Op, graph: Graph) -> tuple[list[int], list[int], list[int]]:
    """(dims, a_strides, b_strides) of kernels/broadcast.h: the output's size-1 dimensions dropped, neighbours
    both inputs broadcast alike merged (equal shapes become one row), padded to rank 6."""
    out = graph.tensors[op.outputs[0]].shape
    shapes = [(1,) * (len(out) - len(s)) + s for s in (graph.tensors[n].shape for n in op.inputs[:2])]
    dims, runs = [], []  # runs[j]: whether each input steps along merged dimension j
    for d, n in enumerate(out):
        if n == 1:
            continue
        run = tuple(s[d] == n for s in shapes)
        if runs and runs[-1] == run:
            dims[-1] *= n
        else:
            dims.append(n)
            runs.append(run)
    strides = [[0] * len(dims) for _ in shapes]
    for k in range(len(shapes)):
        step = 1
        for j in reversed(range(len(dims))):
            if runs[j][k]:
                strides[k][j], step = step, step * dims[j]
    pad = MAX_BROADCAST_RANK - len(dims)
    return [1] * pad + dims, [0] * pad + strides[0], [0] * pad + strides[1]


def broadcast_fields(op: Op, graph: Graph) -> dict:
    """The mcuforge_broadcast initializer of a binary op (broadcast_layout as C arrays)."""

    def c_array(values) -> str:
        return "{" + ", ".join(str(v) for v in values) + "}"

    dims, a_strides, b_strides = broadcast_layout(op, graph)
    return {"dims": c_array(dims), "a_strides": c_array(a_strides), "b_strides": c_array(b_strides)}


def uses_lut(op: Op, graph: Graph) -> bool:
    """Whether the int8 op runs the lookup-table kernel: a large output and both inputs stepping along the
    innermost merged dimension (equal shapes, or broadcasts that keep the channels), where every element looks
    up both tables."""
    out = graph.tensors[op.outputs[0]]
    if out.dtype != "int8" or out.size < LUT_MIN_ELEMENTS:
        return False
    _, a_strides, b_strides = broadcast_layout(op, graph)
    return a_strides[-1] != 0 and b_strides[-1] != 0


def scratch_bytes(op: Op, graph: Graph) -> int:
    return LUT_BYTES if uses_lut(op, graph) else 0


def emit_c(op: Op, graph: Graph, ctx) -> str:
    ctx.use_kernel("broadcast")
    shape = broadcast_fields(op, graph)
    subtract = int(op.type == "SUB")
    args = f"{ctx.ptr(op.inputs[0])}, {ctx.ptr(op.inputs[1])}, {ctx.ptr(op.outputs[0])}"
    if graph.tensors[op.inputs[0]].dtype == "float32":
        ctx.use_kernel("add_sub_f32")
        lo, hi = activation_range_float(op.attrs.get("fused_activation_function", "NONE"))
        params = ctx.params("mcuforge_add_sub_f32_params", {"shape": shape, "subtract": subtract, "act_min": lo,
                                                             "act_max": hi})
        return f"mcuforge_add_sub_f32({params}, {args});"
    ctx.use_kernel("dsp_s8", rounding_neutral=True)  # add_sub_s8.h includes it: the DSP variant
    ctx.use_kernel("add_sub_s8")
    (m1, s1), (m2, s2), (mo, so) = map(quantize_multiplier, real_multipliers(op, graph))
    zp1, zp2 = (graph.tensors[n].quant.scalar_zero_point for n in op.inputs[:2])
    lo, hi = output_activation_range(op, graph)
    params = ctx.params("mcuforge_add_sub_params", {
        "shape": shape, "subtract": subtract, "left_shift": INT8_LEFT_SHIFT,
        "input1_offset": -zp1, "input1_multiplier": m1, "input1_shift": s1,
        "input2_offset": -zp2, "input2_multiplier": m2, "input2_shift": s2,
        "output_multiplier": mo, "output_shift": so,
        "output_offset": graph.tensors[op.outputs[0]].quant.scalar_zero_point, "act_min": lo, "act_max": hi})
    if uses_lut(op, graph):
        return f"mcuforge_add_sub_s8_lut({params}, {args}, (int32_t *){ctx.scratch()});"
    return f"mcuforge_add_sub_s8({params}, {args});"


def reference(op: Op, graph: Graph, inputs):
    a, b = inputs[0], inputs[1]
    out_t = graph.tensors[op.outputs[0]]
    if a.dtype == np.float32:
        lo, hi = activation_range_float(op.attrs.get("fused_activation_function", "NONE"))
        y = a - b if op.type == "SUB" else a + b
        return [np.clip(y, np.float32(lo), np.float32(hi)).astype(np.float32).reshape(out_t.shape)]
    # Both oracles round these three multiplies the gemmlowp ("double") way. LiteRT is our "single" rounding
    # oracle because its FULLY_CONNECTED rounds once, but its reference ADD and SUB do not (nor MUL, the RELUs,
    # LEAKY_RELU or the int8 QUANTIZE): exhaustive 256x256 tests agree with double rounding on every pair of
    # values and differ from single rounding on ~0.4% of them.
    y = _quantized_add_sub(op, graph, a, b) + out_t.quant.scalar_zero_point
    lo, hi = output_activation_range(op, graph)
    return [saturate(y, lo, hi, out_t.dtype).reshape(out_t.shape)]


for _name, _options, _doc in (
    ("ADD", "AddOptions", "Element-wise sum with broadcasting and a fused activation."),
    ("SUB", "SubOptions", "Element-wise difference with broadcasting and a fused activation."),
):
    register(OpDef(
        litert_rounding="double",
        name=_name,
        infer_shapes=broadcast_shape,
        reference=reference,
        # pot_scale_int16 only selects an int16 kernel variant; the schema's default is true.
        attrs={"fused_activation_function": "NONE", "pot_scale_int16": True},
        tflite_options=_options,
        dtypes=("int8", "float32"),
        check=check,
        c_kernel="add_sub",
        emit_c=emit_c,
        scratch_bytes=scratch_bytes,
        # Element-wise: each output element is written after reading the input elements it comes from.
        inplace_inputs=(0, 1),
        doc=_doc,
    ))
