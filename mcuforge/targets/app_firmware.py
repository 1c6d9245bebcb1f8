"""Bare-metal firmware for an application (front end + compiled model + the app's own semihosting main), as
opposed to `mcuforge build`'s generic runner: the app's C sources with mcuforge's startup code, semihost_io.c
(host files through semihosting) and linker script, cross-compiled for a target profile into one ELF, and run
on QEMU with input files written into, and output files read back from, its working directory.

Layout of the build directory:
  firmware/   startup_cortex_m.c, semihost_io.c/.h, link.ld
  obj/        one object per C file
  ELF_NAME"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mcuforge.errors import McuforgeError, ToolchainError
from mcuforge.targets.build import (
    DEFAULT_STACK_BYTES,
    HERE,
    LINK_FLAGS,
    SECTION_CFLAGS,
    STRICT_CFLAGS,
    cross_compiler,
    render_linker_script,
    run_tool,
)
from mcuforge.targets.profiles import TargetProfile, buildable_profile
from mcuforge.targets.qemu import QEMU_TARGETS_HINT, boot

FIRMWARE_FILES = ("startup_cortex_m.c", "semihost_io.h", "semihost_io.c")
DEFAULT_TIMEOUT_S = 300.0


@dataclass
class AppFirmware:
    elf: Path
    profile: TargetProfile


def build_app_firmware(sources: Iterable[str | Path], include_dirs: Iterable[str | Path], outdir: str | Path,
                       target: str, elf_name: str, cflags: Iterable[str] = (), opt: str = "-O2",
                       stack_bytes: int = DEFAULT_STACK_BYTES) -> AppFirmware:
    """Compile `sources` (warnings as errors, like `mcuforge build`) plus the startup code and semihost_io.c, and
    link them for `target` into outdir/elf_name. semihost_io.h is on the include path."""
    profile = buildable_profile(target)
    gcc = cross_compiler()
    outdir = Path(outdir)
    firmware, obj = outdir / "firmware", outdir / "obj"
    firmware.mkdir(parents=True, exist_ok=True)
    obj.mkdir(exist_ok=True)
    for name in FIRMWARE_FILES:
        shutil.copyfile(HERE / name, firmware / name)
    (firmware / "link.ld").write_text(render_linker_script(profile, stack_bytes))
    flags = [*profile.gcc_flags, *STRICT_CFLAGS, opt, *SECTION_CFLAGS, *cflags,
             *(f"-I{d}" for d in (*include_dirs, firmware))]
    objects: dict[Path, Path] = {}
    for source in [*map(Path, sources), firmware / "startup_cortex_m.c", firmware / "semihost_io.c"]:
        target_obj = obj / f"{source.stem}.o"
        if target_obj in objects.values():
            raise McuforgeError(f"{source}: a second C file named {source.stem}.c in one firmware")
        run_tool([gcc, *flags, "-c", str(source), "-o", str(target_obj)], f"{profile.name}: compiling {source.name}")
        objects[source] = target_obj
    elf = outdir / elf_name
    # -lm after the objects: float front ends and kernels call logf/expf/...
    run_tool([gcc, *profile.gcc_flags, *LINK_FLAGS, f"-T{firmware / 'link.ld'}", *map(str, objects.values()), "-lm",
               "-o", str(elf)], f"{profile.name}: linking {elf.name}")
    return AppFirmware(elf, profile)


def qemu_profile(target: str) -> TargetProfile:
    """The profile of `target`, which must run on QEMU: checked before anything is built."""
    profile = buildable_profile(target)
    if profile.qemu is None:
        raise McuforgeError(f"target {target!r} has no QEMU machine ({profile.notes}); {QEMU_TARGETS_HINT}")
    return profile


def run_app_qemu(firmware: AppFirmware, inputs: Mapping[str, bytes], outputs: Iterable[str],
                 timeout: float = DEFAULT_TIMEOUT_S) -> dict[str, bytes]:
    """Boot `firmware` once on QEMU in a fresh directory holding `inputs` (file name -> contents); returns the
    contents of the `outputs` files main wrote there."""
    outputs = list(outputs)
    with tempfile.TemporaryDirectory(prefix="mcuforge-app-qemu-") as tmp:
        tmp = Path(tmp)
        for name, data in inputs.items():
            (tmp / name).write_bytes(data)
        boot(firmware, tmp, timeout)
        missing = [name for name in outputs if not (tmp / name).is_file()]
        if missing:
            raise ToolchainError(f"{firmware.elf.name} on QEMU exited 0 without writing {', '.join(missing)}")
        return {name: (tmp / name).read_bytes() for name in outputs}
