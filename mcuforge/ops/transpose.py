"""TRANSPOSE by a constant permutation: output dimension i is input dimension perm[i]. Values are moved, never
changed, so int8 keeps the input's quantization.

A transpose is the most general strided copy, so this module also holds `emit_copy_strided`, the emitter
helper of kernels/copy_strided.c that every pure data-movement op (PAD, CONCATENATION, STRIDED_SLICE) uses."""

from __future__ import annotations

import numpy as np

from mcuforge.errors import UnsupportedOpError
from mcuforge.ir import Graph, Op
from mcuforge.ops.common import require, require_quantized
from mcuforge.ops.registry import OpDef, register

MAX_RANK = 6  # reference_ops::Transpose handles up to 6-D (TransposeParams::perm[6])
MAX_COPY_DIMS = 6  # MCUFORGE_COPY_MAX_DIMS in kernels/copy_strided.h


def row_major_strides(shape) -> list[int]:
    """Element strides of a contiguous tensor."""
    return [int(np.prod(shape[d + 1:], dtype=np.int64)) for d in range(len(shape))]


def merge_copy_dims(dims, in_strides, out_strides) -> list[tuple[int, int, int]]:
    """(size, in_stride, out_stride) per dimension of a strided copy, size-1 dimensions dropped and neighbours
    merged when they are contiguous on both sides: fewer, longer runs (a plain copy becomes one memcpy)."""
    merged: list[tuple[int, int, int]] = []
    for size, si, so in zip(dims, in_strides, out_strides):
        if size == 1:
            continue
        if merged and merged[-1][1] == size * si and merged[-1][2] == size * so:
            merged[-1] = (merged[-1][0] * size, si, so)
        else:
            merged.append((size, si, so))
    return merged or [(1, 1, 1)]


def emit_copy_strided(op: Op, graph: Graph, ctx, src: str, dst: str, dims, in_strides, out_strides,
                      in_offset: int = 0, out_offset: int = 0) -> str:
    """One call of mcuforge_copy_strided for `op`: element (i0, ...) of the box `dims` moves from element
    in_offset + sum(i * in_strides) of C pointer `src` to element out_offset + sum(i * out_strides) of `dst`
    (strides and offsets in elements of the op's output dtype)."""
    ctx.use_kernel("copy_strided")
    size = np.dtype(graph.tensors[op.outputs[0]].dtype).itemsize
    merged = merge_copy_dims(dims, in_strides, out_strides)
    if len(merged) > MAX_COPY_DIMS:
        raise UnsupportedOpError(f"{graph.where()}: {op.type} ({op.outputs[0]}): a copy over {len(merged)} "
                                 f"non-contiguous dimensions (the kernel walks at most {MAX_COPY_DIMS})")

    def c_list(values) -> str:
        return "{" + ", ".join(str(v) for v in values) + "}"

    params = ctx.params("mcuforge_copy_params", {
        "rank": len(merged), "element_size": size, "in_offset": in_offset * size, "out_offset": out_offset * size,
        "dims": c_list(n for n, _, _ in merged), "in_strides": c_list(si * size for _, si, _ in merged),
        "out_strides": c_list(so * size for _, _, so in merged)})
    return f"mcuforge_copy_strided({params}, {src}, {dst});"


def permutation(op: Op, graph: Graph) -> list[int]:
    x, perm_t = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    require(perm_t.is_constant, op, graph, "perm must be a constant tensor")
    require(perm_t.dtype == "int32", op, graph, f"perm must be int32, got {perm_t.dtype}")
    perm = [int(p) for p in perm_t.data.reshape(-1)]
    # transpose.cc Prepare: one entry per dimension, each in [0, rank) ("permutations array is out of bounds").
    require(sorted(perm) == list(range(len(x.shape))), op, graph,
            f"perm {perm} is not a permutation of the {len(x.shape)} input dimensions")
    return perm


def infer_shapes(op: Op, graph: Graph):
    shape = graph.tensors[op.inputs[0]].shape
    require(len(shape) <= MAX_RANK, op, graph, f"at most {MAX_RANK}-D inputs, got {list(shape)}")
    return [tuple(shape[p] for p in permutation(op, graph))]


def check(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    require(x.dtype == y.dtype, op, graph, f"output dtype {y.dtype} differs from input dtype {x.dtype}")
    if x.dtype == "int8":
        require_quantized(op, graph, [op.inputs[0], op.outputs[0]])
        same = (x.quant.scalar_zero_point == y.quant.scalar_zero_point
                and np.float32(x.quant.scalar_scale) == np.float32(y.quant.scalar_scale))
        require(same, op, graph, "int8 transpose needs the same scale and zero point on input and output")


def reference(op: Op, graph: Graph, inputs):
    return [np.ascontiguousarray(np.transpose(inputs[0], permutation(op, graph)))]


def emit_c(op: Op, graph: Graph, ctx) -> str:
    """A gather: walk the output in order, stepping through the input along the permuted strides."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    strides = row_major_strides(x.shape)
    return emit_copy_strided(op, graph, ctx, ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0]), y.shape,
                             [strides[p] for p in permutation(op, graph)], row_major_strides(y.shape))


register(OpDef(name="TRANSPOSE", infer_shapes=infer_shapes, reference=reference, tflite_options="TransposeOptions",
               dtypes=("int8", "float32", "int32"), check=check, c_kernel="copy_strided", emit_c=emit_c,
               doc="Permute dimensions by a constant perm."))
