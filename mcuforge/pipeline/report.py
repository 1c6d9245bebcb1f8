"""The pipeline's results: summary.json (every number), the short table printed at the end, and the section of
report.html (mcuforge.report.html's page of the int8 model on the target, with this section at the top)."""

from __future__ import annotations

import html
import json
from pathlib import Path

from mcuforge.pipeline.tasks import headline


def _value(task: str, metrics: dict | None) -> str:
    if not metrics:
        return "-"
    _, value = headline(task, metrics)
    if value is None:
        return "-"
    return f"{value:.1%}" if task == "classification" else f"{value:.4f}"


def pruned(summary: dict) -> bool:
    return any("pruned_float" in r for r in summary["results"].values())


def result_header(summary: dict) -> list[str]:
    label = headline(summary["data"]["task"], {})[0]
    return (["split", "samples", f"float {label}"] + ([f"pruned float {label}"] if pruned(summary) else [])
            + [f"int8 {label}", "note"])


def result_rows(summary: dict) -> list[list[str]]:
    """[split, samples, float, (pruned float,) int8, note] per evaluated split, then the emulator's subset."""
    task, with_pruned = summary["data"]["task"], pruned(summary)
    rows = []
    for split, result in summary["results"].items():
        rows.append([split, f"{result['int8']['samples']:,}", _value(task, result["float"])]
                    + ([_value(task, result.get("pruned_float"))] if with_pruned else [])
                    + [_value(task, result["int8"]), result.get("note", "")])
    v = summary.get("verify")
    if v:
        rows.append([f"{v['split']} on {v['machine']}", f"{v['samples']:,}", ""] + ([""] if with_pruned else [])
                    + [_value(task, v["metrics"]),
                       f"{v['bit_exact']}/{v['samples']} outputs bit-exact with the reference interpreter"])
    return rows


def per_fault_rows(summary: dict) -> list[list[str]]:
    """Anomaly task: [split, fault, AUC float, AUC int8] per fault type."""
    rows = []
    for split, result in summary["results"].items():
        for fault, auc in result["float"].get("auc", {}).items():
            rows.append([split, fault, f"{auc:.4f}", f"{result['int8']['auc'][fault]:.4f}"])
    return rows


def deployment_lines(summary: dict) -> list[str]:
    d = summary["deploy"]
    size = d["size"]
    return [f"flash {size['flash_total']:,} B (weights {size['weights']:,}, kernels {size['kernels']:,}, runtime "
            f"{size['runtime']:,})   RAM {size['ram_total']:,} B (arena {size['arena']:,}, stack {size['stack']:,}, "
            f"I/O {size['io_buffers']:,})   on {d['board']}: {'fits' if d['fits_board'] else 'DOES NOT FIT'}",
            f"latency {d['latency_ms']:.2f} ms ({d['cycles']:,.0f} cycles @ {d['clock_hz'] / 1e6:g} MHz, "
            f"{d['macs']:,} MACs)   energy {d['energy_uj']:.1f} uJ per inference"]


def format_table(summary: dict) -> str:
    task = summary["data"]["task"]
    m = summary["model"]
    params = ", ".join(f"{k}={v}" for k, v in m["params"].items())
    pruning = summary.get("prune")
    lines = [f"{summary['name']}: {m['arch']} ({params}), {m['parameters']:,} parameters, "
             f"{summary['quantization']['method']}"
             + (f", {pruning['method']} pruning {pruning['sparsity']:.0%}" if pruning else "")]
    header = result_header(summary)
    widths = [28, 8] + [max(len(h), 8) for h in header[2:-1]]
    lines.append("  ".join(h.ljust(w) if k == 0 else h.rjust(w) for k, (h, w) in enumerate(zip(header, widths))))
    for row in result_rows(summary):
        cells = "  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(row, widths)))
        lines.append(cells + (f"   {row[-1]}" if row[-1] else ""))
    if task == "anomaly":
        lines.append(f"{'ROC AUC per fault type':<28}  {'':>8}  {'float':>14}  {'int8':>13}")
        lines += [f"  {split + ' ' + fault:<26}  {'':>8}  {f:>14}  {q:>13}" for split, fault, f, q in
                  per_fault_rows(summary)]
    lines += deployment_lines(summary)
    lines.append(f"wrote {summary['outdir']}/ in {summary['total_seconds']:.0f} s")
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html_section(summary: dict) -> str:
    """The pipeline's results as HTML: metrics per split, per fault type, measured deployment, stage times."""
    task = summary["data"]["task"]
    d = summary["deploy"]
    size = d["size"]
    parts = ["<h2>Pipeline results</h2>",
             f"<p>{html.escape(summary['data']['description'])}; model {html.escape(summary['model']['arch'])} "
             f"({html.escape(', '.join(f'{k}={v}' for k, v in summary['model']['params'].items()))}), "
             f"{summary['model']['parameters']:,} parameters; {html.escape(summary['quantization']['method'])}.</p>",
             _table(result_header(summary), result_rows(summary))]
    if task == "anomaly":
        parts += ["<h3>ROC AUC per fault type</h3>", _table(["split", "fault", "float", "int8"],
                                                           per_fault_rows(summary))]
    if summary.get("prune"):
        p = summary["prune"]
        after = "parameters left" if p["method"] == "structured" else "parameters left nonzero"
        parts += ["<h3>Pruning</h3>", _table(["method", "sparsity", "layers", "parameters before", after],
                                             [[p["method"], f"{p['sparsity']:.1%}", str(len(p["layers"])),
                                               f"{p['params_before']:,}", f"{p['params_after']:,}"]])]
    power = d["power"]
    battery = ("-" if "error" in power else f"{power['battery_life_days']:.3g} days at {power['rate_hz']:g} Hz "
               f"({power['average_current_ua']:.1f} uA)")
    parts += ["<h3>Measured on the target build</h3>", _table(["", ""], [
        ["flash (ELF)", f"{size['flash_total']:,} B: weights {size['weights']:,}, kernels {size['kernels']:,}, "
                        f"schedule {size['schedule']:,}, runtime {size['runtime']:,}"],
        ["RAM", f"{size['ram_total']:,} B: arena {size['arena']:,}, stack {size['stack']:,} (QEMU high-water "
                f"mark), I/O buffers {size['io_buffers']:,}"],
        ["board", f"{d['board']}: {'fits' if d['fits_board'] else 'does NOT fit'}"],
        ["latency", f"{d['latency_ms']:.3f} ms = {d['cycles']:,.0f} cycles at {d['clock_hz'] / 1e6:g} MHz "
                    f"({d['instructions']:,} instructions counted in the emulator)"],
        ["energy per inference", f"{d['energy_uj']:.2f} uJ (active power x latency)"],
        ["battery life", battery]]),
        "<h3>Stage wall times</h3>",
        _table(["stage", "seconds"], [[k, f"{v:.1f}"] for k, v in summary["wall_seconds"].items()]),
        "<p class='notes'>Accuracy: the float PyTorch model and the int8 graph run by mcuforge's reference "
        "interpreter on every sample of each split; the emulator row runs the firmware on QEMU for the sampled "
        "inputs, whose outputs equal the reference interpreter's bit for bit. Latency: instructions of one "
        "inference counted in an emulator and costed with the core's cycle table (zero wait states). Energy: the "
        "board's active power times that latency.</p>"]
    return "\n".join(parts)


def write_summary(path: Path, summary: dict) -> None:
    path.write_text(json.dumps(summary, indent=2, default=float) + "\n", encoding="utf-8")
