"""The streaming detector as bare-metal firmware (detector project + `c/kws_detector_qemu_main.c` + the targets'
startup and linker script), run on an emulated Cortex-M with QEMU: audio in and events out through
semihosting files."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuforge.apps.kws.detector_c import C_DIR, HOST_MAIN, emit_detector_c
from mcuforge.apps.kws.streaming import DetectorConfig, Event
from mcuforge.errors import McuforgeError, ToolchainError

QEMU_MAIN = "kws_detector_qemu_main.c"
STACK_BYTES = 8 * 1024


@dataclass
class DetectorFirmware:
    elf: Path
    target: str
    num_classes: int


def build_detector_firmware(graph, outdir: str | Path, config: DetectorConfig | None = None,
                            target: str = "cortex-m4") -> DetectorFirmware:
    """Cross-compile (warnings as errors) and link the detector for `target` into `outdir`."""
    from mcuforge.targets.build import (
        LINK_FLAGS,
        SECTION_CFLAGS,
        STRICT_CFLAGS,
        cross_compiler,
        render_linker_script,
    )
    from mcuforge.targets.profiles import buildable_profile

    profile = buildable_profile(target)
    outdir = Path(outdir)
    project = emit_detector_c(outdir / "project", graph, config, force=True, host_main=False)
    targets_dir = Path(__file__).resolve().parents[2] / "targets"
    shutil.copyfile(targets_dir / "startup_cortex_m.c", project / "startup_cortex_m.c")
    shutil.copyfile(C_DIR / QEMU_MAIN, project / QEMU_MAIN)
    (outdir / "link.ld").write_text(render_linker_script(profile, STACK_BYTES))
    gcc = cross_compiler()
    # the detector owns the model's arena: the library's static one would be dead weight
    cflags = [*profile.gcc_flags, *STRICT_CFLAGS, "-O2", *SECTION_CFLAGS, "-DKWS_MODEL_NO_STATIC_ARENA",
              f"-I{project}"]
    objects = []
    for source in sorted(project.glob("*.c")):
        if source.name == HOST_MAIN:
            continue
        obj = outdir / f"{source.stem}.o"
        _run([gcc, *cflags, "-c", str(source), "-o", str(obj)], f"{target}: compiling {source.name}")
        objects.append(str(obj))
    elf = outdir / "kws_detector.elf"
    _run([gcc, *profile.gcc_flags, *LINK_FLAGS, f"-T{outdir / 'link.ld'}", *objects, "-lm", "-o", str(elf)],
         f"{target}: linking {elf.name}")
    return DetectorFirmware(elf, target, len((config or DetectorConfig()).labels))


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()] or ["(no output)"]
        raise ToolchainError(f"{what}: {next((ln for ln in lines if 'error' in ln), lines[0])}")


def run_detector_qemu(firmware: DetectorFirmware, audio: np.ndarray, timeout: float = 300.0
                      ) -> tuple[list[Event], np.ndarray, np.ndarray]:
    """(events, inference hops, int8 posteriors [inferences, classes]) of float32 `audio` on QEMU."""
    from mcuforge.targets.profiles import get_profile
    from mcuforge.targets.qemu import qemu_binary

    profile = get_profile(firmware.target)
    if profile.qemu is None:
        raise McuforgeError(f"target {firmware.target!r} has no QEMU machine")
    command = [qemu_binary(), "-M", profile.qemu.machine, "-nographic", "-monitor", "none",
               "-semihosting-config", "enable=on,target=native", "-kernel", str(firmware.elf)]
    with tempfile.TemporaryDirectory(prefix="mcuforge-kwsqemu-") as tmp:
        tmp = Path(tmp)
        np.ascontiguousarray(audio, dtype=np.float32).tofile(tmp / "kws_audio.bin")
        try:
            result = subprocess.run(command, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    check=False, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ToolchainError(f"{firmware.elf.name}: no exit within {timeout:g} s on QEMU") from None
        if result.returncode != 0:
            said = (result.stdout + result.stderr).strip()[-300:] or "(no output)"
            raise ToolchainError(f"{firmware.elf.name} on QEMU exited with {result.returncode}: {said}")
        events = np.fromfile(tmp / "kws_events.bin", dtype="<i4").reshape(-1, 3)
        record = np.dtype([("hop", "<u4"), ("post", "i1", firmware.num_classes)])
        rows = np.fromfile(tmp / "kws_posteriors.bin", dtype=record)
    return [Event(*map(int, e)) for e in events], rows["hop"].astype(np.int64), rows["post"].copy()
