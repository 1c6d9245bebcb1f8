"""The deployment stages: the C library and the firmware for the target, verification on the emulated board, and
the measurements (flash and RAM from the ELF and the painted stack, cycles from an instruction count of one
inference, energy per inference from the board's power figures)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mcuforge.errors import McuforgeError
from mcuforge.ir import Graph
from mcuforge.pipeline.config import PipelineConfig
from mcuforge.pipeline.data import Dataset
from mcuforge.pipeline.quantize import int8_scores, quantize_inputs, reference_outputs
from mcuforge.pipeline.tasks import metrics
from mcuforge.targets.build import FirmwareBuild
from mcuforge.targets.profiles import PROFILES, get_profile

QEMU_TARGETS = [name for name, p in PROFILES.items() if p.qemu]


class VerificationError(McuforgeError):
    """The firmware's outputs on the emulated board differ from the reference interpreter's."""


def check_target(config: PipelineConfig) -> None:
    """Before any work: the target must be buildable and run on QEMU (the verify stage needs the emulator)."""
    profile = get_profile(config.target.name)
    if not profile.buildable or profile.qemu is None:
        raise config.error("target.name", f"{profile.name!r} cannot be verified here ({profile.notes}); targets "
                                          f"with an emulated board: {', '.join(QEMU_TARGETS)}")


def compile_library(graph: Graph, outdir: Path, name: str, sparse: str = "auto"):
    from mcuforge.codegen.project import compile_model

    return compile_model(graph, outdir, name=name, sparse=sparse)


def build(config: PipelineConfig, graph: Graph, outdir: Path, name: str) -> FirmwareBuild:
    from mcuforge.targets.build import build_firmware

    return build_firmware(graph, outdir, target=config.target.name, name=name, sparse=config.compile.sparse)


@dataclass
class Verification:
    split: str
    samples: int
    bit_exact: int  # samples whose outputs equal the reference interpreter's, bit for bit
    metrics: dict  # the task's metrics computed from the emulator's outputs
    stack_bytes: int
    machine: str

    def to_dict(self) -> dict:
        return asdict(self)


def verification_indices(config: PipelineConfig, dataset: Dataset) -> np.ndarray:
    """verify.samples indices of verify.split, a seeded draw in index order (so every class is represented)."""
    n = len(dataset.splits[config.verify.split][0])
    rng = np.random.default_rng(config.train.seed + 3)
    return np.sort(rng.permutation(n)[:min(config.verify.samples, n)])


def verify(config: PipelineConfig, dataset: Dataset, graph: Graph, firmware: FirmwareBuild) -> Verification:
    """Run the sampled inputs on the emulated board in one boot; every output must equal the reference
    interpreter's bit for bit (VerificationError otherwise)."""
    from mcuforge.targets.qemu import run_qemu

    split = config.verify.split
    x, y = dataset.splits[split]
    pick = verification_indices(config, dataset)
    records = quantize_inputs(graph, x[pick])
    run = run_qemu(firmware, records, timeout=max(120.0, 2.0 * len(records)))
    expected = reference_outputs(graph, records)
    same = [all(np.array_equal(a, b) for a, b in zip(got, want)) for got, want in zip(run.outputs, expected)]
    if not all(same):
        first = int(pick[same.index(False)])
        raise VerificationError(f"{config.path}: verify: {same.count(False)} of {len(same)} outputs on "
                                f"{firmware.profile.qemu.machine} differ from the reference interpreter (first: "
                                f"{split} sample {first})")
    scored = int8_scores(graph, dataset, records, run.outputs)
    return Verification(split, len(records), sum(same), metrics(dataset.task, dataset.classes, scored, y[pick]),
                        run.stack_max, firmware.profile.qemu.machine)


@dataclass
class Measurements:
    size: dict  # SizeReport.to_dict()
    cycles: float
    instructions: int
    macs: int
    clock_hz: int
    latency_ms: float
    energy_uj: float  # active energy of one inference on the board
    board: str
    fits_board: bool
    power: dict = field(default_factory=dict)  # duty cycle at report.rate_hz (or why not)
    cycle_source: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def measure(config: PipelineConfig, graph: Graph, firmware: FirmwareBuild, record: list[np.ndarray],
            stack_bytes: int) -> Measurements:
    """Flash/RAM of the image, cycles of one inference (instruction count costed with the core's table at the
    board's clock) and energy at the board's active power."""
    from mcuforge.pipeline.model import target_board
    from mcuforge.report.power import Battery, board_device, duty_cycle
    from mcuforge.targets.instruction_count import count_instructions, estimate_latency
    from mcuforge.targets.size_report import measure_size

    profile = get_profile(config.target.name)
    board = target_board(config)
    size = measure_size(firmware, stack_bytes)
    counts = count_instructions(firmware, record)
    expected = reference_outputs(graph, [record])[0]
    if not all(np.array_equal(a, b) for a, b in zip(counts.outputs, expected)):
        raise VerificationError(f"{config.path}: the instruction-counted inference differs from the reference "
                                "interpreter")
    latency = estimate_latency(counts, profile, board.clock_hz)
    device = board_device(profile, board.mcu)
    seconds = latency.cycles / board.clock_hz
    r = config.report
    try:
        budget = duty_cycle(device, seconds, r.rate_hz, Battery(r.battery_mah, r.battery_v))
        power = {"rate_hz": r.rate_hz, "battery_mah": r.battery_mah, "battery_v": r.battery_v,
                 "average_current_ua": budget.battery_current_ma * 1e3, "battery_life_days": budget.battery_life_h / 24,
                 "wakeup_uj": budget.wakeup_j * 1e6, "sleep_uj_per_period": budget.sleep_j * 1e6}
    except McuforgeError as exc:
        power = {"rate_hz": r.rate_hz, "error": str(exc)}
    ram = size.ram_total  # the model's RAM: the test runner's C library statics are not deployed
    return Measurements(size=size.to_dict(), cycles=latency.cycles, instructions=latency.instructions,
                        macs=latency.macs, clock_hz=board.clock_hz, latency_ms=latency.milliseconds,
                        energy_uj=device.active_w * seconds * 1e6, board=f"{board.mcu} ({board.name})",
                        fits_board=size.flash_total <= board.flash_bytes and ram <= board.ram_bytes, power=power,
                        cycle_source=latency.cycle_source)
