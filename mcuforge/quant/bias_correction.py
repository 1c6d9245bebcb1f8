"""Bias correction (Nagel et al., "Data-Free Quantization", empirical variant): quantizing a layer's weights
shifts the mean of each of its output channels by E[x] . (W - W_q); adding that shift, measured on the
calibration data, to the bias removes the systematic part of the error (it matters most at 4 bits)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mcuforge.ir import Graph
from mcuforge.ops.registry import get_op


class BiasCorrection:
    """An observer for collect_statistics: for every layer i in `dequantized` (op index -> its weights after
    quantization, as float), the mean over calibration samples and output positions of
    op(x, W) - op(x, W_dequantized) per output channel, before bias and activation."""

    def __init__(self, graph: Graph, dequantized: dict[int, np.ndarray]):
        self.graph = graph
        self.layers = {}
        for i, deq in dequantized.items():
            op = graph.ops[i]
            linear = replace(op, inputs=[op.inputs[0], op.inputs[1]],
                             attrs={**op.attrs, "fused_activation_function": "NONE"})
            delta = (graph.tensors[op.inputs[1]].data.astype(np.float64) - deq).astype(np.float32)
            self.layers[i] = (linear, delta)
        self.sums = {i: np.zeros(graph.tensors[graph.ops[i].outputs[0]].shape[-1]) for i in self.layers}
        self.counts = {i: 0 for i in self.layers}

    def __call__(self, values: dict[str, np.ndarray]) -> None:
        for i, (linear, delta) in self.layers.items():
            reference = get_op(linear.type).reference
            shift = reference(linear, self.graph, [values[linear.inputs[0]], delta])[0]
            shift = np.asarray(shift, np.float64).reshape(-1, self.sums[i].size)
            self.sums[i] += shift.sum(axis=0)
            self.counts[i] += shift.shape[0]

    def corrections(self) -> dict[int, np.ndarray]:
        """op index -> what to add to its float bias."""
        return {i: (self.sums[i] / max(self.counts[i], 1)).astype(np.float32) for i in self.layers}
