"""`mcuforge report`: one self-contained HTML page (inline SVG figures, no scripts, no external files) with the
static estimate of a model on a target: memory timeline with the arena peak, cycles per layer (and the emulator's
measurement with --measure), flash breakdown, energy per inference and battery life against the inference rate,
and with --compare a table of size, latency, energy (and accuracy, given a labelled data set) across models."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mcuforge.ir import Graph
from mcuforge.report import figures
from mcuforge.report.estimate import ModelEstimate, estimate_model
from mcuforge.report.power import Battery, board_device, duty_cycle, max_rate_hz
from mcuforge.report.progress import progress
from mcuforge.runtime.reference import run_reference
from mcuforge.targets.profiles import get_profile

STYLE = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:1.5em;margin-bottom:0}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{padding:2px 8px;border-bottom:1px solid #eee}
th{text-align:left;background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.sub{color:#666;margin-top:.2em}figure{margin:.6em 0}figure svg{max-width:100%;height:auto}
.notes{font-size:.8em;color:#555}"""


@dataclass
class ReportSettings:
    target: str = "cortex-m4"
    board: str | None = None
    rate_hz: float = 1.0
    battery: Battery = field(default_factory=lambda: Battery(220.0, 3.0))
    sensor_w: float = 0.0
    wakeup_us: float | None = None
    measure: bool = False
    quiet: bool = False


@dataclass
class ModelRow:
    name: str
    estimate: ModelEstimate
    energy_j: float
    life_h: float | None
    accuracy: float | None = None


def accuracy(graph: Graph, inputs: list[np.ndarray], labels: np.ndarray, quiet: bool = True) -> float:
    """Share of samples whose output 0's argmax equals the label."""
    hits = [int(np.argmax(run_reference(graph, [x])[0])) == int(y)
            for x, y in progress(list(zip(inputs, labels)), f"accuracy {Path(graph.where()).name}", quiet)]
    return float(np.mean(hits))


def _model_row(graph: Graph, settings: ReportSettings, dataset=None) -> ModelRow:
    est = estimate_model(graph, settings.target)
    device = board_device(get_profile(settings.target), settings.board, settings.wakeup_us)
    seconds = est.cycles / device.clock_hz
    life = None
    if seconds + device.wakeup_s <= 1 / settings.rate_hz:
        life = duty_cycle(device, seconds, settings.rate_hz, settings.battery, settings.sensor_w).battery_life_h
    acc = None
    if dataset is not None:
        from mcuforge.report.cascade import load_dataset

        inputs, labels = load_dataset(dataset[0], dataset[1], graph)
        acc = accuracy(graph, inputs, labels, settings.quiet)
    return ModelRow(Path(graph.where()).name, est, device.active_w * seconds, life, acc)


def _table(header: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td class='n'>{c}</td>" if k >= numeric_from else f"<td>{c}</td>"
                                    for k, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _layers_table(est: ModelEstimate, measured: list[float] | None) -> str:
    header = ["#", "op", "output shape", "MACs", "params", "weights B", "est. cycles"]
    if measured is not None:
        header += ["measured cycles", "error"]
    rows = []
    for layer in est.layers:
        row = [str(layer.index), html.escape(layer.op), "x".join(map(str, layer.output_shape)), f"{layer.macs:,}",
               f"{layer.params:,}", f"{layer.weight_bytes:,}",
               f"{layer.cycles:,.0f}" + ("" if layer.calibrated else " *")]
        if measured is not None:
            m = measured[layer.index]
            row += [f"{m:,.0f}", f"{layer.cycles / m - 1:+.1%}" if m else "-"]
        rows.append(row)
    return _table(header, rows, numeric_from=3)


def _compare_table(rows: list[ModelRow], settings: ReportSettings) -> str:
    with_accuracy = any(r.accuracy is not None for r in rows)
    header = ["model", "params", "MACs", "flash B", "arena B", "latency ms", "energy / inference uJ",
              f"battery life at {settings.rate_hz:g} Hz (days)"] + (["accuracy"] if with_accuracy else [])
    body = []
    for r in rows:
        e = r.estimate
        body.append([html.escape(r.name), f"{e.params:,}", f"{e.macs:,}", f"{e.flash['total']:,}",
                     f"{e.ram['arena']:,}", f"{e.milliseconds:.2f}", f"{r.energy_j * 1e6:.1f}",
                     "too slow" if r.life_h is None else f"{r.life_h / 24:.3g}"]
                    + ([("-" if r.accuracy is None else f"{r.accuracy:.1%}")] if with_accuracy else []))
    return _table(header, body)


def render_report(graph: Graph, settings: ReportSettings, compare: list[Graph] = (), dataset=None,
                  sections: str = "") -> str:
    """The report page as one HTML string; `sections` (HTML) goes right after the summary table (the pipeline
    puts its measured results there)."""
    est = estimate_model(graph, settings.target)
    measured = None
    if settings.measure:
        from mcuforge.report.measure import measure_model

        measured = measure_model(graph, settings.target, quiet=settings.quiet).layer_cycles
    device = board_device(get_profile(settings.target), settings.board, settings.wakeup_us)
    seconds = est.cycles / device.clock_hz
    top = max_rate_hz(device, seconds)
    rates = np.logspace(-3, np.log10(top * 0.999), 80)
    budgets = [duty_cycle(device, seconds, r, settings.battery, settings.sensor_w) for r in rates]
    chosen = duty_cycle(device, seconds, settings.rate_hz, settings.battery, settings.sensor_w)
    figs = {
        "memory": figures.memory_timeline(est),
        "cycles": figures.layer_cycles(est, measured),
        "flash": figures.flash_breakdown(est),
        "battery": figures.battery_life(rates, np.array([b.battery_life_h for b in budgets]),
                                        np.array([b.battery_current_ma for b in budgets]), chosen.rate_hz,
                                        chosen.battery_life_h, top)}
    summary = [["MACs", f"{est.macs:,}"], ["parameters", f"{est.params:,}"],
               ["flash (estimate)", f"{est.flash['total']:,} B"],
               ["RAM: arena + I/O buffers", f"{est.ram['arena']:,} + {est.ram['io_buffers']:,} B"],
               ["latency (estimate)", f"{est.cycles:,.0f} cycles = {est.milliseconds:.3f} ms"],
               ["energy per inference",
                f"{chosen.inference_j * 1e6:.2f} uJ (+ wake-up {chosen.wakeup_j * 1e6:.2f} uJ)"],
               [f"battery life at {chosen.rate_hz:g} Hz",
                f"{chosen.battery_life_h / 24:.3g} days ({chosen.battery_current_ma * 1e3:.1f} uA average)"]]
    if measured is not None:
        total = sum(measured)
        summary.insert(5, ["latency (measured, emulator)",
                           f"{total:,.0f} cycles = {total / est.clock_hz * 1e3:.3f} ms (estimate "
                           f"{est.cycles / total - 1:+.1%})"])
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>mcuforge report: {html.escape(Path(est.model).name)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(Path(est.model).name)} on {html.escape(est.target)}</h1>",
        f"<p class='sub'>{html.escape(est.board)} @ {est.clock_hz / 1e6:g} MHz; battery "
        f"{settings.battery.capacity_mah:g} mAh at {settings.battery.voltage_v:g} V; static estimate"
        f"{' and emulator measurement' if measured is not None else ''}</p>",
        _table(["", ""], summary), sections,
        "<h2>Memory timeline</h2>", f"<figure id='fig-memory'>{figs['memory']}</figure>",
        "<h2>Cycles per layer</h2>", f"<figure id='fig-cycles'>{figs['cycles']}</figure>",
        "<h2>Flash</h2>", f"<figure id='fig-flash'>{figs['flash']}</figure>",
        "<h2>Energy and battery life</h2>", f"<figure id='fig-battery'>{figs['battery']}</figure>",
        f"<p>Per inference at {chosen.rate_hz:g} Hz: active {chosen.active_s * 1e3:.3f} ms "
        f"({chosen.inference_j * 1e6:.2f} uJ), wake-up {chosen.wakeup_s * 1e6:g} us ({chosen.wakeup_j * 1e6:.2f} uJ), "
        f"sensor {chosen.sensor_j * 1e6:.2f} uJ, sleep {chosen.sleep_j * 1e6:.2f} uJ; "
        f"at most {top:.3g} Hz.</p>"]
    if compare:
        rows = [_model_row(g, settings, dataset) for g in progress([graph, *compare], "comparing", settings.quiet)]
        parts += ["<h2>Comparison</h2>", _compare_table(rows, settings)]
    parts += ["<h2>Layers</h2>", _layers_table(est, measured),
              "<h2>Sources and notes</h2><ul class='notes'>",
              *[f"<li>{html.escape(s)}</li>" for s in device.sources],
              f"<li>cost model: {html.escape(est.calibration)}</li>",
              *[f"<li>{html.escape(n)}</li>" for n in est.notes], "</ul></body></html>"]
    return "\n".join(parts)


def write_report(path: str | Path, page: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
