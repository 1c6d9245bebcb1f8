"""An independent check of an arena plan: tensors live at the same time never share bytes, unless the sharing is
one the planner is allowed to make (a view, an in-place element-wise output, a row-streaming overlap) and it is
safe by construction."""

from __future__ import annotations

from mcuforge.codegen.planner import ArenaPlan, overlap_lead
from mcuforge.ir import Graph
from mcuforge.ops.registry import get_op


def _intervals(graph: Graph) -> dict[str, tuple[int, int]]:
    producer, consumers = graph.producers(), graph.consumers()
    n = len(graph.ops)
    spans = {}
    for name, t in graph.tensors.items():
        if t.is_constant:
            continue
        first = producer.get(name, -1)
        last = max(consumers.get(name, []) + [first])
        spans[name] = (first, n if name in graph.outputs else last)
    return spans


def _sanctioned(graph: Graph, a: str, b: str, plan: ArenaPlan) -> bool:
    """a and b may share bytes if one op turns one into the other as a view, in place, or streaming rows."""
    for op in graph.ops:
        opdef = get_op(op.type)
        for src, dst in ((a, b), (b, a)):
            if op.outputs[0] != dst or src not in op.inputs:
                continue
            k = op.inputs.index(src)
            if opdef.view_of_input or k in opdef.inplace_inputs:
                return plan.location(src) == plan.location(dst)
            if opdef.row_window is not None and k == 0:
                lead = overlap_lead(graph, op, *opdef.row_window(op, graph))
                return lead is not None and plan.location(src)[1] - plan.location(dst)[1] >= lead
    return False


def check_plan(graph: Graph, plan: ArenaPlan) -> None:
    spans = _intervals(graph)
    names = [n for n in spans if plan.location(n)[0] == "arena"]
    for i, a in enumerate(names):
        (fa, la), (_, oa) = spans[a], plan.location(a)
        assert oa % plan.alignment == 0, f"{a} at offset {oa} is not {plan.alignment}-byte aligned"
        assert oa + graph.tensors[a].nbytes <= plan.arena_size, f"{a} runs past the arena"
        for b in names[i + 1:]:
            (fb, lb), (_, ob) = spans[b], plan.location(b)
            if fa > lb or fb > la:
                continue  # never live together
            if oa + graph.tensors[a].nbytes <= ob or ob + graph.tensors[b].nbytes <= oa:
                continue  # disjoint bytes
            assert _sanctioned(graph, a, b, plan), f"{a} and {b} are live together and overlap in the arena"
    for index, buf in plan.scratch.items():
        for name in names:
            first, last = spans[name]
            off = plan.location(name)[1]
            if first <= index <= last:
                assert off + graph.tensors[name].nbytes <= buf.offset or buf.offset + buf.size <= off, \
                    f"scratch of op #{index} overlaps live tensor {name}"
