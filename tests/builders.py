"""Build small quantized graphs in tests (exported to .tflite for the oracles by tests/golden.py)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir import Graph, Op, Quantization, Tensor
from mcuforge.ops.registry import get_op


class GraphBuilder:
    def __init__(self, seed: int = 0, name: str = "test"):
        self.graph = Graph(name=name)
        self.rng = np.random.default_rng(seed)

    def tensor(self, name: str, shape, dtype: str = "int8", scale=None, zero_point=0, axis: int = 0,
               data=None) -> str:
        quant = None
        if scale is not None:
            quant = Quantization(np.atleast_1d(scale), np.atleast_1d(zero_point), axis)
        self.graph.add_tensor(Tensor(name, tuple(shape), dtype, data=data, quant=quant))
        return name

    def input(self, name: str, shape, dtype: str = "int8", scale=None, zero_point=0) -> str:
        self.tensor(name, shape, dtype, scale, zero_point)
        self.graph.inputs.append(name)
        return name

    def const(self, name: str, data, dtype: str, scale=None, zero_point=0, axis: int = 0) -> str:
        data = np.asarray(data)
        return self.tensor(name, data.shape, dtype, scale, zero_point, axis, data=data.astype(dtype))

    def int8_weights(self, name: str, shape, axis: int | None = 0, scale_range=(0.002, 0.02)) -> str:
        """Random symmetric int8 weights, per-channel along `axis` (None: per-tensor)."""
        data = self.rng.integers(-127, 128, size=shape)
        n = 1 if axis is None else shape[axis]
        scales = self.rng.uniform(*scale_range, size=n).astype(np.float32)
        return self.const(name, data, "int8", scales, np.zeros(n, np.int64), axis or 0)

    def int32_bias(self, name: str, n: int, scale) -> str:
        data = self.rng.integers(-2000, 2000, size=n)
        scale = np.broadcast_to(np.asarray(scale, np.float32), (n,))
        return self.const(name, data, "int32", scale, np.zeros(n, np.int64))

    def op(self, op_type: str, inputs: list[str], output: str, out_dtype: str = "int8", scale=None,
           zero_point=0, **attrs) -> str:
        """Add an op; its output tensor's shape comes from the op's shape rule."""
        op = Op(op_type, list(inputs), [output], {**get_op(op_type).attrs, **attrs}, name=output)
        self.graph.add_tensor(Tensor(output, (), out_dtype))  # placeholder so the shape rule can see it
        shape = get_op(op_type).infer_shapes(op, self.graph)[0]
        del self.graph.tensors[output]
        self.tensor(output, shape, out_dtype, scale, zero_point)
        self.graph.ops.append(op)
        return output

    def build(self, *outputs: str) -> Graph:
        self.graph.outputs = list(outputs)
        return self.graph
