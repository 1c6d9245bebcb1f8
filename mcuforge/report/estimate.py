"""`mcuforge estimate`: MACs, parameters, flash, RAM and cycles of a model on a target, without building it.

- MACs and parameters: the ops' own counts (report/layers.py).
- Flash = weights (the constant tensors, exact) + op parameters (requantization tables, exact, plus the
  parameter structs at a calibrated size per field) + kernels (a calibrated code size per distinct C kernel file
  the model links) + schedule (calibrated bytes per call) + runtime (startup, the test runner and its C library,
  as `mcuforge build` links them). Which kernels and tables a layer needs comes from its C emitter, run without
  writing anything.
- RAM: the arena from the planner (plan_arena) plus what the inputs and outputs add to it when planned inside it,
  as `mcuforge build` links them (io_in_arena); the stack is not estimated (`mcuforge build` measures it).
- Cycles: the per-op cost model (report/cost_model.py), calibrated per target against emulator counts.
Figures are for the target's default board (clock, memory); calibration_data.py names the command that made the
coefficients."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from statistics import median

from mcuforge.codegen.planner import plan_arena
from mcuforge.errors import McuforgeError
from mcuforge.ir import Graph
from mcuforge.report import calibration_data
from mcuforge.report.cost_model import layer_cost, layer_features
from mcuforge.report.emitted import emit_layers, kernel_code_key, kernel_users
from mcuforge.report.layers import format_count
from mcuforge.report.memory import memory_timeline
from mcuforge.targets.profiles import get_profile


@dataclass
class LayerEstimate:
    index: int
    op: str
    output: str
    output_shape: list[int]
    macs: int
    params: int  # elements of the constant tensors this layer is first to use
    weight_bytes: int
    param_bytes: int  # requantization tables and parameter structs
    kernels: list[str]  # C kernel files the layer links (empty for views)
    cost_key: str | None
    cycles: float
    calibrated: bool  # False: no coefficients for this op, the generic per-element cost was used
    note: str = ""


@dataclass
class ModelEstimate:
    model: str
    target: str
    board: str
    clock_hz: int
    layers: list[LayerEstimate]
    flash: dict[str, int]  # weights, op_params, kernels, schedule, runtime, total
    ram: dict[str, int]  # arena, io_buffers, total (stack not included)
    kernel_code: dict[str, int]  # estimated bytes per kernel file
    live_bytes: list[int]  # bytes of the tensors live during each op (the planner's timeline)
    arena_tops: list[int]  # the highest arena byte in use during each op
    peak_op: int  # an op where the arena is used to its top, the one with the most live bytes
    calibration: str
    notes: list[str] = field(default_factory=list)

    @property
    def cycles(self) -> float:
        return sum(layer.cycles for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def milliseconds(self) -> float:
        return self.cycles / self.clock_hz * 1e3

    def to_dict(self) -> dict:
        return {"model": self.model, "target": self.target, "board": self.board, "clock_hz": self.clock_hz,
                "macs": self.macs, "params": self.params, "cycles": round(self.cycles),
                "milliseconds": self.milliseconds, "flash_bytes": self.flash, "ram_bytes": self.ram,
                "kernel_code_bytes": self.kernel_code, "peak_op": self.peak_op, "calibration": self.calibration,
                "notes": self.notes,
                "layers": [{**asdict(layer), "cycles": round(layer.cycles)} for layer in self.layers]}


def estimate_model(graph: Graph, target: str = "cortex-m4", alignment: int = 8) -> ModelEstimate:
    profile = get_profile(target)
    if target not in calibration_data.CYCLES:
        raise McuforgeError(f"no calibrated cost model for target {target!r} (calibrated: "
                            f"{', '.join(calibration_data.CYCLES)}); run {calibration_data.COMMAND}")
    plan = plan_arena(graph, alignment=alignment)
    emitted = emit_layers(graph, plan)
    layers, notes = [], []
    for i, (op, em) in enumerate(zip(graph.ops, emitted)):
        cost = layer_cost(op, graph, target, em.kernels)
        out = graph.tensors[op.outputs[0]]
        note = em.note or ("" if cost.calibrated else f"no calibration for {cost.key}: a similar op's cost")
        layers.append(LayerEstimate(
            index=i, op=op.type, output=op.outputs[0], output_shape=list(out.shape),
            macs=layer_features(op, graph)[0],  # the op's MACs (a sparse kernel's cost counts fewer)
            params=em.weights, weight_bytes=em.weight_bytes, param_bytes=0, kernels=em.kernels, cost_key=cost.key,
            cycles=cost.cycles, calibrated=cost.calibrated, note=note))
        if note:
            notes.append(f"#{i} {op.type}: {note}")

    flash_model = calibration_data.FLASH[target]
    code = calibration_data.KERNEL_CODE[target]
    fallback = int(median(code.values())) if code else 0
    kernel_code = {}
    for stem, op_types in kernel_users(graph, emitted).items():
        size = code.get(kernel_code_key(stem, op_types))
        if size is None:  # entry points never calibrated together: the file's largest measured size
            size = max((n for key, n in code.items() if key.split(":")[0] == stem), default=None)
        if size is None:
            notes.append(f"kernel {stem}: no measured code size, the median kernel's assumed")
        kernel_code[stem] = fallback if size is None else size
    for layer, em in zip(layers, emitted):
        layer.param_bytes = em.array_bytes + round(em.struct_fields * flash_model["bytes_per_field"])
        if em.note.startswith("no C kernel"):
            kernel_code[f"({layer.op})"] = fallback
    calls = sum(1 for layer in layers if layer.cost_key is not None)
    flash = {"weights": sum(layer.weight_bytes for layer in layers),
             "op_params": sum(layer.param_bytes for layer in layers),
             "kernels": sum(kernel_code.values()),
             "schedule": round(flash_model["schedule_base"] + flash_model["schedule_per_call"] * calls),
             "runtime": round(flash_model["runtime"])}
    flash["total"] = sum(flash.values())
    io = plan_arena(graph, alignment=alignment, io_in_arena=True).arena_size - plan.arena_size
    live = plan.live_bytes(len(graph.ops))
    tops = [row["arena_top"] for row in memory_timeline(graph, plan)["ops"]]
    board = profile.board
    return ModelEstimate(
        model=graph.where(), target=target, board=f"{board.mcu} ({board.name})", clock_hz=board.clock_hz,
        layers=layers, flash=flash, ram={"arena": plan.arena_size, "io_buffers": io, "total": plan.arena_size + io},
        kernel_code=kernel_code, live_bytes=live, arena_tops=tops,
        peak_op=max(range(len(live)), key=lambda i: (tops[i], live[i]), default=0),
        calibration=calibration_data.COMMAND, notes=notes)


def format_estimate(est: ModelEstimate) -> str:
    header = ("#", "op", "output shape", "MACs", "params", "weights B", "est. cycles", "ms")
    body = []
    for layer in est.layers:
        mark = "" if layer.calibrated else " *"
        body.append((str(layer.index), layer.op, "x".join(map(str, layer.output_shape)), format_count(layer.macs),
                     format_count(layer.params), format_count(layer.weight_bytes),
                     format_count(round(layer.cycles)) + mark, f"{layer.cycles / est.clock_hz * 1e3:.3f}"))
    footer = ("", f"total ({len(est.layers)} ops)", "", format_count(est.macs), format_count(est.params),
              format_count(est.flash["weights"]), format_count(round(est.cycles)), f"{est.milliseconds:.3f}")
    widths = [max(len(row[c]) for row in [header, *body, footer]) for c in range(len(header))]

    def line(row):
        return "  ".join(cell.ljust(w) if c < 3 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths)))

    rule = "-" * len(line(header))
    f, r = est.flash, est.ram
    lines = [f"model: {est.model}",
             f"target: {est.target} on {est.board} @ {est.clock_hz / 1e6:g} MHz (static estimate, no build)",
             line(header), rule, *map(line, body), rule, line(footer),
             f"latency  {round(est.cycles):,} cycles = {est.milliseconds:.2f} ms",
             (f"flash    {f['total']:,} B: weights {f['weights']:,}, op params {f['op_params']:,}, kernels "
              f"{f['kernels']:,} ({len(est.kernel_code)} files), schedule {f['schedule']:,}, runtime {f['runtime']:,}"),
             (f"RAM      {r['total']:,} B: arena {r['arena']:,} (peak at #{est.peak_op} "
              f"{est.layers[est.peak_op].op if est.layers else '-'}), I/O buffers {r['io_buffers']:,}; "
              "stack not estimated")]
    if any(not layer.calibrated for layer in est.layers):
        lines.append("* no calibrated coefficients for this op and kernel: a similar one's (see the notes)")
    lines += [f"note: {n}" for n in est.notes]
    lines.append(f"coefficients: {est.calibration}")
    return "\n".join(lines)
