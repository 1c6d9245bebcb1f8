"""Remove ops that do not change their input: a view (RESHAPE, SQUEEZE, EXPAND_DIMS) to the same shape, a
TRANSPOSE by the identity permutation, a PAD/PADV2 of nothing, a CONCATENATION of one tensor; and collapse a
view read only by RESHAPEs into them (reshape(reshape(x)) is reshape(x)), as layout conversions at import
leave behind.

An identity's readers then read its input. When its output is a graph output, the op before it writes that
output instead; an identity that copies a graph input or a constant to a graph output stays."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op

VIEWS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")


def remove_identity(graph: Graph) -> Graph:
    g = graph.copy()
    changed = True
    while changed:
        changed = _remove_one_identity(g) or _collapse_one_view_chain(g)
    return g


def _same_quantization(g: Graph, a: str, b: str) -> bool:
    qa, qb = g.tensors[a].quant, g.tensors[b].quant
    if qa is None or qb is None:
        return qa is None and qb is None
    return (np.array_equal(qa.scale, qb.scale) and np.array_equal(qa.zero_point, qb.zero_point)
            and qa.axis == qb.axis)


def _constant(g: Graph, name: str) -> list[int] | None:
    t = g.tensors[name] if name else None
    return None if t is None or not t.is_constant else [int(v) for v in t.data.reshape(-1)]


def is_identity(g: Graph, op: Op) -> bool:
    if not op.inputs or not op.inputs[0] or len(op.outputs) != 1:
        return False
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if x.shape != y.shape or x.dtype != y.dtype or not _same_quantization(g, x.name, y.name):
        return False
    if op.type in VIEWS:
        return True
    if op.type == "TRANSPOSE":
        return _constant(g, op.inputs[1]) == list(range(len(x.shape)))
    if op.type in ("PAD", "PADV2"):
        pads = _constant(g, op.inputs[1])
        return pads is not None and not any(pads)
    if op.type == "CONCATENATION":
        return len(op.inputs) == 1 and op.attrs.get("fused_activation_function", "NONE") == "NONE"
    return False


def _remove_one_identity(g: Graph) -> bool:
    producers, consumers = g.producers(), g.consumers()
    for i, op in enumerate(g.ops):
        if not is_identity(g, op):
            continue
        x, y = op.inputs[0], op.outputs[0]
        if y not in g.outputs:
            for reader in g.ops:
                reader.inputs = [x if n == y else n for n in reader.inputs]
        elif x in producers and x not in g.outputs and consumers.get(x) == [i]:
            g.ops[producers[x]].outputs = [y if n == x else n for n in g.ops[producers[x]].outputs]
        else:
            continue
        del g.ops[i]
        return True
    return False


def _collapse_one_view_chain(g: Graph) -> bool:
    consumers = g.consumers()
    for i, op in enumerate(g.ops):
        if op.type not in VIEWS or op.outputs[0] in g.outputs:
            continue
        readers = consumers.get(op.outputs[0], [])
        x = op.inputs[0]
        if not readers or any(g.ops[r].type != "RESHAPE" or g.ops[r].inputs[0] != op.outputs[0] for r in readers):
            continue
        if not all(_same_quantization(g, x, g.ops[r].outputs[0]) for r in readers):
            continue
        for r in readers:
            g.ops[r].inputs[0] = x
        del g.ops[i]
        return True
    return False
