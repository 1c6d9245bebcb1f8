"""What `mcuforge build` measures and prints: the image's flash and RAM (stack high-water mark from one QEMU run,
when the target has an emulator) and, with profiling, instructions and estimated cycles per layer."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import numpy as np

from mcuforge.errors import ToolchainError
from mcuforge.targets.build import FirmwareBuild
from mcuforge.targets.instruction_count import InstructionProfile, LatencyEstimate, count_instructions, estimate_latency
from mcuforge.targets.profiles import PROFILES, get_profile
from mcuforge.targets.qemu import QEMU, run_qemu
from mcuforge.targets.size_report import SizeReport, format_size, measure_size

# Cores without a build of their own whose estimates are costed from a Cortex-M4 count.
CROSS_ESTIMATES = {"cortex-m4": ("esp32", "esp32-s3")}


@dataclass
class BuildMeasurement:
    build: FirmwareBuild
    size: SizeReport
    stack_note: str  # why the stack is not measured, when it is not
    counts: InstructionProfile | None = None
    latency: list[LatencyEstimate] | None = None  # the target's boards first, then cross-core estimates

    def to_dict(self) -> dict:
        out = {"target": self.build.profile.name, "elf": str(self.build.elf), "optimization": self.build.opt,
               "size": self.size.to_dict()}
        if self.stack_note:
            out["stack_note"] = self.stack_note
        if self.latency is not None:
            out["latency"] = [estimate.to_dict() for estimate in self.latency]
            out["instruction_classes"] = self.counts.totals()
        return out


def _random_record(build: FirmwareBuild, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    record = []
    for name in build.graph.inputs:
        t = build.graph.tensors[name]
        record.append(rng.integers(-128, 128, size=t.shape, dtype=np.int8) if t.dtype == "int8"
                      else rng.standard_normal(t.shape).astype(t.dtype))
    return record


def measure_stack(build: FirmwareBuild, seed: int = 0) -> tuple[int | None, str]:
    """Stack high-water mark of one inference on QEMU, or (None, why not)."""
    if build.profile.qemu is None:
        return None, f"no QEMU machine for {build.profile.name}"
    if shutil.which(QEMU) is None:
        return None, f"{QEMU} not found"
    return run_qemu(build, [_random_record(build, seed)]).stack_max, ""


def board_estimates(counts: InstructionProfile, target: str) -> list[LatencyEstimate]:
    """The target's boards, then the cores estimated from this core's count."""
    profile = get_profile(target)
    estimates = [estimate_latency(counts, profile, board.clock_hz) for board in profile.boards]
    for board, estimate in zip(profile.boards, estimates):
        estimate.board = f"{board.mcu} ({board.name})"
    estimates += [estimate_latency(counts, PROFILES[name]) for name in CROSS_ESTIMATES.get(target, ())]
    return estimates


def measure_build(build: FirmwareBuild, profile: bool = False, seed: int = 0) -> BuildMeasurement:
    try:
        stack, note = measure_stack(build, seed)
    except ToolchainError as exc:
        stack, note = None, str(exc)
    measurement = BuildMeasurement(build=build, size=measure_size(build, stack), stack_note=note)
    if profile:
        measurement.counts = count_instructions(build, _random_record(build, seed))
        measurement.latency = board_estimates(measurement.counts, build.profile.name)
    return measurement


def _energy_uj(estimate: LatencyEstimate) -> float | None:
    profile = PROFILES[estimate.target]
    board = next((b for b in profile.boards if estimate.board.startswith(b.mcu)), profile.board)
    return board.active.current_ma(estimate.clock_hz) * board.supply_v * estimate.milliseconds


def format_latency(estimate: LatencyEstimate, per_layer: bool) -> str:
    lines = []
    if per_layer:
        lines.append(f"{'#':>4}  {'op':<20} {'MACs':>12} {'instructions':>14} {'est. cycles':>14} {'cycles/MAC':>10}")
        for row in estimate.rows:
            cpm = f"{row['cycles_per_mac']:.2f}" if row["cycles_per_mac"] is not None else "-"
            index = "-" if row["index"] < 0 else str(row["index"])
            lines.append(f"{index:>4}  {row['op']:<20} {row['macs']:>12,} {row['instructions']:>14,} "
                         f"{row['cycles']:>14,} {cpm:>10}")
        cpm = f"{estimate.cycles_per_mac:.2f}" if estimate.cycles_per_mac else "-"
        lines.append(f"{'':>4}  {'total':<20} {estimate.macs:>12,} {estimate.instructions:>14,} "
                     f"{round(estimate.cycles):>14,} {cpm:>10}")
    energy = _energy_uj(estimate)
    lines.append(f"{estimate.target} on {estimate.board} @ {estimate.clock_hz / 1e6:g} MHz: "
                 f"{round(estimate.cycles):,} cycles = {estimate.milliseconds:.2f} ms"
                 + (f", ~{energy:.0f} uJ" if energy is not None else ""))
    return "\n".join(lines)


def format_measurement(m: BuildMeasurement) -> str:
    build = m.build
    lines = [f"built {build.elf} for {build.profile.name} ({build.profile.core}, {build.opt})", format_size(m.size)]
    if m.stack_note:
        lines.append(f"stack not measured: {m.stack_note}")
    if m.latency:
        lines.append(f"instructions per inference (emulated, seeded random input): {m.counts.instructions:,}; "
                     "cycles estimated from the cycle table (zero wait states):")
        lines.append(format_latency(m.latency[0], per_layer=True))
        lines.extend(format_latency(estimate, per_layer=False) for estimate in m.latency[1:])
        lines.append(f"cycle model: {m.latency[0].cycle_source}")
    return "\n".join(lines)
