"""Drop tensors no op or graph boundary refers to (left behind by folding)."""

from __future__ import annotations

from mcuforge.ir import Graph


def remove_unused_tensors(graph: Graph) -> Graph:
    g = graph.copy()
    used = set(g.inputs) | set(g.outputs)
    for op in g.ops:
        used.update(n for n in op.inputs + op.outputs if n)
    g.tensors = {n: t for n, t in g.tensors.items() if n in used}
    return g
