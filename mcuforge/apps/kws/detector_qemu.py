"""The streaming detector as bare-metal firmware (detector project + `c/kws_detector_qemu_main.c`, built by
targets/app_firmware.py with the targets' startup, semihost_io.c and linker script), run on an emulated Cortex-M
with QEMU: audio in and events out through semihosting files."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuforge.apps.kws.detector_c import C_DIR, HOST_MAIN, emit_detector_c
from mcuforge.apps.kws.streaming import DetectorConfig, Event
from mcuforge.targets.app_firmware import AppFirmware, build_app_firmware, run_app_qemu

QEMU_MAIN = "kws_detector_qemu_main.c"
STACK_BYTES = 8 * 1024
AUDIO_FILE, EVENTS_FILE, POSTERIORS_FILE = "kws_audio.bin", "kws_events.bin", "kws_posteriors.bin"


@dataclass
class DetectorFirmware:
    app: AppFirmware
    num_classes: int

    @property
    def elf(self) -> Path:
        return self.app.elf

    @property
    def target(self) -> str:
        return self.app.profile.name


def build_detector_firmware(graph, outdir: str | Path, config: DetectorConfig | None = None,
                            target: str = "cortex-m4") -> DetectorFirmware:
    """Cross-compile (warnings as errors) and link the detector for `target` into `outdir`."""
    outdir = Path(outdir)
    project = emit_detector_c(outdir / "project", graph, config, force=True, host_main=False)
    shutil.copyfile(C_DIR / QEMU_MAIN, project / QEMU_MAIN)
    sources = [source for source in sorted(project.glob("*.c")) if source.name != HOST_MAIN]
    # the detector owns the model's arena: the library's static one would be dead weight
    app = build_app_firmware(sources, [project], outdir, target, "kws_detector.elf",
                             cflags=["-DKWS_MODEL_NO_STATIC_ARENA"], stack_bytes=STACK_BYTES)
    return DetectorFirmware(app, len((config or DetectorConfig()).labels))


def run_detector_qemu(firmware: DetectorFirmware, audio: np.ndarray, timeout: float = 300.0
                      ) -> tuple[list[Event], np.ndarray, np.ndarray]:
    """(events, inference hops, int8 posteriors [inferences, classes]) of float32 `audio` on QEMU."""
    files = run_app_qemu(firmware.app, {AUDIO_FILE: np.ascontiguousarray(audio, dtype=np.float32).tobytes()},
                         [EVENTS_FILE, POSTERIORS_FILE], timeout)
    events = np.frombuffer(files[EVENTS_FILE], dtype="<i4").reshape(-1, 3)
    record = np.dtype([("hop", "<u4"), ("post", "i1", firmware.num_classes)])
    rows = np.frombuffer(files[POSTERIORS_FILE], dtype=record)
    return [Event(*map(int, e)) for e in events], rows["hop"].astype(np.int64), rows["post"].copy()
