"""Measured flash and RAM of a bare-metal build, read from its ELF with pyelftools.

Flash = every allocated section stored in flash (vector table, code, constants, .data's initial values), split:
  weights   the const arrays of NAME.c: tensors (w0, w1, ...) and op parameters (opN_mult/shift/params)
  schedule  NAME.c's code: the invoke functions
  kernels   everything defined in the kernel objects
  runtime   the rest: startup, the runner's main, the C library (semihosting I/O), libgcc, alignment padding
RAM = the runner's buffer passed to NAME_invoke_with_arena + stack high-water mark (painted stack, measured on
QEMU) + any library statics. The buffer is split into the arena the activations and scratch need (planned with
caller-owned I/O) and what holding the input/output records adds to it (`io_buffers`): the library plans its I/O
in the arena (io_in_arena), or the runner fits the records where the plan leaves room (targets/io_placement.py). Any
other static data of the runner belongs to the test harness, not the model: it is reported apart as
`runtime_static`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from mcuforge.targets.build import FirmwareBuild

SIZED_TYPES = ("STT_FUNC", "STT_OBJECT")


@dataclass
class SizeReport:
    target: str
    board: str
    flash_total: int
    weights: int
    weights_tensors: int  # w0, w1, ...: the constant tensors
    weights_params: int  # per-op requantization arrays and parameter structs
    schedule: int
    kernels: int
    runtime: int
    arena: int
    stack: int | None  # measured high-water mark of one inference; None when not run
    io_buffers: int  # what the input/output records add to the arena (0 when they fit in its gaps)
    library_static: int  # statics of NAME.c and the kernels other than the arena (0 for generated code)
    runtime_static: int
    ram_total: int | None  # arena + stack + io_buffers + library_static
    board_flash: int
    board_ram: int

    @property
    def fits_board(self) -> bool | None:
        if self.ram_total is None:
            return None
        return self.flash_total <= self.board_flash and self.ram_total + self.runtime_static <= self.board_ram

    def to_dict(self) -> dict:
        return {**asdict(self), "fits_board": self.fits_board}


def _defined_symbols(obj: Path) -> tuple[set[str], set[str]]:
    """(local, global) names of the sized functions and objects an object file defines."""
    local, glob = set(), set()
    with open(obj, "rb") as f:
        for sym in ELFFile(f).get_section_by_name(".symtab").iter_symbols():
            if sym["st_info"]["type"] in SIZED_TYPES and sym["st_shndx"] != "SHN_UNDEF":
                (local if sym["st_info"]["bind"] == "STB_LOCAL" else glob).add(sym.name)
    return local, glob


class _Owners:
    """Which object file (by stem) defined each symbol of the linked ELF."""

    def __init__(self, objects: dict[str, Path]):
        self.by_object = {stem: _defined_symbols(path) for stem, path in objects.items()}
        self.source_names = {f"{stem.removeprefix('runner_')}.c": stem for stem in objects}
        self.source_names["main.c"] = "runner_main"

    def owner(self, name: str, local: bool, current_file: str | None) -> str | None:
        if local:
            stem = self.source_names.get(current_file or "")
            return stem if stem and name in self.by_object[stem][0] else None
        return next((stem for stem, (_, glob) in self.by_object.items() if name in glob), None)


def _in_flash(addr: int, build: FirmwareBuild) -> bool:
    mem = build.profile.link_memory
    return mem.flash_origin <= addr < mem.flash_origin + mem.flash_size


def measure_size(build: FirmwareBuild, stack: int | None = None) -> SizeReport:
    """Sizes from the ELF's sections and symbols; `stack` is the measured high-water mark (QemuRun.stack_max)."""
    objects = {build.model_object.stem: build.model_object, **{p.stem: p for p in build.kernel_objects},
               **{p.stem: p for p in build.runner_objects}}
    owners = _Owners(objects)
    model, kernels = build.model_object.stem, {p.stem for p in build.kernel_objects}
    tensor_symbols = {a.symbol for a in build.compiled.sources.context.arrays if a.is_weight}
    with open(build.elf, "rb") as f:
        elf = ELFFile(f)
        flash_total = ram_static = 0
        for sec in elf.iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            if _in_flash(sec["sh_addr"], build):
                flash_total += sec["sh_size"]
            else:
                ram_static += sec["sh_size"]
                if sec["sh_type"] != "SHT_NOBITS":
                    flash_total += sec["sh_size"]  # .data's initial values are stored in flash
        sizes = dict.fromkeys(("tensors", "params", "schedule", "kernels", "arena", "io", "library_static"), 0)
        current_file = None
        for sym in elf.get_section_by_name(".symtab").iter_symbols():
            kind = sym["st_info"]["type"]
            if kind == "STT_FILE":
                current_file = sym.name
                continue
            if kind not in SIZED_TYPES or sym["st_size"] == 0 or not isinstance(sym["st_shndx"], int):
                continue
            owner = owners.owner(sym.name, sym["st_info"]["bind"] == "STB_LOCAL", current_file)
            size, in_flash = sym["st_size"], _in_flash(sym["st_value"], build)
            if owner == "runner_main" and sym.name == build.ram_symbol:
                sizes["arena"] += build.io.arena_size  # the runner's buffer: the arena, then any records
                sizes["io"] += size - build.io.arena_size
            elif owner == model:
                if not in_flash:
                    sizes["arena" if sym.name == f"{build.name}_arena" else "library_static"] += size
                elif kind == "STT_FUNC":
                    sizes["schedule"] += size
                else:
                    sizes["tensors" if sym.name in tensor_symbols else "params"] += size
            elif owner in kernels:
                sizes["kernels" if in_flash else "library_static"] += size
    weights = sizes["tensors"] + sizes["params"]
    model_static = sizes["arena"] + sizes["io"] + sizes["library_static"]
    board = build.profile.board
    return SizeReport(
        target=build.profile.name, board=f"{board.mcu} ({board.name})", flash_total=flash_total, weights=weights,
        weights_tensors=sizes["tensors"], weights_params=sizes["params"], schedule=sizes["schedule"],
        kernels=sizes["kernels"], runtime=flash_total - weights - sizes["schedule"] - sizes["kernels"],
        arena=sizes["arena"], stack=stack, io_buffers=sizes["io"], library_static=sizes["library_static"],
        runtime_static=ram_static - model_static,
        ram_total=None if stack is None else model_static + stack,
        board_flash=board.flash_bytes, board_ram=board.ram_bytes)


def format_size(report: SizeReport) -> str:
    def kb(n: int) -> str:
        return f"{n:>9,} B"

    model_static = report.arena + report.io_buffers + report.library_static
    ram = kb(report.ram_total) if report.ram_total is not None else f">={model_static:>7,} B"
    stack = "not measured" if report.stack is None else f"{report.stack:,}"
    lines = [
        (f"flash {kb(report.flash_total)}   weights {report.weights:,} (tensors {report.weights_tensors:,}, "
         f"op params {report.weights_params:,}), kernels {report.kernels:,}, schedule {report.schedule:,}, "
         f"runtime {report.runtime:,}"),
        (f"RAM   {ram}   arena {report.arena:,}, stack {stack}, I/O records add {report.io_buffers:,}, "
         f"library statics "
         f"{report.library_static:,} (test runner's C library: {report.runtime_static:,} more)")]
    fits = report.fits_board
    verdict = "unknown" if fits is None else ("fits" if fits else "DOES NOT FIT")
    lines.append(f"board {report.board}: {report.board_flash:,} B flash, {report.board_ram:,} B RAM -> {verdict}")
    return "\n".join(lines)
