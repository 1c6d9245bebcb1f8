"""`mcuforge build`: the model's C library plus a bare-metal runner (startup, linker script, semihosting main),
cross-compiled and linked for a Cortex-M target into one ELF.

Layout of the output directory (written atomically, like `mcuforge compile`):
  lib/        the generated library, exactly as `mcuforge compile` writes it
  firmware/   startup_cortex_m.c, main.c (the runner), link.ld
  obj/        one object per C file (the size report attributes symbols to them)
  NAME.elf, NAME.map
The library is compiled with -std=c99 -Wall -Wextra -Werror -pedantic -O2 (-O2 as the host build, so both run
the same code shape; pass opt="-Os" for the smallest image), -ffunction-sections -fdata-sections so the
linker drops what is unused, and -g, which adds debug sections only (the per-layer instruction count maps
addresses to schedule lines with it) and changes no code. The runner (startup, main) is compiled with -Os: it is
the harness around the model and runs outside the measured inference."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mcuforge.codegen.c_text import C_TYPES
from mcuforge.codegen.project import CompiledModel, compile_model, replace_directory
from mcuforge.errors import McuforgeError, ToolchainError
from mcuforge.ir import Graph
from mcuforge.quant.sparse import sparse_storage
from mcuforge.targets.io_placement import IoPlacement, place_io
from mcuforge.targets.profiles import TargetProfile, buildable_profile

HERE = Path(__file__).resolve().parent
STRICT_CFLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic")
SECTION_CFLAGS = ("-ffunction-sections", "-fdata-sections", "-g")
LINK_FLAGS = ("-nostartfiles", "--specs=nano.specs", "--specs=rdimon.specs", "-Wl,--gc-sections")
DEFAULT_STACK_BYTES = 32 * 1024
CROSS_GCC = "arm-none-eabi-gcc"

# File names the runner's main reads and writes through semihosting (relative to QEMU's working directory); the
# output file ends with RUNNER_TRAILER_WORDS uint32 words: the record count, then the deepest stack.
RUNNER_INPUT, RUNNER_OUTPUT = "mcuforge_in.bin", "mcuforge_out.bin"
RUNNER_TRAILER_WORDS = 2
# main's exit statuses (QEMU exits with them), written into runner_main.c as STATUS_* defines; the runner prints
# nothing, to keep its strings out of the measured flash. 1 is the startup's fault handler (prints its own line).
RUNNER_STATUSES = {"STATUS_CANNOT_OPEN": (2, f"cannot open {RUNNER_INPUT} or {RUNNER_OUTPUT}"),
                   "STATUS_INFERENCE_FAILED": (3, "inference failed (invoke returned non-zero)"),
                   "STATUS_WRITE_FAILED": (4, f"cannot write {RUNNER_OUTPUT}")}
# The startup and the runner are the test harness, not the model: compiled for size whatever `opt` the library
# gets (they run once per boot, outside the measured inference).
RUNNER_OPT = "-Os"
RUNNER_RAM = "mcuforge_ram"  # runner_main.c's buffer: the arena, then records that found no room in it


@dataclass
class FirmwareBuild:
    outdir: Path
    name: str
    profile: TargetProfile
    elf: Path
    map_file: Path
    compiled: CompiledModel
    model_object: Path  # NAME.o: weights, op parameters, the schedule, the static arena
    kernel_objects: list[Path]
    runner_objects: list[Path]  # startup and main
    opt: str
    stack_bytes: int
    io: IoPlacement  # where the runner keeps the records: in the arena where the plan leaves room

    @property
    def ram_symbol(self) -> str:
        return RUNNER_RAM

    @property
    def graph(self) -> Graph:
        return self.compiled.sources.context.graph


def cross_compiler() -> str:
    gcc = shutil.which(CROSS_GCC)
    if gcc is None:
        raise ToolchainError(f"{CROSS_GCC} not found (install gcc-arm-none-eabi and libnewlib-arm-none-eabi)")
    return gcc


def run_tool(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()] or ["(no output)"]
        detail = next((ln for ln in lines if "error" in ln), lines[0])
        raise ToolchainError(f"{what} failed: {detail}")


def _fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    return template


def render_runner_main(graph: Graph, name: str, io: IoPlacement, io_in_arena: bool = False) -> str:
    """The runner's main.c: the RAM buffer (arena + records, `io`), records read and written in place. With
    `io_in_arena` the library's header places the records (NAME_INPUT_PTR(arena), ...) and invoke takes only the
    arena."""
    buffers, reads, writes, args = [], [], [], []
    for kind, names in (("input", graph.inputs), ("output", graph.outputs)):
        for k, tensor_name in enumerate(names):
            t = graph.tensors[tensor_name]
            symbol = f"mcuforge_{kind}{k}"
            ctype = C_TYPES[t.dtype]
            if io_in_arena:
                tag = f"{kind.upper()}{k if len(names) > 1 else ''}"
                buffers.append(f"#define {symbol} {name.upper()}_{tag}_PTR(mcuforge_ram)  /* {t.size} values */")
            else:
                offset = io.slot(kind, k).offset
                buffers.append(f"#define {symbol} (({ctype} *)(void *)(mcuforge_ram + {offset}))  "
                               f"/* {t.size} values */")
                args.append(symbol)
            bytes_ = f"{t.size} * sizeof({ctype})"
            if kind == "input":
                reads.append(f"        if (!transfer(SYS_READ, in, {symbol}, {bytes_})) {{\n"
                             f"            break;\n        }}")
            else:
                writes.append(f"        if (!transfer(SYS_WRITE, out, {symbol}, {bytes_})) {{\n"
                              f"            return STATUS_WRITE_FAILED;\n        }}")
    statuses = "\n".join(f"#define {symbol} {code}" for symbol, (code, _) in RUNNER_STATUSES.items())
    return _fill((HERE / "runner_main.c").read_text(), NAME=name, RAM_SIZE=str(io.ram_size),
                 STATUSES=statuses, TRAILER_WORDS=str(RUNNER_TRAILER_WORDS), BUFFERS="\n".join(buffers),
                 READ="\n".join(reads), WRITE="\n".join(writes), ARGS=", ".join(args + ["mcuforge_ram"]))


def render_linker_script(profile: TargetProfile, stack_bytes: int) -> str:
    mem = profile.link_memory
    note = (f"QEMU {profile.qemu.machine} ({profile.qemu.doc})" if profile.qemu
            else f"{profile.board.mcu} on {profile.board.name} (no emulator: build and size only)")
    return _fill((HERE / "cortex_m.ld").read_text(), MEMORY_NOTE=note,
                 FLASH_ORIGIN=f"0x{mem.flash_origin:08X}", FLASH_SIZE=str(mem.flash_size),
                 RAM_ORIGIN=f"0x{mem.ram_origin:08X}", RAM_SIZE=str(mem.ram_size), STACK_SIZE=str(stack_bytes))


def build_firmware(graph: Graph, outdir: str | Path, target: str = "cortex-m4", name: str = "model",
                   force: bool = False, opt: str = "-O2", stack_bytes: int = DEFAULT_STACK_BYTES,
                   cflags: tuple[str, ...] = (), **codegen_options) -> FirmwareBuild:
    """Generate, cross-compile and link the model for `target`; returns where everything is. A non-empty
    `outdir` is replaced only with `force`; a failure leaves it untouched. `cflags` are added to every
    compile, e.g. "-DMCUFORGE_NO_DSP" for the portable kernels on a core with the DSP extension. The library is
    compiled with its inputs and outputs in the arena (`io_in_arena`, unless passed False): RAM is then the arena
    plus the stack."""
    profile = buildable_profile(target)
    codegen_options.setdefault("io_in_arena", True)
    if codegen_options.get("weights_blob"):
        raise McuforgeError("mcuforge build: --weights-blob is not supported for bare-metal builds yet")
    gcc = cross_compiler()
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise McuforgeError(f"{outdir}: exists and is not a directory")
    if outdir.is_dir() and any(outdir.iterdir()) and not force:
        raise McuforgeError(f"{outdir}: directory is not empty (use --force to replace it)")
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp's 0700 would outlive the rename
    try:
        compiled = compile_model(graph, tmp / "lib", name=name, **codegen_options)
        prefix = compiled.name
        firmware, obj = tmp / "firmware", tmp / "obj"
        firmware.mkdir()
        obj.mkdir()
        shutil.copy(HERE / "startup_cortex_m.c", firmware / "startup_cortex_m.c")
        # place_io plans the arena again (I/O in caller buffers) to price the records: under the same storage mode,
        # whose scratch rules the library's plan followed
        with sparse_storage(codegen_options.get("sparse", "auto")):
            io = place_io(compiled.plan, graph)
        (firmware / "main.c").write_text(render_runner_main(graph, prefix, io, compiled.plan.io_in_arena))
        (firmware / "link.ld").write_text(render_linker_script(profile, stack_bytes))

        # the runner passes its own buffer as the arena: the library's static one would be dead weight
        cflags = [*profile.gcc_flags, *STRICT_CFLAGS, opt, *SECTION_CFLAGS, f"-D{prefix.upper()}_NO_STATIC_ARENA",
                  *cflags, f"-I{tmp / 'lib'}"]
        objects: dict[str, Path] = {}
        sources = [tmp / "lib" / f"{prefix}.c", *[tmp / "lib" / f"{k}.c" for k in compiled.sources.kernels],
                   firmware / "startup_cortex_m.c", firmware / "main.c"]
        for src in sources:
            # runner objects get a prefix so no model name can collide with them
            runner = src.parent == firmware
            dst = obj / (f"runner_{src.stem}.o" if runner else f"{src.stem}.o")
            run_tool([gcc, *cflags, *([RUNNER_OPT] if runner else []), "-c", str(src), "-o", str(dst)],
                     f"{profile.name}: compiling {src.name}")
            objects[dst.stem] = dst
        elf, map_file = tmp / f"{prefix}.elf", tmp / f"{prefix}.map"
        # -lm after the objects: float kernels call expf/tanhf
        run_tool([gcc, *profile.gcc_flags, *LINK_FLAGS, f"-T{firmware / 'link.ld'}", f"-Wl,-Map={map_file}",
                  *map(str, objects.values()), "-lm", "-o", str(elf)], f"{profile.name}: linking {elf.name}")
        replace_directory(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    def moved(path: Path) -> Path:
        return outdir / path.relative_to(tmp)

    compiled.outdir = outdir / "lib"
    return FirmwareBuild(
        outdir=outdir, name=prefix, profile=profile, elf=moved(elf), map_file=moved(map_file), compiled=compiled,
        model_object=moved(objects[prefix]), kernel_objects=[moved(objects[k]) for k in compiled.sources.kernels],
        runner_objects=[moved(objects["runner_startup_cortex_m"]), moved(objects["runner_main"])], opt=opt,
        stack_bytes=stack_bytes, io=io)
