"""The int8 quantization of every activation, under the rules of TFLite's int8 kernels.

- Ops that move or select values without rescaling (RESHAPE, pooling, PAD, TRANSPOSE, slices, ...) need the
  same scale and zero point on input and output; so do all inputs and the output of CONCATENATION. Tensors
  tied this way form one group, whose range is the union of its members' ranges.
- SOFTMAX and LOGISTIC output on the fixed grid 1/256, -128; TANH on 1/128, 0 (whatever their calibration).
- Every other activation gets the asymmetric quantization of its own calibrated range, shrunk to the range of
  the fused activation of the op that writes it.
A CONCATENATION input on a fixed grid joined to inputs that are not (whose range the grid would clip), or to
inputs on another fixed grid (a TANH output next to a LOGISTIC output), does not share the concatenation's
quantization: a QUANTIZE op requantizes it instead."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcuforge.ir import Graph, Quantization
from mcuforge.ops.common import activation_range_float
from mcuforge.quant.qparams import asymmetric_qparams

# int8 kernels that copy, select or average values in their input's quantization (RELU6 because TFLite Micro's
# int8 RELU6 clamps in the input's quantization and ignores the output's).
SAME_AS_INPUT = frozenset({"RESHAPE", "EXPAND_DIMS", "SQUEEZE", "MAX_POOL_2D", "AVERAGE_POOL_2D", "PAD", "PADV2",
                           "TRANSPOSE", "STRIDED_SLICE", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "REDUCE_MAX",
                           "RELU6"})
SHARED_INPUTS = frozenset({"CONCATENATION"})
FIXED_OUTPUT = {"SOFTMAX": (1.0 / 256, -128), "LOGISTIC": (1.0 / 256, -128), "TANH": (1.0 / 128, 0)}
STANDALONE_ACTIVATIONS = {"RELU": "RELU", "RELU6": "RELU6", "RELU_N1_TO_1": "RELU_N1_TO_1"}


@dataclass
class ActivationPlan:
    quant: dict[str, Quantization] = field(default_factory=dict)
    requantize: list[tuple[int, int]] = field(default_factory=list)  # (op index, input position)


class _Groups:
    """Union-find over tensor names, each root carrying an optional fixed (scale, zero point)."""

    def __init__(self):
        self.parent: dict[str, str] = {}
        self.fixed: dict[str, tuple[float, int]] = {}

    def find(self, name: str) -> str:
        self.parent.setdefault(name, name)
        while self.parent[name] != name:
            self.parent[name] = self.parent[self.parent[name]]
            name = self.parent[name]
        return name

    def can_join(self, a: str, b: str) -> bool:
        fa, fb = self.fixed.get(self.find(a)), self.fixed.get(self.find(b))
        return fa is None or fb is None or fa == fb

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            if rb in self.fixed:
                self.fixed.setdefault(ra, self.fixed.pop(rb))


def _shrink_to_activation(op, value_range: tuple[float, float]) -> tuple[float, float]:
    activation = STANDALONE_ACTIVATIONS.get(op.type) or op.attrs.get("fused_activation_function", "NONE")
    low, high = activation_range_float(activation)
    lo, hi = max(value_range[0], low), min(value_range[1], high)
    return (lo, hi) if lo <= hi else (low, high)


def plan_activations(graph: Graph, ranges: dict[str, tuple[float, float]], exclude: set[str]) -> ActivationPlan:
    """The quantization of every float32 tensor of `graph` except those in `exclude` (weights and biases),
    from the calibrated `ranges` of the activations and the data of the constants."""
    members = {n for n, t in graph.tensors.items() if t.dtype == "float32" and n not in exclude
               and (t.is_constant or n in ranges)}
    own = {n: (float(graph.tensors[n].data.min()), float(graph.tensors[n].data.max())) if graph.tensors[n].is_constant
           else ranges[n] for n in members}
    groups = _Groups()
    for op in graph.ops:
        out = op.outputs[0]
        if out in own:
            own[out] = _shrink_to_activation(op, own[out])
        if op.type in SAME_AS_INPUT:
            tied = [op.inputs[0]] + (op.inputs[2:3] if op.type == "PADV2" else [])  # PADV2's fill value too
            for name in tied:
                if name in members and out in members:
                    groups.union(out, name)
    for op in graph.ops:
        if op.type in FIXED_OUTPUT and op.outputs[0] in members:
            groups.fixed[groups.find(op.outputs[0])] = FIXED_OUTPUT[op.type]
    plan = ActivationPlan()
    extra: list[tuple[str, tuple[float, float]]] = []  # (concatenation output, range of a requantized input)
    for i, op in enumerate(graph.ops):
        out = op.outputs[0]
        if op.type not in SHARED_INPUTS or out not in members:
            continue
        inputs = [(k, name) for k, name in enumerate(op.inputs) if name in members]
        mixed = any(groups.find(name) not in groups.fixed for _, name in inputs)
        for k, name in inputs:
            fixed = groups.find(name) in groups.fixed
            # Next to free inputs a fixed grid (e.g. a LOGISTIC output's [0, 1)) would clip them: requantize it.
            if (mixed and fixed) or not groups.can_join(out, name):
                plan.requantize.append((i, k))
                extra.append((out, own[name]))
            else:
                groups.union(out, name)
    spans: dict[str, tuple[float, float]] = {}
    for name, value_range in [(n, own[n]) for n in members] + extra:
        root = groups.find(name)
        lo, hi = spans.get(root, (np.inf, -np.inf))
        spans[root] = (min(lo, value_range[0]), max(hi, value_range[1]))
    for name in members:
        root = groups.find(name)
        scale, zero_point = groups.fixed.get(root) or asymmetric_qparams(*spans[root])
        plan.quant[name] = Quantization(np.array([scale], np.float32), np.array([zero_point], np.int64))
    return plan
