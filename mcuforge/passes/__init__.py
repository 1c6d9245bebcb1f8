"""Graph -> Graph passes. SIMPLIFY runs on every imported model, in this order."""

from __future__ import annotations

from mcuforge.ir import Graph
from mcuforge.passes.fold_constants import fold_constants
from mcuforge.passes.remove_unused import remove_unused_tensors

SIMPLIFY = [fold_constants, remove_unused_tensors]


def simplify(graph: Graph) -> Graph:
    for graph_pass in SIMPLIFY:
        graph = graph_pass(graph)
    return graph
