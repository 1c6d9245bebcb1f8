"""Graph validation: every op known, shapes as its rule infers, dtypes and quantization consistent."""

from __future__ import annotations

from mcuforge.errors import GraphValidationError
from mcuforge.ir.graph import Graph


def validate_graph(graph: Graph) -> Graph:
    from mcuforge.ops.registry import get_op  # ops build on the IR, so the IR looks them up lazily

    where = graph.where()
    for name in graph.inputs + graph.outputs:
        if name not in graph.tensors:
            raise GraphValidationError(f"{where}: graph input/output {name!r} is not a tensor of the graph")
    for name, t in graph.tensors.items():
        _check_quant(where, name, t)
    available = set(graph.inputs) | {n for n, t in graph.tensors.items() if t.is_constant}
    for i, op in enumerate(graph.ops):
        opdef = get_op(op.type, f"{where}: op #{i}")
        for name in op.inputs:
            if name and name not in graph.tensors:
                raise GraphValidationError(f"{where}: {op.label(i)} reads unknown tensor {name!r}")
            if name and name not in available:
                raise GraphValidationError(f"{where}: {op.label(i)} reads {name!r} before any op writes it")
        main = graph.tensors[op.inputs[0]] if op.inputs and op.inputs[0] else None
        if main is not None and main.dtype not in opdef.dtypes:
            raise GraphValidationError(f"{where}: {op.label(i)}: input dtype {main.dtype} is not supported "
                                       f"(supported: {', '.join(opdef.dtypes)})")
        if opdef.check is not None:
            opdef.check(op, graph)
        shapes = opdef.infer_shapes(op, graph)
        for name, shape in zip(op.outputs, shapes):
            declared = graph.tensors[name].shape
            if tuple(shape) != declared:
                raise GraphValidationError(f"{where}: {op.label(i)}: output {name!r} is declared "
                                           f"{list(declared)} but the op produces {list(shape)}")
        available.update(op.outputs)
    for name in graph.outputs:
        if name not in available:
            raise GraphValidationError(f"{where}: graph output {name!r} is never written")
    return graph


def _check_quant(where: str, name: str, t) -> None:
    q = t.quant
    if q is None:
        return
    if (q.scale <= 0).any() or not (q.scale < float("inf")).all():
        raise GraphValidationError(f"{where}: tensor {name!r} has a non-positive or non-finite scale")
    if q.per_channel:
        if not 0 <= q.axis < len(t.shape) or t.shape[q.axis] != q.scale.size:
            raise GraphValidationError(f"{where}: tensor {name!r} has {q.scale.size} per-channel scales "
                                       f"on axis {q.axis} of shape {list(t.shape)}")
