"""Camera frames -> C adapter -> compiled model on an emulated Cortex-M (QEMU): one bare-metal image with the
model library, the adapter and a semihosting main (c/camera_qemu_main.c), built by targets/app_firmware.py with
mcuforge's startup code, semihost_io.c and linker script; a whole batch of frames runs in one boot."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from mcuforge.apps.vww.camera import CameraAdapter, frame_bytes
from mcuforge.apps.vww.camera_c import (
    checked_adapter,
    emit_adapter_files,
    render_main,
    split_outputs,
)
from mcuforge.codegen.project import compile_model
from mcuforge.ir import Graph
from mcuforge.targets.app_firmware import (
    AppFirmware,
    build_app_firmware,
    qemu_profile,
    run_app_qemu,
)

TIMEOUT_S = 300.0
INPUT_FILE, OUTPUT_FILE = "mcuforge_in.bin", "mcuforge_out.bin"  # the names camera_qemu_main.c opens


def build_camera_firmware(graph: Graph, adapter: CameraAdapter, outdir: Path, target: str = "cortex-m4",
                          name: str = "vww") -> AppFirmware:
    """Cross-compile (warnings as errors) and link the adapter + model image into `outdir`."""
    lib = compile_model(graph, Path(outdir) / "lib", name=name)
    emit_adapter_files(lib.outdir, adapter)
    render_main("camera_qemu_main.c", lib.name, lib.outdir)
    sources = sorted(p for p in lib.outdir.glob("*.c") if p.name != "example_main.c")
    return build_app_firmware(sources, [lib.outdir], outdir, target, f"{lib.name}_camera.elf")


def run_camera_qemu(graph: Graph, frames, frame_w: int, frame_h: int, pixel_format: str,
                    target: str = "cortex-m4") -> list[np.ndarray]:
    """Each frame's model output, computed on the emulated `target` (centred crop)."""
    qemu_profile(target)
    adapter = checked_adapter(graph, frames, frame_w, frame_h, pixel_format)
    with tempfile.TemporaryDirectory(prefix="mcuforge-camera-qemu-") as tmp:
        firmware = build_camera_firmware(graph, adapter, Path(tmp) / "build", target)
        frames_in = b"".join(frame_bytes(f, pixel_format) for f in frames)
        raw = run_app_qemu(firmware, {INPUT_FILE: frames_in}, [OUTPUT_FILE], TIMEOUT_S)[OUTPUT_FILE]
    return split_outputs(raw, graph, len(frames), firmware.elf.name)
