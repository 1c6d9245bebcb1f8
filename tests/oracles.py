"""The test oracles: LiteRT (ai-edge-litert) and TFLite Micro (tflite-micro) interpreters."""

from __future__ import annotations

import numpy as np


class LiteRT:
    """LiteRT's builtin reference kernels (single rounding), without the XNNPACK delegate, whose float and
    int8 kernels are not bit-exact with TFLite's reference semantics. `optimized=True` picks LiteRT's
    optimized builtin kernels instead."""

    def __init__(self, model: bytes, optimized: bool = False):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        kind = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if optimized else OpResolverType.BUILTIN_REF
        self.interp = Interpreter(model_content=model, num_threads=1, experimental_op_resolver_type=kind)
        self.interp.allocate_tensors()

    def __call__(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for detail, value in zip(self.interp.get_input_details(), inputs):
            self.interp.set_tensor(detail["index"], value)
        self.interp.invoke()
        return [self.interp.get_tensor(d["index"]).copy() for d in self.interp.get_output_details()]


class TFLM:
    """A reusable TFLite Micro interpreter (the reference kernels, as on a microcontroller)."""

    def __init__(self, model: bytes, num_outputs: int = 1, arena_size: int | None = None):
        from tflite_micro.python.tflite_micro import runtime

        self.num_outputs = num_outputs
        self.interp = runtime.Interpreter.from_bytes(model, arena_size=arena_size or max(len(model) * 10, 1 << 20))

    def __call__(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for i, value in enumerate(inputs):
            self.interp.set_input(value, i)
        self.interp.invoke()
        return [self.interp.get_output(i).copy() for i in range(self.num_outputs)]


def random_inputs(graph, rng: np.random.Generator) -> list[np.ndarray]:
    """One random input per graph input, over the full range of its dtype."""
    values = []
    for name in graph.inputs:
        t = graph.tensors[name]
        if t.dtype == "float32":
            values.append(rng.standard_normal(t.shape).astype(np.float32))
        else:
            info = np.iinfo(t.dtype)
            values.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True).astype(t.dtype))
    return values
