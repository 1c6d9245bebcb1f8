"""SHAPE and PACK: shape arithmetic that constant folding removes before code generation."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.registry import OpDef, register


def _shape_reference(op: Op, graph: Graph, inputs):
    return [np.array(graph.tensors[op.inputs[0]].shape, dtype=graph.tensors[op.outputs[0]].dtype)]


def _pack_shapes(op: Op, graph: Graph):
    first = graph.tensors[op.inputs[0]].shape
    axis = op.attrs.get("axis", 0) % (len(first) + 1)
    return [first[:axis] + (len(op.inputs),) + first[axis:]]


def _pack_reference(op: Op, graph: Graph, inputs):
    axis = op.attrs.get("axis", 0) % (inputs[0].ndim + 1)
    return [np.stack(inputs, axis=axis)]


register(OpDef(name="SHAPE", infer_shapes=lambda op, g: [(len(g.tensors[op.inputs[0]].shape),)],
               reference=_shape_reference, attrs={"out_type": 2}, tflite_options="ShapeOptions",
               dtypes=("int8", "uint8", "int16", "int32", "float32"), doc="Static shape; folded at import."))
register(OpDef(name="PACK", infer_shapes=_pack_shapes, reference=_pack_reference,
               attrs={"values_count": 0, "axis": 0}, tflite_options="PackOptions",
               dtypes=("int32", "int8", "float32"), doc="Stack tensors along a new axis; folded when constant."))
