"""Camera frames -> C adapter -> compiled model on an emulated Cortex-M (QEMU): one bare-metal image with the
model library, the adapter, mcuforge's startup code and linker script, and a semihosting main (c/camera_qemu_main.c)
that runs a whole batch of frames in one boot."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from mcuforge.apps.vww.camera import CameraAdapter, frame_bytes
from mcuforge.apps.vww.camera_c import C_DIR, emit_adapter_files
from mcuforge.codegen.project import compile_model
from mcuforge.errors import McuforgeError, ToolchainError
from mcuforge.ir import Graph

TIMEOUT_S = 300.0


def _tool(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ToolchainError(f"{what} failed: {result.stderr.strip()[:500]}")


def build_camera_firmware(graph: Graph, adapter: CameraAdapter, outdir: Path, target: str = "cortex-m4",
                          name: str = "vww") -> Path:
    """Cross-compile (warnings as errors) and link the adapter + model image; returns the ELF."""
    from mcuforge.targets.build import (
        DEFAULT_STACK_BYTES,
        HERE,
        LINK_FLAGS,
        SECTION_CFLAGS,
        STRICT_CFLAGS,
        cross_compiler,
        render_linker_script,
    )
    from mcuforge.targets.profiles import buildable_profile

    profile = buildable_profile(target)
    gcc = cross_compiler()
    lib = compile_model(graph, Path(outdir) / "lib", name=name)
    emit_adapter_files(lib.outdir, adapter)
    main = (C_DIR / "camera_qemu_main.c").read_text().replace("@NAME@", lib.name).replace("@UPPER@", lib.name.upper())
    (lib.outdir / "camera_qemu_main.c").write_text(main)
    shutil.copyfile(HERE / "startup_cortex_m.c", lib.outdir / "startup_cortex_m.c")
    (lib.outdir / "link.ld").write_text(render_linker_script(profile, DEFAULT_STACK_BYTES))
    objects = []
    for source in sorted(p for p in lib.outdir.glob("*.c") if p.name != "example_main.c"):
        obj = source.with_suffix(".o")
        _tool([gcc, *profile.gcc_flags, *STRICT_CFLAGS, "-O2", *SECTION_CFLAGS, f"-I{lib.outdir}", "-c", str(source),
               "-o", str(obj)], f"{profile.name}: compiling {source.name}")
        objects.append(str(obj))
    elf = Path(outdir) / f"{lib.name}_camera.elf"
    _tool([gcc, *profile.gcc_flags, *LINK_FLAGS, f"-T{lib.outdir / 'link.ld'}", *objects, "-lm", "-o", str(elf)],
          f"{profile.name}: linking {elf.name}")
    return elf


def run_camera_qemu(graph: Graph, frames, frame_w: int, frame_h: int, pixel_format: str,
                    target: str = "cortex-m4") -> list[np.ndarray]:
    """Each frame's model output, computed on the emulated `target` (centred crop)."""
    from mcuforge.targets.profiles import buildable_profile
    from mcuforge.targets.qemu import qemu_binary

    profile = buildable_profile(target)
    if profile.qemu is None:
        raise McuforgeError(f"target {target!r} has no QEMU machine")
    adapter = CameraAdapter.for_model(graph, frame_w, frame_h, pixel_format)
    for frame in frames:
        adapter.pixels(frame)  # validates size and format
    out = graph.tensors[graph.outputs[0]]
    with tempfile.TemporaryDirectory(prefix="mcuforge-camera-qemu-") as tmp:
        tmp = Path(tmp)
        elf = build_camera_firmware(graph, adapter, tmp / "build", target)
        (tmp / "mcuforge_in.bin").write_bytes(b"".join(frame_bytes(f, pixel_format) for f in frames))
        command = [qemu_binary(), "-M", profile.qemu.machine, "-nographic", "-monitor", "none",
                   "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
        try:
            result = subprocess.run(command, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    check=False, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ToolchainError(f"{elf.name}: no exit within {TIMEOUT_S:g} s") from None
        if result.returncode != 0:
            raise ToolchainError(f"{elf.name} exited with status {result.returncode}: "
                                 f"{(result.stdout + result.stderr).strip()[-300:]}")
        raw = (tmp / "mcuforge_out.bin").read_bytes()
    values = np.frombuffer(raw, dtype=out.dtype)
    if values.size != len(frames) * out.size:
        raise ToolchainError(f"{elf.name} wrote {len(raw)} bytes for {len(frames)} frames")
    return [v.reshape(out.shape).copy() for v in values.reshape(len(frames), out.size)]
