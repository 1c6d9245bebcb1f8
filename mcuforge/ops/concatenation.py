"""CONCATENATION along one axis; the output's other dimensions must match every input's.

TFLite never requantizes an int8 concatenation: both LiteRT's and TFLite Micro's Prepare require every
input to carry the output's scale and zero point (reference_ops::ConcatenationWithScaling serves uint8
only, and older TFLite Micro copied the raw bytes whatever the scales). The converter therefore gives all
inputs the output's quantization, and `check` rejects graphs that do not. Both kernels also reject a fused
activation."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import require, require_quantized
from mcuforge.ops.registry import OpDef, register
from mcuforge.ops.transpose import emit_copy_strided


def concat_axis(op: Op, graph: Graph) -> int:
    rank = len(graph.tensors[op.inputs[0]].shape)
    axis = op.attrs.get("axis", 0)
    require(-rank <= axis < rank, op, graph, f"axis {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def infer_shapes(op: Op, graph: Graph):
    shapes = [graph.tensors[n].shape for n in op.inputs]
    axis = concat_axis(op, graph)
    first = shapes[0]
    for shape in shapes[1:]:
        same_elsewhere = len(shape) == len(first) and all(
            a == b for i, (a, b) in enumerate(zip(shape, first)) if i != axis)
        require(same_elsewhere, op, graph, f"cannot concatenate shapes {[list(s) for s in shapes]} on axis {axis}")
    return [first[:axis] + (sum(s[axis] for s in shapes),) + first[axis + 1:]]


def check(op: Op, graph: Graph) -> None:
    y = graph.tensors[op.outputs[0]]
    require(len(op.inputs) >= 1 and all(op.inputs), op, graph, "needs at least one input and no absent ones")
    require(op.attrs.get("fused_activation_function", "NONE") == "NONE", op, graph,
            "TFLite's CONCATENATION kernels do not support a fused activation")
    for name in op.inputs:
        x = graph.tensors[name]
        require(x.dtype == y.dtype, op, graph, f"input {name!r} is {x.dtype} but the output is {y.dtype}")
    if y.dtype != "int8":
        return
    require_quantized(op, graph, list(op.inputs) + [op.outputs[0]])
    for name in op.inputs:
        q = graph.tensors[name].quant
        same = (q.scalar_zero_point == y.quant.scalar_zero_point
                and np.float32(q.scalar_scale) == np.float32(y.quant.scalar_scale))
        require(same, op, graph, f"int8 input {name!r} ({q.describe()}) must share the output's quantization "
                                 f"({y.quant.describe()}): TFLite does not requantize int8 concatenation")


def reference(op: Op, graph: Graph, inputs):
    return [np.concatenate(inputs, axis=concat_axis(op, graph))]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    """One strided copy per input: its rows (everything from the axis in) land side by side in the output's,
    at the input's offset along the axis."""
    y = graph.tensors[op.outputs[0]]
    axis = concat_axis(op, graph)
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    inner = int(np.prod(y.shape[axis + 1:], dtype=np.int64))
    lines, start = [], 0
    for name in op.inputs:
        run = graph.tensors[name].shape[axis] * inner
        lines.append(emit_copy_strided(op, graph, ctx, ctx.ptr(name), ctx.ptr(op.outputs[0]), (outer, run),
                                       (run, 1), (y.shape[axis] * inner, 1), out_offset=start))
        start += run
    return "\n".join(lines)


register(OpDef(
    name="CONCATENATION",
    infer_shapes=infer_shapes,
    reference=reference,
    attrs={"axis": 0, "fused_activation_function": "NONE"},
    tflite_options="ConcatenationOptions",
    dtypes=("int8", "float32", "int32"),
    check=check,
    c_kernel="copy_strided",
    emit_c=emit_c,
    doc="Join tensors along an axis.",
))
