"""The graph IR: tensors with quantization, ops, graphs, validation and a text dump."""

from mcuforge.ir.tensor import Quantization, Tensor
from mcuforge.ir.graph import Graph, Op

__all__ = ["Quantization", "Tensor", "Graph", "Op"]
