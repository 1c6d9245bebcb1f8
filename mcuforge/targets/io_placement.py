"""Where the bare-metal runner keeps the model's input and output records: inside the arena, so the runner holds
no second copy of what the arena could hold.

A library compiled with `io_in_arena` (what `mcuforge build` does) has its inputs and outputs planned as arena
tensors: the records are where the plan put them and the RAM buffer is the arena. Otherwise (caller-owned I/O)
the records are fitted after planning, as follows.

The runner owns one RAM buffer (`mcuforge_ram`): the arena (passed to NAME_invoke_with_arena) followed, when
needed, by a tail. Each graph input is live from before the first op to its last reader, each graph output from
its producer to the end. A record is placed at the lowest offset whose bytes no arena segment (tensor or scratch)
uses during its lifetime, or past the arena when no such gap exists. One exception, the same the planner makes
between arena tensors: when the input's last reader streams rows (`row_window`) and writes an output whose rows
may overwrite input rows already consumed, the input may sit `overlap_lead` bytes or more after that output's
start. The placement that makes the buffer smallest wins, the lowest offset among equals."""

from __future__ import annotations

from dataclasses import dataclass

from mcuforge.codegen.planner import ArenaPlan, overlap_lead, plan_arena
from mcuforge.ir import Graph
from mcuforge.ops.registry import get_op

IO_ALIGNMENT = 16  # the runner's record buffers were aligned(16): keep the kernels' word loads aligned


@dataclass(frozen=True)
class IoSlot:
    kind: str  # "input" or "output"
    index: int
    tensor: str
    offset: int  # bytes from the start of the runner's RAM buffer (= the arena)
    size: int
    first: int
    last: int


@dataclass(frozen=True)
class IoPlacement:
    arena_size: int  # activations and scratch: the arena planned with the I/O in caller buffers
    ram_size: int  # the runner's buffer: arena + tail, or the arena planned with the I/O in it (>= 1 byte)
    slots: tuple[IoSlot, ...]

    def slot(self, kind: str, index: int) -> IoSlot:
        return next(s for s in self.slots if s.kind == kind and s.index == index)

    @property
    def beyond_arena(self) -> int:
        """Bytes the records add to the arena."""
        return self.ram_size - self.arena_size


def _align_up(n: int) -> int:
    return (n + IO_ALIGNMENT - 1) // IO_ALIGNMENT * IO_ALIGNMENT


def _lifetime(plan: ArenaPlan, graph: Graph, kind: str, tensor: str) -> tuple[int, int]:
    buf = plan.tensor_buffer[tensor]
    if kind == "input":
        return -1, max(buf.last, 0)
    return min(buf.first, len(graph.ops)), len(graph.ops)


def _streaming_floor(plan: ArenaPlan, graph: Graph, tensor: str, last: int) -> tuple[int, int] | None:
    """(output buffer start, least input offset) when the input's last reader may overwrite its consumed rows."""
    if not 0 <= last < len(graph.ops):
        return None
    op = graph.ops[last]
    opdef = get_op(op.type)
    if opdef.row_window is None or not op.inputs or op.inputs[0] != tensor:
        return None
    if any(t == tensor for t in op.inputs[1:]):
        return None
    out_loc, out_offset = plan.location(op.outputs[0])
    if out_loc != "arena":
        return None
    lead = overlap_lead(graph, op, *opdef.row_window(op, graph))
    return None if lead is None else (out_offset, out_offset + lead)


def _fits(offset: int, size: int, avoid: list[tuple[int, int, int | None]]) -> bool:
    """[offset, offset + size) clear of every range to avoid (a range with a floor only below it)."""
    return not any(offset < end and start < offset + size and (floor is None or offset < floor)
                   for start, end, floor in avoid)


def _planned_io(plan: ArenaPlan, graph: Graph) -> IoPlacement:
    """The records where an `io_in_arena` plan put them; `beyond_arena` is then what holding them costs the
    arena (the plan against one with caller-owned I/O)."""
    slots = []
    producers, consumers = graph.producers(), graph.consumers()
    for kind, names in (("input", graph.inputs), ("output", graph.outputs)):
        for k, tensor in enumerate(names):
            # the record's own lifetime (its buffer may hold other tensors before or after it)
            if kind == "input":
                first, last = -1, max(consumers.get(tensor, []) + [0])
            else:
                first, last = producers.get(tensor, -1), len(graph.ops)
            slots.append(IoSlot(kind, k, tensor, plan.location(tensor)[1], graph.tensors[tensor].nbytes, first, last))
    without_io = plan_arena(graph, alignment=plan.alignment).arena_size
    return IoPlacement(without_io, max(plan.arena_size, 1), tuple(slots))


def place_io(plan: ArenaPlan, graph: Graph) -> IoPlacement:
    """Offsets of every graph input and output record in the runner's RAM buffer."""
    if plan.io_in_arena:
        return _planned_io(plan, graph)
    busy = [(b.offset + seg.rel, b.offset + seg.rel + seg.size, seg.first, seg.last)
            for b in plan.buffers if b.location == "arena" for seg in b.segments]
    slots: list[IoSlot] = []
    for kind, names in (("input", graph.inputs), ("output", graph.outputs)):
        for k, tensor in enumerate(names):
            # every member of a record's buffer sits at its start (views, in-place writers): the buffer's size
            size = max(graph.tensors[tensor].nbytes, plan.tensor_buffer[tensor].size)
            first, last = _lifetime(plan, graph, kind, tensor)
            stream = _streaming_floor(plan, graph, tensor, last) if kind == "input" else None
            # (start, end) ranges the record must avoid; a streamed-over output only below its floor
            avoid = []
            for start, end, seg_first, seg_last in busy:
                if seg_last < first or seg_first > last:
                    continue
                if stream is not None and start == stream[0] and seg_first == last:
                    avoid.append((start, end, stream[1]))  # the streamed output: allowed from stream[1] up
                    continue
                avoid.append((start, end, None))
            avoid += [(s.offset, s.offset + s.size, None) for s in slots if not (s.last < first or s.first > last)]

            candidates = {0, _align_up(plan.arena_size)}
            candidates |= {_align_up(end) for _, end, _ in avoid}
            candidates |= {_align_up(floor) for _, _, floor in avoid if floor is not None}
            top = max(plan.arena_size, *(s.offset + s.size for s in slots)) if slots else plan.arena_size
            offset = min((c for c in candidates if _fits(c, size, avoid)), key=lambda c: (max(top, c + size), c))
            slots.append(IoSlot(kind, k, tensor, offset, size, first, last))
    ram = max([plan.arena_size, 1, *(s.offset + s.size for s in slots)])
    return IoPlacement(plan.arena_size, ram, tuple(slots))
