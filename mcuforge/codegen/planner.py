"""The arena planner: tensor lifetimes from the schedule, then offsets that never overlap while both live.

Activations live in one arena. Tensors that are views of each other (RESHAPE/SQUEEZE/EXPAND_DIMS) share one
buffer; an element-wise op may write its output over an input it is the last reader of (in place). Graph
inputs and outputs live in the caller's buffers, not in the arena. Two placements are tried (largest first,
and earliest first) and the smaller peak is kept."""

from __future__ import annotations

from dataclasses import dataclass, field

from mcuforge.errors import DoesNotFitError
from mcuforge.ir import Graph
from mcuforge.ops.registry import get_op


@dataclass
class Buffer:
    """Memory shared by one or more tensors (views and in-place results)."""

    tensors: list[str]
    size: int
    first: int  # index of the first op that writes or reads it (-1: before the first op)
    last: int  # index of the last op that reads it (len(ops): after the last op)
    location: str = "arena"  # "arena", "input:K" or "output:K"
    offset: int = 0
    kind: str = "tensor"  # "tensor" or "scratch"


@dataclass
class ArenaPlan:
    buffers: list[Buffer]
    arena_size: int
    alignment: int
    strategy: str
    tensor_buffer: dict[str, Buffer] = field(default_factory=dict)
    scratch: dict[int, Buffer] = field(default_factory=dict)  # op index -> its scratch buffer

    def location(self, tensor: str) -> tuple[str, int]:
        """(where, byte offset) of a tensor: where is "arena", "input:K" or "output:K"."""
        buf = self.tensor_buffer[tensor]
        return buf.location, buf.offset

    def live_bytes(self, n_ops: int) -> list[int]:
        """Arena bytes live during each op (the memory timeline)."""
        arena = [b for b in self.buffers if b.location == "arena"]
        return [sum(b.size for b in arena if b.first <= i <= b.last) for i in range(n_ops)]


def _align(n: int, alignment: int) -> int:
    return (n + alignment - 1) // alignment * alignment


def _group_buffers(graph: Graph) -> tuple[list[list[str]], dict[str, int]]:
    """Union views and legal in-place outputs into buffer groups."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    consumers = graph.consumers()
    externals = set(graph.inputs) | set(graph.outputs)
    for i, op in enumerate(graph.ops):
        opdef = get_op(op.type)
        out = op.outputs[0]
        if opdef.view_of_input:
            parent[find(out)] = find(op.inputs[0])
            continue
        for k in opdef.inplace_inputs:
            src = op.inputs[k] if k < len(op.inputs) else ""
            if not src or graph.tensors[src].is_constant:
                continue
            root = find(src)
            members = [t for t in graph.tensors if find(t) == root]
            last_reader = max((j for t in members for j in consumers.get(t, [])), default=-1)
            same_size = graph.tensors[src].nbytes == graph.tensors[out].nbytes
            if same_size and last_reader == i and not (externals & (set(members) | {out})):
                parent[find(out)] = root
                break
    groups: dict[str, list[str]] = {}
    for name, t in graph.tensors.items():
        if not t.is_constant:
            groups.setdefault(find(name), []).append(name)
    ordered = list(groups.values())
    return ordered, {name: gi for gi, members in enumerate(ordered) for name in members}


def _buffers(graph: Graph) -> list[Buffer]:
    groups, _ = _group_buffers(graph)
    producer = graph.producers()
    consumers = graph.consumers()
    n = len(graph.ops)
    buffers = []
    for members in _split_inputs_from_outputs(graph, groups):
        first = min(producer.get(t, -1) for t in members)
        last = max([j for t in members for j in consumers.get(t, [])] + [first])
        location = "arena"
        for t in members:
            if t in graph.outputs:
                location, last = f"output:{graph.outputs.index(t)}", n
            elif t in graph.inputs and location == "arena":
                location, first = f"input:{graph.inputs.index(t)}", -1
        size = max(graph.tensors[t].nbytes for t in members)
        buffers.append(Buffer(tensors=members, size=size, first=first, last=last, location=location))
    for i, op in enumerate(graph.ops):
        opdef = get_op(op.type)
        scratch = opdef.scratch_bytes(op, graph) if opdef.scratch_bytes else 0
        if scratch:
            buffers.append(Buffer(tensors=[], size=scratch, first=i, last=i, kind="scratch"))
    return buffers


def _split_inputs_from_outputs(graph: Graph, groups: list[list[str]]) -> list[list[str]]:
    """A graph input viewed straight into a graph output lives in two caller buffers (the view becomes a copy)."""
    result = []
    for members in groups:
        inputs = [t for t in members if t in graph.inputs]
        if inputs and any(t in graph.outputs for t in members):
            result.append(inputs)
            members = [t for t in members if t not in inputs]
        result.append(members)
    return result


def _place(buffers: list[Buffer], order: list[Buffer], alignment: int) -> int:
    placed: list[Buffer] = []
    peak = 0
    for buf in order:
        overlapping = sorted((p for p in placed if p.first <= buf.last and buf.first <= p.last),
                             key=lambda p: p.offset)
        offset = 0
        for p in overlapping:
            if offset + buf.size <= p.offset:
                break
            offset = max(offset, _align(p.offset + p.size, alignment))
        buf.offset = offset
        placed.append(buf)
        peak = max(peak, offset + buf.size)
    return _align(peak, alignment)


def plan_arena(graph: Graph, alignment: int = 8, ram_limit: int | None = None) -> ArenaPlan:
    """Assign every activation an arena offset; raises DoesNotFitError past `ram_limit` bytes."""
    if alignment not in (4, 8, 16, 32):
        raise ValueError(f"alignment must be 4, 8, 16 or 32 bytes, got {alignment}")
    strategies = {
        "largest-first": lambda b: (-b.size, b.first),
        "earliest-first": lambda b: (b.first, -b.size),
    }
    best = None
    for strategy, key in strategies.items():
        buffers = _buffers(graph)
        arena = [b for b in buffers if b.location == "arena"]
        size = _place(arena, sorted(arena, key=key), alignment)
        if best is None or size < best.arena_size:
            best = ArenaPlan(buffers=buffers, arena_size=size, alignment=alignment, strategy=strategy)
    for buf in best.buffers:
        for t in buf.tensors:
            best.tensor_buffer[t] = buf
        if buf.kind == "scratch":
            best.scratch[buf.first] = buf
    if ram_limit is not None and best.arena_size > ram_limit:
        peak_op = max(range(len(graph.ops)), key=lambda i: best.live_bytes(len(graph.ops))[i], default=0)
        op = graph.ops[peak_op] if graph.ops else None
        where = f"; the peak is at {op.label(peak_op)}" if op else ""
        raise DoesNotFitError(f"{graph.where()}: arena needs {best.arena_size} bytes, over the RAM limit of "
                              f"{ram_limit} bytes{where}")
    return best
