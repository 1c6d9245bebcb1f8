"""Graph -> Graph passes. SIMPLIFY runs on every imported model, in this order: constants first (shape glue
becomes constant), then identities (so the layers below meet directly), batch norms into the layers before
them, and only then activations (a conv's ReLU follows its batch norm), and unused tensors last."""

from __future__ import annotations

from mcuforge.ir import Graph
from mcuforge.passes.fold_batchnorm import fold_batchnorm
from mcuforge.passes.fold_constants import fold_constants
from mcuforge.passes.fuse_activation import fuse_activation
from mcuforge.passes.remove_identity import remove_identity
from mcuforge.passes.remove_unused import remove_unused_tensors

SIMPLIFY = [fold_constants, remove_identity, fold_batchnorm, fuse_activation, remove_unused_tensors]


def simplify(graph: Graph) -> Graph:
    for graph_pass in SIMPLIFY:
        graph = graph_pass(graph)
    return graph
