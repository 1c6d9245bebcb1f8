"""Per-layer statistics of a graph: output shape, parameters, MACs, activation bytes."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mcuforge.ir import Graph
from mcuforge.ops.registry import get_op
from mcuforge.quant.int4 import stored_bytes


@dataclass
class LayerStats:
    index: int
    op: str
    output: str
    output_shape: list[int]
    params: int  # elements of the op's constant inputs (weights, biases)
    param_bytes: int
    macs: int
    activation_bytes: int  # bytes of the op's non-constant outputs


def layer_stats(graph: Graph) -> list[LayerStats]:
    rows = []
    for i, op in enumerate(graph.ops):
        consts = [graph.tensors[n] for n in op.inputs if n and graph.tensors[n].is_constant]
        outs = graph.output_tensors(op)
        rows.append(LayerStats(
            index=i, op=op.type, output=op.outputs[0], output_shape=list(outs[0].shape),
            params=sum(t.size for t in consts), param_bytes=sum(stored_bytes(t) for t in consts),
            macs=int(get_op(op.type).macs(op, graph)), activation_bytes=sum(t.nbytes for t in outs)))
    return rows


def summary(graph: Graph) -> dict:
    rows = layer_stats(graph)
    return {
        "model": graph.where(),
        "layers": [asdict(r) for r in rows],
        "total": {"ops": len(rows), "params": sum(r.params for r in rows),
                  "param_bytes": sum(r.param_bytes for r in rows), "macs": sum(r.macs for r in rows),
                  "activation_bytes": sum(r.activation_bytes for r in rows)},
        "inputs": [{"name": n, "shape": list(graph.tensors[n].shape), "dtype": graph.tensors[n].dtype}
                   for n in graph.inputs],
        "outputs": [{"name": n, "shape": list(graph.tensors[n].shape), "dtype": graph.tensors[n].dtype}
                    for n in graph.outputs],
    }


def format_count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} M"
    if n >= 10_000:
        return f"{n / 1e3:.1f} k"
    return str(n)


def format_table(info: dict) -> str:
    header = ("#", "op", "output shape", "params", "MACs", "act. bytes")
    body = [(str(r["index"]), r["op"], "x".join(map(str, r["output_shape"])), format_count(r["params"]),
             format_count(r["macs"]), format_count(r["activation_bytes"])) for r in info["layers"]]
    t = info["total"]
    footer = ("", f"total ({t['ops']} ops)", "", format_count(t["params"]), format_count(t["macs"]),
              format_count(t["activation_bytes"]))
    widths = [max(len(row[c]) for row in [header, *body, footer]) for c in range(len(header))]

    def line(row):
        return "  ".join(cell.ljust(w) if c < 3 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths)))

    rule = "-" * len(line(header))
    return "\n".join([f"model: {info['model']}", line(header), rule, *map(line, body), rule, line(footer)])
