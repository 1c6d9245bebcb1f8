"""The arena planner: tensor lifetimes from the schedule, then offsets that never overlap while both live.

Activations live in one arena. Tensors that share memory form one buffer, each at a fixed offset inside it:
- views (RESHAPE/SQUEEZE/EXPAND_DIMS) sit on their input's bytes;
- an element-wise op may write its output over an input it is the last reader of (in place);
- a row-streaming op (convolution, pooling) may write its output over input rows it has already consumed: the
  output starts D bytes before its input, D the smallest lead that keeps every output row clear of the input rows
  still to be read (see `overlap_lead`).
Graph inputs and outputs live in the caller's buffers, not in the arena, unless `io_in_arena` plans them as arena
tensors as TensorFlow Lite Micro does: an input live from before the first op to its last reader (its bytes may
then hold other tensors, and a row-streaming first layer may write its output over the input rows it has
consumed), an output from its producer to after the last op. A buffer is placed as a rigid body whose
members keep their own lifetimes, so bytes of a member that is already dead can hold other tensors. Several
plans are made (three placement orders, with row-streaming overlap everywhere, only where it does not leave dead
members sticking out, or nowhere; with `io_in_arena`, for each of IO_MODES too) and the smallest arena is kept."""

from __future__ import annotations

from dataclasses import dataclass, field

from mcuforge.errors import DoesNotFitError
from mcuforge.ir import Graph
from mcuforge.ops.registry import get_op


@dataclass(frozen=True)
class Segment:
    """Bytes [rel, rel + size) of a buffer, live from op `first` to op `last` (inclusive)."""

    rel: int
    size: int
    first: int
    last: int
    tensor: str = ""  # the member it holds ("" for scratch)


@dataclass
class Buffer:
    """Memory shared by one or more tensors; `tensor_offsets` places each inside the buffer."""

    tensor_offsets: dict[str, int]
    size: int
    first: int  # index of the first op that writes or reads it (-1: before the first op)
    last: int  # index of the last op that reads it (len(ops): after the last op)
    location: str = "arena"  # "arena", "input:K" or "output:K"
    offset: int = 0
    kind: str = "tensor"  # "tensor" or "scratch"
    segments: list[Segment] = field(default_factory=list)  # one per member (or the scratch itself)
    holds_io: bool = False  # a member is a graph input or output

    @property
    def tensors(self) -> list[str]:
        return list(self.tensor_offsets)


@dataclass
class ArenaPlan:
    buffers: list[Buffer]
    arena_size: int
    alignment: int
    strategy: str
    io_in_arena: bool = False  # graph inputs and outputs are arena tensors (location "arena")
    tensor_buffer: dict[str, Buffer] = field(default_factory=dict)
    scratch: dict[int, Buffer] = field(default_factory=dict)  # op index -> its scratch buffer

    def location(self, tensor: str) -> tuple[str, int]:
        """(where, byte offset) of a tensor: where is "arena", "input:K" or "output:K"."""
        buf = self.tensor_buffer[tensor]
        return buf.location, buf.offset + buf.tensor_offsets[tensor]

    def live_bytes(self, n_ops: int) -> list[int]:
        """Arena bytes of tensors and scratch live during each op (the memory timeline)."""
        arena = [seg for b in self.buffers if b.location == "arena" for seg in b.segments]
        return [sum(seg.size for seg in arena if seg.first <= i <= seg.last) for i in range(n_ops)]

    def arena_top(self, op_index: int) -> int:
        """Highest arena byte in use during an op."""
        return max((b.offset + seg.rel + seg.size for b in self.buffers if b.location == "arena"
                    for seg in b.segments if seg.first <= op_index <= seg.last), default=0)


def _align(n: int, alignment: int) -> int:
    return (n + alignment - 1) // alignment * alignment


def overlap_lead(graph: Graph, op, stride: int, pad_top: int) -> int | None:
    """Bytes the output must start before its input so that writing output row r never touches input rows at or
    after r * stride - pad_top (still to be read). None when the shapes are not single-batch NHWC."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != 1 or y.shape[0] != 1:
        return None
    in_row = x.nbytes // x.shape[1]
    out_row = y.nbytes // y.shape[1]
    return max((r + 1) * out_row - max(0, r * stride - pad_top) * in_row for r in range(y.shape[1]))


class _Groups:
    """Union of tensors into shared buffers, with each member's byte offset inside its group."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.members: dict[str, dict[str, int]] = {n: {n: 0} for n, t in graph.tensors.items() if not t.is_constant}
        self.root = {n: n for n in self.members}

    def group(self, tensor: str) -> dict[str, int]:
        return self.members[self.root[tensor]]

    def attach(self, new: str, onto: str, offset_from_onto: int) -> None:
        """Put the (singleton) tensor `new` into `onto`'s group, `offset_from_onto` bytes after `onto`."""
        target = self.group(onto)
        rel = target[onto] + offset_from_onto
        if rel < 0:  # keep offsets non-negative: shift the whole group up
            for k in target:
                target[k] -= rel
            rel = 0
        target[new] = rel
        del self.members[new]
        self.root[new] = self.root[onto]


OVERLAP_POLICIES = ("all", "bounded", "none")


def _group_buffers(graph: Graph, alignment: int, overlap: str, io_in_arena: bool = False,
                   input_alone: bool = False) -> _Groups:
    groups = _Groups(graph)
    consumers = graph.consumers()
    # `externals`: tensors no op may write over. In caller buffers that is every input (read-only) and output; in
    # the arena only the outputs (they must survive the inference), an input being free after its last reader.
    # `separate`: outputs that may not be written into another tensor's buffer (caller buffers only).
    externals = set(graph.outputs) if io_in_arena else set(graph.inputs) | set(graph.outputs)
    separate = set() if io_in_arena else externals

    def reusable(src: str, i: int) -> bool:
        """`src`'s memory may be overwritten by op i: constant-free, not kept, and no member read after op i."""
        if not src or graph.tensors[src].is_constant:
            return False
        members = groups.group(src)
        last_reader = max((j for t in members for j in consumers.get(t, [])), default=-1)
        return last_reader == i and not (externals & set(members))

    for i, op in enumerate(graph.ops):
        opdef = get_op(op.type)
        out = op.outputs[0]
        if opdef.view_of_input:
            groups.attach(out, op.inputs[0], 0)
            continue
        if out in separate:
            continue
        for k in opdef.inplace_inputs:
            src = op.inputs[k] if k < len(op.inputs) else ""
            if reusable(src, i) and graph.tensors[src].shape == graph.tensors[out].shape \
                    and graph.tensors[src].dtype == graph.tensors[out].dtype:
                groups.attach(out, src, 0)
                break
        else:
            if input_alone and op.inputs[0] not in graph.inputs and \
                    set(groups.group(op.inputs[0])) & set(graph.inputs):
                continue  # `input_alone`: nothing streams into a graph input's buffer but its own reader's output
            if overlap != "none" and opdef.row_window is not None and reusable(op.inputs[0], i):
                lead = overlap_lead(graph, op, *opdef.row_window(op, graph))
                if lead is not None and lead < graph.tensors[out].nbytes:
                    lead = _align(lead, alignment)  # keeps members aligned
                    if overlap == "all" or _extent_after(groups, graph, op.inputs[0], out, lead) <= \
                            graph.tensors[op.inputs[0]].nbytes + graph.tensors[out].nbytes:
                        groups.attach(out, op.inputs[0], -lead)
    return groups


def _extent_after(groups: _Groups, graph: Graph, src: str, out: str, lead: int) -> int:
    """Size of src's group once `out` is attached `lead` bytes before src."""
    members = groups.group(src)
    rel_out = members[src] - lead
    low = min(0, rel_out)
    high = max([rel + graph.tensors[t].nbytes for t, rel in members.items()] + [rel_out + graph.tensors[out].nbytes])
    return high - low


def _split_inputs_from_outputs(graph: Graph, members: dict[str, int]) -> list[dict[str, int]]:
    """A graph input viewed straight into a graph output lives in two caller buffers (the view becomes a copy)."""
    inputs = {t: 0 for t in members if t in graph.inputs}
    if inputs and any(t in graph.outputs for t in members):
        return [inputs, {t: 0 for t in members if t not in inputs}]
    return [members]


def _span(graph: Graph, tensor: str, producer: dict, consumers: dict) -> tuple[int, int]:
    first = producer.get(tensor, -1)
    last = max(consumers.get(tensor, []) + [first])
    return first, (len(graph.ops) if tensor in graph.outputs else last)


# Where graph inputs and outputs go: "caller" buffers; or the arena, either "grouped" (sharing buffers with the
# tensors around them like any activation), grouped but with an input "alone" in its buffer but for the output
# streamed over it (the layers after it then keep their own buffers: none is stretched over the dead input), or in
# buffers of their own placed "first" or "last" (before or after every other buffer; an input may still share
# bytes with the rows its last reader has streamed out).
IO_MODES = ("caller", "grouped", "alone", "first", "last")


def _buffers(graph: Graph, alignment: int, overlap: str, io: str = "caller") -> list[Buffer]:
    groups = _group_buffers(graph, alignment, overlap, io_in_arena=io in ("grouped", "alone"),
                            input_alone=io == "alone")
    producer = graph.producers()
    consumers = graph.consumers()
    n = len(graph.ops)
    externals = set(graph.inputs) | set(graph.outputs)
    buffers = []
    for group in groups.members.values():
        for members in [group] if io in ("grouped", "alone") else _split_inputs_from_outputs(graph, group):
            segments = [Segment(rel, graph.tensors[t].nbytes, *_span(graph, t, producer, consumers), tensor=t)
                        for t, rel in members.items()]
            first = min(seg.first for seg in segments)
            last = max(seg.last for seg in segments)
            location = "arena"
            for t in members if io == "caller" else ():
                if t in graph.outputs:
                    location, last = f"output:{graph.outputs.index(t)}", n
                elif t in graph.inputs and location == "arena":
                    location, first = f"input:{graph.inputs.index(t)}", -1
            size = max(seg.rel + seg.size for seg in segments)
            buffers.append(Buffer(tensor_offsets=dict(members), size=size, first=first, last=last, location=location,
                                  segments=segments, holds_io=bool(externals & set(members))))
    for i, op in enumerate(graph.ops):
        opdef = get_op(op.type)
        scratch = opdef.scratch_bytes(op, graph) if opdef.scratch_bytes else 0
        if scratch:
            buffers.append(Buffer(tensor_offsets={}, size=scratch, first=i, last=i, kind="scratch",
                                  segments=[Segment(0, scratch, i, i)]))
    return buffers


def _streamed_inputs(graph: Graph, buffers: list[Buffer], alignment: int) -> dict[tuple[str, str], int]:
    """{(input, output): lead} for each graph input whose buffer's last reader streams rows (`row_window`) from
    it into an output in another buffer: the output may sit `lead` bytes or more before the input."""
    streams = {}
    for buf in buffers:
        if not 0 <= buf.last < len(graph.ops) or not set(buf.tensors) & set(graph.inputs):
            continue
        op = graph.ops[buf.last]
        opdef = get_op(op.type)
        src = op.inputs[0] if op.inputs else ""
        if opdef.row_window is None or src not in buf.tensor_offsets or op.outputs[0] in buf.tensor_offsets:
            continue
        if any(t in buf.tensor_offsets for t in op.inputs[1:]):  # read again while the output streams over it
            continue
        lead = overlap_lead(graph, op, *opdef.row_window(op, graph))
        if lead is not None and lead < graph.tensors[op.outputs[0]].nbytes:
            streams[(src, op.outputs[0])] = _align(lead, alignment)
    return streams


def _lowest_free_offset(buf: Buffer, placed: list[Buffer], alignment: int,
                        streams: dict[tuple[str, str], int] | None = None) -> int:
    """The lowest aligned offset at which no segment of `buf` shares bytes with a segment live at the same time
    (except an input and the output streamed over it, `streams`, `lead` bytes or more apart)."""
    streams = streams or {}
    forbidden = []  # open intervals of offsets (lo, hi): placing buf at lo < offset < hi collides
    for p in placed:
        if p.first > buf.last or buf.first > p.last:
            continue
        for s in buf.segments:
            for q in p.segments:
                if not (q.first <= s.last and s.first <= q.last):
                    continue
                at = p.offset + q.rel - s.rel  # buf's offset that puts s at q's start
                if (s.tensor, q.tensor) in streams:  # s the input: from `lead` bytes after q's start up is free
                    forbidden.append((at - s.size, at + min(q.size, streams[(s.tensor, q.tensor)])))
                elif (q.tensor, s.tensor) in streams:  # s the output: `lead` bytes or more before q is free
                    forbidden.append((at - min(s.size, streams[(q.tensor, s.tensor)]), at + q.size))
                else:
                    forbidden.append((at - s.size, at + q.size))
    offset = 0
    while True:  # every offset below the highest end of the intervals holding `offset` collides too
        hits = [hi for lo, hi in forbidden if lo < offset < hi]
        if not hits:
            return offset
        offset = _align(max(hits), alignment)


def _place(order: list[Buffer], alignment: int, streams: dict[tuple[str, str], int] | None = None) -> int:
    placed: list[Buffer] = []
    peak = 0
    for buf in order:
        buf.offset = _lowest_free_offset(buf, placed, alignment, streams)
        placed.append(buf)
        peak = max(peak, buf.offset + buf.size)
    return _align(peak, alignment)


STRATEGIES = {
    "largest-first": lambda b: (-b.size, b.first),
    "earliest-first": lambda b: (b.first, -b.size),
    "longest-lived-first": lambda b: (-(b.last - b.first), -b.size),
}


def plan_arena(graph: Graph, alignment: int = 8, ram_limit: int | None = None, io_in_arena: bool = False
               ) -> ArenaPlan:
    """Assign every activation an arena offset; raises DoesNotFitError past `ram_limit` bytes. `io_in_arena`:
    the graph inputs and outputs are arena tensors too (the arena is then all the RAM an inference needs)."""
    if alignment not in (4, 8, 16, 32):
        raise ValueError(f"alignment must be 4, 8, 16 or 32 bytes, got {alignment}")
    best = None
    for io in IO_MODES[1:] if io_in_arena else IO_MODES[:1]:
        for overlap in OVERLAP_POLICIES:
            for strategy, key in STRATEGIES.items():
                buffers = _buffers(graph, alignment, overlap, io)
                arena = [b for b in buffers if b.location == "arena"]
                if io in ("first", "last"):
                    internal = sorted([b for b in arena if not b.holds_io], key=key)
                    external = sorted([b for b in arena if b.holds_io], key=key)
                    order = external + internal if io == "first" else internal + external
                    size = _place(order, alignment, _streamed_inputs(graph, arena, alignment))
                else:
                    size = _place(sorted(arena, key=key), alignment)
                if best is None or size < best.arena_size:
                    where = {"caller": "", "grouped": ", I/O grouped", "alone": ", I/O grouped, inputs alone",
                             "first": ", I/O placed first", "last": ", I/O placed last"}[io]
                    best = ArenaPlan(buffers=buffers, arena_size=size, alignment=alignment,
                                     strategy=f"{strategy}, overlap {overlap}{where}", io_in_arena=io_in_arena)
    for buf in best.buffers:
        for t in buf.tensors:
            best.tensor_buffer[t] = buf
        if buf.kind == "scratch":
            best.scratch[buf.first] = buf
    if ram_limit is not None and best.arena_size > ram_limit:
        live = best.live_bytes(len(graph.ops))
        peak_op = max(range(len(graph.ops)), key=lambda i: live[i], default=0)
        where = f"; the peak is at {graph.ops[peak_op].label(peak_op)}" if graph.ops else ""
        raise DoesNotFitError(f"{graph.where()}: arena needs {best.arena_size} bytes, over the RAM limit of "
                              f"{ram_limit} bytes{where}")
    return best
