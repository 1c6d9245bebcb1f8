"""STRIDED_SLICE with constant begin/end/strides and TFLite's masks (StridedSliceOptions).

Index resolution mirrors LiteRT's strided_slice.cc BuildStridedSliceParams (ellipsis and new-axis masks
rewritten into begin/end masks over an "effective" input shape with the new axes inserted) and
strided_slice_logic.h StridedSliceStartForAxis / StridedSliceEndForAxis (negative indices wrap once, then
clamp to [0, size] going forward or [-1, size - 1] going backward; masks take the whole extent; `offset`
makes end relative to begin). TFLite Micro implements the plain subset: no ellipsis, new-axis or offset,
and one begin/end/stride entry per input dimension."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import require, require_quantized
from mcuforge.ops.registry import OpDef, register
from mcuforge.ops.transpose import emit_copy_strided, row_major_strides

MAX_EFFECTIVE_RANK = 5  # ResizeOutputTensor: "only supports up to 5D output including added axis"
MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


@dataclass
class SlicePlan:
    effective_shape: tuple[int, ...]  # the input shape with new axes inserted
    ranges: list[range]  # input indices read along each effective dimension
    shrink: list[bool]  # effective dimensions dropped from the output

    @property
    def output_shape(self) -> tuple[int, ...]:
        return tuple(len(r) for r, s in zip(self.ranges, self.shrink) if not s)


class AxisSpec(NamedTuple):
    """One dimension of the effective input, as BuildStridedSliceParams fills StridedSliceParams."""

    start: int
    stop: int
    stride: int
    begin_masked: bool
    end_masked: bool
    shrink: bool
    source: int | None  # the input dimension walked; None for an inserted (new) axis


def _bit(mask: int, i: int) -> bool:
    return bool(mask >> i & 1)


def _effective_params(op: Op, begin, end, strides, rank: int) -> list[AxisSpec]:
    """BuildStridedSliceParams: the ellipsis and new-axis masks rewritten away, one AxisSpec per dimension."""
    a = op.attrs
    ellipsis, new_axis = a["ellipsis_mask"], a["new_axis_mask"]
    count = len(begin)
    num_add_axis = sum(1 for i in range(count) if _bit(new_axis, i) and not _bit(ellipsis, i))
    dims = rank + num_add_axis
    # First pass: which effective dimensions the ellipsis covers and which are new axes.
    in_ellipsis, is_new, ellipsis_start, expanded = [False] * dims, [False] * dims, dims, 0
    i = 0
    while i < dims:
        if _bit(ellipsis, i):
            ellipsis_start = i
            ellipsis_end = max(i + 1, min(i + 1 + num_add_axis + rank - count, dims))
            expanded = ellipsis_end - ellipsis_start - 1
            for j in range(i, ellipsis_end):
                in_ellipsis[j] = True
            i = ellipsis_end
            continue
        is_new[i] = _bit(new_axis, i - expanded)
        i += 1
    params: list[AxisSpec] = []
    added_ellipsis, added_axes = 0, 0
    for i in range(dims):
        if in_ellipsis[i]:
            added_ellipsis = max(0, i - ellipsis_start)
            params.append(AxisSpec(0, 0, 1, True, True, False, i - added_axes))
        elif is_new[i]:
            params.append(AxisSpec(0, 1, 1, False, False, False, None))
            added_axes += 1
        elif i >= count + expanded:  # dimensions past the spec are taken whole
            params.append(AxisSpec(0, 0, 1, True, True, False, i - added_axes))
        else:
            k = i - added_ellipsis
            params.append(AxisSpec(int(begin[k]), int(end[k]), int(strides[k]), _bit(a["begin_mask"], k),
                                   _bit(a["end_mask"], k), _bit(a["shrink_axis_mask"], k), i - added_axes))
    return params


def _wrap_and_clamp(value: int, size: int, stride: int) -> int:
    """A negative index counts from the end (once); then clamp to [0, size] forward, [-1, size - 1] backward."""
    if value < 0:
        value += size
    return min(max(value, 0), size) if stride > 0 else min(max(value, -1), size - 1)


def slice_plan(op: Op, graph: Graph) -> SlicePlan:
    x = graph.tensors[op.inputs[0]]
    operands = []
    for name, what in zip(op.inputs[1:4], ("begin", "end", "strides")):
        t = graph.tensors[name]
        require(t.is_constant and t.dtype == "int32" and len(t.shape) == 1, op, graph,
                f"{what} must be a constant 1-D int32 tensor")
        operands.append(t.data.astype(np.int64))
    begin, end, strides = operands
    require(len(begin) == len(end) == len(strides), op, graph, "begin, end and strides differ in length")
    require(bool(np.all(strides != 0)), op, graph, "stride value has to be non-zero")
    params = _effective_params(op, begin, end, strides, len(x.shape))
    require(len(params) <= MAX_EFFECTIVE_RANK, op, graph,
            f"at most {MAX_EFFECTIVE_RANK}-D including new axes, got {len(params)}")
    shape, ranges, shrink = [], [], []
    for spec in params:
        size = 1 if spec.source is None else x.shape[spec.source]
        stride = spec.stride
        # StridedSliceStartForAxis
        start = _wrap_and_clamp(spec.start, size, stride)
        if spec.begin_masked:
            start = 0 if stride > 0 else size - 1
        # StridedSliceEndForAxis (with offset, end counts from the resolved start)
        if spec.shrink:
            require(stride > 0 and 0 <= start < size, op, graph, "a shrunk axis must index one element with a "
                                                                "positive stride (TFLite reads nothing otherwise)")
            stop = start + 1
        else:
            stop = _wrap_and_clamp(spec.stop + start if op.attrs["offset"] else spec.stop, size, stride)
            if spec.end_masked:
                stop = size if stride > 0 else -1
        shape.append(size)
        ranges.append(range(start, stop, stride))
        shrink.append(spec.shrink)
    return SlicePlan(tuple(shape), ranges, shrink)


def infer_shapes(op: Op, graph: Graph):
    out = slice_plan(op, graph).output_shape
    require(all(d > 0 for d in out), op, graph, f"the slice is empty (shape {list(out)})")
    return [out]


def check(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(len(op.inputs) == 4, op, graph, "needs input, begin, end and strides")
    require(x.dtype == y.dtype, op, graph, f"output dtype {y.dtype} differs from input dtype {x.dtype}")
    if x.dtype == "int8":
        require_quantized(op, graph, [op.inputs[0], op.outputs[0]])
        same = (x.quant.scalar_zero_point == y.quant.scalar_zero_point
                and np.float32(x.quant.scalar_scale) == np.float32(y.quant.scalar_scale))
        require(same, op, graph, "int8 strided slice needs the same scale and zero point on input and output")


def reference(op: Op, graph: Graph, inputs):
    plan = slice_plan(op, graph)
    x = inputs[0].reshape(plan.effective_shape)
    picked = x[np.ix_(*[np.array(r, dtype=np.int64) for r in plan.ranges])]
    return [picked.reshape(plan.output_shape)]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    """A gather over the effective input (new axes inserted, shrunk axes kept as size 1): output dimension d
    steps through the input by range.step input rows, starting at range.start; the output is walked in order."""
    plan = slice_plan(op, graph)
    strides = row_major_strides(plan.effective_shape)
    dims = [len(r) for r in plan.ranges]
    return emit_copy_strided(op, graph, ctx, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0]), dims,
                             [s * r.step for s, r in zip(strides, plan.ranges)], row_major_strides(dims),
                             in_offset=sum(s * r.start for s, r in zip(strides, plan.ranges)))


register(OpDef(
    name="STRIDED_SLICE",
    infer_shapes=infer_shapes,
    reference=reference,
    attrs={**{m: 0 for m in MASKS}, "offset": False},
    tflite_options="StridedSliceOptions",
    dtypes=("int8", "float32", "int32"),
    check=check,
    c_kernel="copy_strided",
    emit_c=emit_c,
    doc="NumPy-style strided slice with TFLite's begin/end/ellipsis/new-axis/shrink masks.",
))
