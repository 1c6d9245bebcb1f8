"""A readable text dump of a graph."""

from __future__ import annotations

from mcuforge.ir.graph import Graph


def _tensor_line(graph: Graph, name: str) -> str:
    t = graph.tensors[name]
    shape = "x".join(str(d) for d in t.shape) or "scalar"
    kind = "const " if t.is_constant else ""
    quant = f" [{t.quant.describe()}]" if t.quant is not None else ""
    return f"{kind}{t.dtype}[{shape}]{quant} {name}"


def dump_graph(graph: Graph) -> str:
    lines = [f"graph {graph.name}  ({len(graph.ops)} ops, {len(graph.tensors)} tensors)"]
    for name in graph.inputs:
        lines.append(f"  input  {_tensor_line(graph, name)}")
    for i, op in enumerate(graph.ops):
        attrs = ", ".join(f"{k}={v}" for k, v in sorted(op.attrs.items()))
        lines.append(f"  %{i:<3} {op.type}" + (f"  {{{attrs}}}" if attrs else ""))
        for name in op.inputs:
            lines.append(f"         <- {_tensor_line(graph, name) if name else '(none)'}")
        for name in op.outputs:
            lines.append(f"         -> {_tensor_line(graph, name)}")
    for name in graph.outputs:
        lines.append(f"  output {_tensor_line(graph, name)}")
    return "\n".join(lines)
