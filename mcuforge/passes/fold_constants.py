"""Evaluate ops whose inputs are all constant (e.g. Keras Flatten's SHAPE -> STRIDED_SLICE -> PACK feeding a
RESHAPE) and replace their outputs by constants."""

from __future__ import annotations

from mcuforge.ir import Graph
from mcuforge.ops.registry import get_op


def fold_constants(graph: Graph) -> Graph:
    g = graph.copy()
    kept = []
    for op in g.ops:
        ins = [g.tensors[n] for n in op.inputs if n]
        # SHAPE needs only its input's static shape, not its data.
        foldable = op.type == "SHAPE" or (ins and all(t.is_constant for t in ins))
        if not foldable or any(n in g.outputs for n in op.outputs):
            kept.append(op)
            continue
        args = [g.tensors[n].data if n else None for n in op.inputs]
        results = get_op(op.type, g.where()).reference(op, g, args)
        for name, value in zip(op.outputs, results):
            t = g.tensors[name]
            t.data = value.astype(t.dtype).reshape(t.shape)
    g.ops = kept
    return g
