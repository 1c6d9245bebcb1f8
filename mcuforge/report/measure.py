"""Measured per-layer cycles and flash of a model on a target: the bare-metal build (targets/build.py), the
instruction count of one inference in the emulator (targets/instruction_count.py) costed with the target's cycle
table, and the sizes in the linked image. What the estimator is calibrated against and compared with.

Targets without a build of their own (esp32, esp32-s3) are measured on the core whose instruction mix stands in
for theirs (targets/report.py CROSS_ESTIMATES: the Cortex-M4 build costed with the Xtensa table)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

from mcuforge.errors import McuforgeError
from mcuforge.ir import Graph
from mcuforge.report.cost_model import param_array_bytes
from mcuforge.report.emitted import struct_fields
from mcuforge.report.progress import steps
from mcuforge.targets.build import FirmwareBuild, build_firmware
from mcuforge.targets.instruction_classes import cycles_for
from mcuforge.targets.instruction_count import InstructionProfile, count_instructions
from mcuforge.targets.layer_map import PROLOGUE
from mcuforge.targets.profiles import PROFILES, get_profile
from mcuforge.targets.report import CROSS_ESTIMATES
from mcuforge.targets.size_report import SizeReport, measure_size


@dataclass
class CountedBuild:
    """One emulated inference of a build: instruction classes per layer and the image's sizes."""

    core: str
    counts: InstructionProfile | None  # None: built and sized only
    size: SizeReport
    kernel_code: dict[str, int]  # bytes of each kernel's code and constants in the linked image
    calls: int  # ops that emit a kernel call (views excluded)
    param_array_bytes: int  # requantization tables and other per-op constant arrays (not weights)
    param_fields: int  # scalar fields of the per-op parameter structs


@dataclass
class Measurement:
    target: str  # whose cycle table costed the counts
    core: str  # the build that ran in the emulator
    clock_hz: int
    layer_cycles: list[float]  # one per op of the graph, in schedule order
    prologue_cycles: float  # invoke's own entry and exit
    counted: CountedBuild

    @property
    def cycles(self) -> float:
        return sum(self.layer_cycles) + self.prologue_cycles

    @property
    def milliseconds(self) -> float:
        return self.cycles / self.clock_hz * 1e3


def measuring_core(target: str) -> str:
    """The core whose build is emulated to measure `target`."""
    profile = get_profile(target)
    if profile.buildable and profile.unicorn_cpu:
        return target
    for core, crossed in CROSS_ESTIMATES.items():
        if target in crossed:
            return core
    raise McuforgeError(f"target {target!r} can be neither built nor emulated here ({profile.notes})")


def kernel_code_sizes(build: FirmwareBuild) -> dict[str, int]:
    """Bytes of flash each kernel object contributes to the linked image (after --gc-sections)."""
    owned: dict[str, tuple[set[str], set[str]]] = {}
    for obj in build.kernel_objects:
        local, glob = set(), set()
        with open(obj, "rb") as f:
            for sym in ELFFile(f).get_section_by_name(".symtab").iter_symbols():
                if sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT") and sym["st_shndx"] != "SHN_UNDEF":
                    (local if sym["st_info"]["bind"] == "STB_LOCAL" else glob).add(sym.name)
        owned[obj.stem] = (local, glob)
    mem = build.profile.link_memory
    sizes = dict.fromkeys(owned, 0)
    with open(build.elf, "rb") as f:
        current_file = None
        for sym in ELFFile(f).get_section_by_name(".symtab").iter_symbols():
            kind = sym["st_info"]["type"]
            if kind == "STT_FILE":
                current_file = sym.name
                continue
            if kind not in ("STT_FUNC", "STT_OBJECT") or not sym["st_size"] or not isinstance(sym["st_shndx"], int):
                continue
            if not mem.flash_origin <= sym["st_value"] < mem.flash_origin + mem.flash_size:
                continue
            if sym["st_info"]["bind"] == "STB_LOCAL":
                stem = (current_file or "").removesuffix(".c")
                if stem in owned and sym.name in owned[stem][0]:
                    sizes[stem] += sym["st_size"]
            else:
                stem = next((s for s, (_, glob) in owned.items() if sym.name in glob), None)
                if stem is not None:
                    sizes[stem] += sym["st_size"]
    return sizes


def count_model(graph: Graph, core: str, seed: int = 0, quiet: bool = True, inputs=None,
                count: bool = True) -> CountedBuild:
    """Build `graph` for `core` in a temporary directory and count one inference (seeded random input); with
    `count` False, only build and size it."""
    from mcuforge.ops.registry import get_op

    with tempfile.TemporaryDirectory(prefix="mcuforge-measure-") as tmp, \
            steps(f"measure {core}", 2, quiet) as bar:
        bar.set_postfix_str("cross-compiling")
        build = build_firmware(graph, Path(tmp) / "build", target=core, name="model")
        bar.update()
        bar.set_postfix_str("emulating one inference")
        counts = count_instructions(build, inputs, seed=seed) if count else None
        bar.update()
        calls = sum(1 for op in graph.ops if not get_op(op.type).view_of_input)
        ctx = build.compiled.sources.context
        return CountedBuild(core=core, counts=counts, size=measure_size(build), kernel_code=kernel_code_sizes(build),
                            calls=calls, param_array_bytes=param_array_bytes(ctx.arrays),
                            param_fields=struct_fields(ctx.structs))


def cost_counts(counted: CountedBuild, target: str, n_ops: int) -> Measurement:
    """The counted build costed with `target`'s cycle table, at its default board's clock."""
    profile = PROFILES[target]
    layer_cycles = [0.0] * n_ops
    prologue = 0.0
    for layer in counted.counts.layers:
        cycles = cycles_for(layer.counts, profile.cycles)
        if layer.index == PROLOGUE:
            prologue += cycles
        else:
            layer_cycles[layer.index] = cycles
    return Measurement(target=target, core=counted.core, clock_hz=profile.board.clock_hz, layer_cycles=layer_cycles,
                       prologue_cycles=prologue, counted=counted)


def measure_model(graph: Graph, target: str = "cortex-m4", seed: int = 0, quiet: bool = True) -> Measurement:
    """Measured cycles per layer of one inference of `graph` on `target` (see the module doc)."""
    return cost_counts(count_model(graph, measuring_core(target), seed, quiet), target, len(graph.ops))
