"""TRANSPOSE by a constant permutation: output dimension i is input dimension perm[i]. Values are moved, never
changed, so int8 keeps the input's quantization."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import require, require_quantized
from mcuforge.ops.registry import OpDef, register

MAX_RANK = 6  # reference_ops::Transpose handles up to 6-D (TransposeParams::perm[6])


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


register(OpDef(name="TRANSPOSE", infer_shapes=infer_shapes, reference=reference, tflite_options="TransposeOptions",
               dtypes=("int8", "float32", "int32"), check=check, c_kernel="transpose",
               doc="Permute dimensions by a constant perm."))
