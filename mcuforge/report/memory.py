"""The arena plan as a per-op memory timeline: which buffers are live at each op, and the peak."""

from __future__ import annotations

from mcuforge.codegen.planner import ArenaPlan
from mcuforge.ir import Graph


def memory_timeline(graph: Graph, plan: ArenaPlan) -> dict:
    live = plan.live_bytes(len(graph.ops))
    rows = []
    for i, op in enumerate(graph.ops):
        rows.append({"index": i, "op": op.type, "output": op.outputs[0], "live_bytes": live[i],
                     "arena_top": plan.arena_top(i)})
    return {"model": graph.where(), "arena_size": plan.arena_size, "alignment": plan.alignment,
            "strategy": plan.strategy, "peak_live_bytes": max(live, default=0), "ops": rows}


def format_memory_timeline(timeline: dict) -> str:
    peak = max((r["arena_top"] for r in timeline["ops"]), default=0) or 1
    lines = [f"model: {timeline['model']}",
             f"arena: {timeline['arena_size']} B ({timeline['strategy']} placement, {timeline['alignment']}-byte "
             f"alignment); peak live set {timeline['peak_live_bytes']} B",
             f"{'#':>3}  {'op':<18} {'live B':>8} {'top B':>8}  timeline"]
    for r in timeline["ops"]:
        bar = "#" * round(40 * r["arena_top"] / peak)
        mark = "  <- peak" if r["arena_top"] == timeline["arena_size"] else ""
        lines.append(f"{r['index']:>3}  {r['op']:<18} {r['live_bytes']:>8} {r['arena_top']:>8}  {bar}{mark}")
    return "\n".join(lines)
