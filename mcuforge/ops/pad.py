"""PAD and PADV2: constant padding from a constant [rank, 2] paddings operand.

PAD fills with zero (for int8, the output zero point: the quantized 0.0); PADV2 fills with its scalar
constant_values operand, taken raw (for int8 it must share the output's quantization), as pad.cc EvalInt."""

from __future__ import annotations

import numpy as np

from mcuforge.codegen.c_text import C_TYPES
from mcuforge.ir import Graph, Op
from mcuforge.ops.common import require, require_quantized
from mcuforge.ops.registry import OpDef, register
from mcuforge.ops.transpose import emit_copy_strided, row_major_strides

MAX_RANK = 5  # reference_ops::PadKernelMaxDimensionCount()


def paddings(op: Op, graph: Graph) -> list[tuple[int, int]]:
    """(before, after) per input dimension."""
    x, pads = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    require(pads.is_constant, op, graph, "paddings must be a constant tensor")
    require(pads.dtype in ("int32", "int64"), op, graph, f"paddings must be int32 or int64, got {pads.dtype}")
    require(pads.shape == (len(x.shape), 2), op, graph,
            f"paddings must have shape [{len(x.shape)}, 2], got {list(pads.shape)}")
    pairs = [(int(a), int(b)) for a, b in pads.data.reshape(-1, 2)]
    require(all(a >= 0 and b >= 0 for a, b in pairs), op, graph, f"paddings must be non-negative, got {pairs}")
    return pairs


def infer_shapes(op: Op, graph: Graph):
    x = graph.tensors[op.inputs[0]]
    require(len(x.shape) <= MAX_RANK, op, graph, f"at most {MAX_RANK}-D inputs, got {list(x.shape)}")
    return [tuple(d + a + b for d, (a, b) in zip(x.shape, paddings(op, graph)))]


def _constant_values(op: Op, graph: Graph):
    """PADV2's constant_values tensor, or None (PAD, or PADV2 with the optional input left out)."""
    if len(op.inputs) > 2 and op.inputs[2]:
        return graph.tensors[op.inputs[2]]
    return None


def check(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(x.dtype == y.dtype, op, graph, f"output dtype {y.dtype} differs from input dtype {x.dtype}")
    fill = _constant_values(op, graph)
    if fill is not None:
        require(fill.dtype == x.dtype and fill.size == 1, op, graph,
                f"constant_values must be a single {x.dtype} value, got {fill.dtype}{list(fill.shape)}")
    if x.dtype != "int8":
        return
    require_quantized(op, graph, [op.inputs[0], op.outputs[0]])
    # The kernel copies raw values, so only matching quantization keeps their meaning (the TFLite kernels
    # do not check this; the converter never emits a requantizing pad).
    same = (x.quant.scalar_zero_point == y.quant.scalar_zero_point
            and np.float32(x.quant.scalar_scale) == np.float32(y.quant.scalar_scale))
    require(same, op, graph, "int8 pad needs the same scale and zero point on input and output")
    if fill is not None:
        require(fill.quant is not None and fill.quant.scalar_zero_point == y.quant.scalar_zero_point
                and np.float32(fill.quant.scalar_scale) == np.float32(y.quant.scalar_scale), op, graph,
                "int8 constant_values must share the output's scale and zero point (pad.cc EvalInt)")


def reference(op: Op, graph: Graph, inputs):
    x = inputs[0]
    y = graph.tensors[op.outputs[0]]
    fill = inputs[2] if len(inputs) > 2 and inputs[2] is not None else None
    if fill is not None:
        value = fill.reshape(-1)[0]
    elif x.dtype == np.int8:
        value = y.quant.scalar_zero_point
    else:
        value = 0
    return [np.pad(x, paddings(op, graph), constant_values=value).astype(y.dtype)]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    """Fill the output with the constant, then scatter the input into its interior (a strided copy along the
    output's strides). The interior is written twice, but both passes run at memcpy speed and no element needs
    an in-or-out test."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    pads = paddings(op, graph)
    dst = ctx.ptr(op.outputs[0])
    lines = []
    if any(a or b for a, b in pads):
        if _constant_values(op, graph) is not None:
            value = ctx.ptr(op.inputs[2])
        else:
            zero = y.quant.scalar_zero_point if y.dtype == "int8" else 0
            value = ctx.const_array("pad_value", np.array([zero], dtype=y.dtype), C_TYPES[y.dtype])
        lines.append(f"mcuforge_fill({dst}, {value}, {np.dtype(y.dtype).itemsize}, {y.size});")
    out_strides = row_major_strides(y.shape)
    lines.append(emit_copy_strided(op, graph, ctx, ctx.ptr(op.inputs[0]), dst, x.shape, row_major_strides(x.shape),
                                   out_strides, out_offset=sum(a * s for (a, _), s in zip(pads, out_strides))))
    return "\n".join(lines)


for _name, _options, _doc in (
    ("PAD", "PadOptions", "Constant padding with zero (the output zero point for int8)."),
    ("PADV2", "PadV2Options", "Constant padding with a given scalar value."),
):
    register(OpDef(name=_name, infer_shapes=infer_shapes, reference=reference, tflite_options=_options,
                   dtypes=("int8", "float32", "int32"), check=check, c_kernel="copy_strided", emit_c=emit_c,
                   doc=_doc))
