"""Ops and graphs."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from mcuforge.errors import GraphValidationError
from mcuforge.ir.tensor import Tensor


@dataclass
class Op:
    """One operator application. `inputs` may hold "" for an absent optional input (e.g. no bias)."""

    type: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict = field(default_factory=dict)
    name: str = ""

    def label(self, index: int | None = None) -> str:
        where = f" #{index}" if index is not None else ""
        return f"{self.type}{where}" + (f" ({self.name})" if self.name else "")


@dataclass
class Graph:
    """A dataflow graph: tensors by name, ops in execution order, graph inputs and outputs."""

    tensors: dict[str, Tensor] = field(default_factory=dict)
    ops: list[Op] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    name: str = "model"
    source: str = ""  # file the graph came from, for error messages

    def copy(self) -> "Graph":
        """A deep copy, so passes can be pure functions Graph -> Graph."""
        return copy.deepcopy(self)

    def add_tensor(self, tensor: Tensor) -> Tensor:
        if tensor.name in self.tensors:
            raise GraphValidationError(f"{self.where()}: duplicate tensor name {tensor.name!r}")
        self.tensors[tensor.name] = tensor
        return tensor

    def tensor(self, name: str) -> Tensor:
        return self.tensors[name]

    def input_tensors(self, op: Op) -> list[Tensor | None]:
        return [self.tensors[n] if n else None for n in op.inputs]

    def output_tensors(self, op: Op) -> list[Tensor]:
        return [self.tensors[n] for n in op.outputs]

    def producers(self) -> dict[str, int]:
        """Tensor name -> index of the op that writes it."""
        return {out: i for i, op in enumerate(self.ops) for out in op.outputs}

    def consumers(self) -> dict[str, list[int]]:
        """Tensor name -> indices of the ops that read it."""
        users: dict[str, list[int]] = {}
        for i, op in enumerate(self.ops):
            for name in op.inputs:
                if name:
                    users.setdefault(name, []).append(i)
        return users

    def topological_order(self) -> list[int]:
        """Op indices such that each op comes after the producers of its inputs (stable: keeps file order
        where it is already valid). Raises on a cycle."""
        producer = self.producers()
        deps = [{producer[n] for n in op.inputs if n in producer} for op in self.ops]
        done: set[int] = set()
        order: list[int] = []
        pending = list(range(len(self.ops)))
        while pending:
            ready = [i for i in pending if deps[i] <= done]
            if not ready:
                stuck = ", ".join(self.ops[i].label(i) for i in pending[:3])
                raise GraphValidationError(f"{self.where()}: the graph has a cycle through {stuck}")
            for i in ready:
                done.add(i)
                order.append(i)
            pending = [i for i in pending if i not in done]
        return order

    def sorted(self) -> "Graph":
        """A copy whose ops are in topological order."""
        g = self.copy()
        g.ops = [g.ops[i] for i in self.topological_order()]
        return g

    def where(self) -> str:
        return self.source or self.name
