"""RESHAPE, EXPAND_DIMS, SQUEEZE: same bytes, new shape. Quantization passes through unchanged."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op
from mcuforge.ops.common import require
from mcuforge.ops.registry import OpDef, register

_DTYPES = ("int8", "uint8", "int16", "int32", "float32", "bool", "int64")


def _reshape_target(op: Op, graph: Graph) -> tuple[int, ...]:
    x = graph.tensors[op.inputs[0]]
    if len(op.inputs) > 1 and op.inputs[1] and graph.tensors[op.inputs[1]].is_constant:
        target = [int(v) for v in graph.tensors[op.inputs[1]].data.reshape(-1)]
    elif op.attrs.get("new_shape"):
        target = list(op.attrs["new_shape"])
    else:
        return graph.tensors[op.outputs[0]].shape
    if -1 in target:
        known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
        require(known > 0 and x.size % known == 0, op, graph, f"cannot reshape {list(x.shape)} to {target}")
        target[target.index(-1)] = x.size // known
    require(int(np.prod(target, dtype=np.int64)) == x.size, op, graph, f"cannot reshape {list(x.shape)} to {target}")
    return tuple(target)


def _check_same_quant(op: Op, graph: Graph) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if x.quant is not None and y.quant is not None:
        require(np.array_equal(x.quant.scale, y.quant.scale) and np.array_equal(x.quant.zero_point, y.quant.zero_point),
                op, graph, "input and output quantization differ (a reshape cannot requantize)")


def _same_data(op: Op, graph: Graph, inputs):
    return [inputs[0].reshape(graph.tensors[op.outputs[0]].shape)]


def _expand_dims_shape(op: Op, graph: Graph):
    x = graph.tensors[op.inputs[0]]
    axis_t = graph.tensors[op.inputs[1]]
    require(axis_t.is_constant, op, graph, "axis must be a constant")
    axis = int(axis_t.data.reshape(-1)[0])
    if axis < 0:
        axis += len(x.shape) + 1
    return [x.shape[:axis] + (1,) + x.shape[axis:]]


def _squeeze_shape(op: Op, graph: Graph):
    shape = graph.tensors[op.inputs[0]].shape
    dims = [d % len(shape) for d in op.attrs.get("squeeze_dims") or []]
    if not dims:
        dims = [i for i, d in enumerate(shape) if d == 1]
    for d in dims:
        require(shape[d] == 1, op, graph, f"cannot squeeze dimension {d} of size {shape[d]}")
    return [tuple(s for i, s in enumerate(shape) if i not in dims)]


for _name, _infer, _attrs, _options in (
    ("RESHAPE", lambda op, g: [_reshape_target(op, g)], {"new_shape": []}, "ReshapeOptions"),
    ("EXPAND_DIMS", _expand_dims_shape, {}, "ExpandDimsOptions"),
    ("SQUEEZE", _squeeze_shape, {"squeeze_dims": []}, "SqueezeOptions"),
):
    register(OpDef(name=_name, infer_shapes=_infer, reference=_same_data, attrs=_attrs, tflite_options=_options,
                   dtypes=_DTYPES, check=_check_same_quant, c_kernel=None, view_of_input=True,
                   doc="View with a new shape; aliases its input in generated code."))
