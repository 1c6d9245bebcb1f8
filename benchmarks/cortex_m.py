"""Measured flash/RAM and estimated latency of each shared MLPerf Tiny model on a Cortex-M target.

Per model: the bare-metal build's flash (image total, and the weights within it) and RAM (arena + stack high-water
mark measured on QEMU + I/O buffers), the instructions one inference executes (emulated, seeded random input),
estimated cycles from the target's cycle table (zero wait states), cycles per MAC, and milliseconds at the
default board's clock. Models with ops that have no C kernel yet are listed with a note.

    python benchmarks/cortex_m.py [--target cortex-m4] [--models DIR] [--opt O2|Os]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from mcuforge.errors import McuforgeError, UnsupportedOpError
from mcuforge.frontends import load_model
from mcuforge.targets.build import build_firmware
from mcuforge.targets.profiles import get_profile
from mcuforge.targets.report import measure_build

MODELS = {"ad": "ad01_int8.tflite", "kws": "kws_ref_model.tflite", "kws_float": "kws_ref_model_float32.tflite",
          "vww": "vww_96_int8.tflite", "ic": "pretrainedResnet_quant.tflite"}
COLUMNS = ("model", "flash B", "weights B", "RAM B", "arena B", "stack B", "instructions", "est. cycles",
           "cycles/MAC", "ms")


def measure_model(path: Path, target: str, opt: str) -> tuple[list[str] | None, str]:
    """One table row, or (None, why not)."""
    graph = load_model(path)
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-") as tmp:
        try:
            build = build_firmware(graph, Path(tmp) / "build", target=target, name="model", opt=f"-{opt}")
        except UnsupportedOpError as exc:
            return None, f"does not compile yet: {exc}"
        m = measure_build(build, profile=True)
    size, latency = m.size, m.latency[0]
    stack = "-" if size.stack is None else f"{size.stack:,}"
    ram = "-" if size.ram_total is None else f"{size.ram_total:,}"
    cpm = f"{latency.cycles_per_mac:.2f}" if latency.cycles_per_mac else "-"
    return [path.stem, f"{size.flash_total:,}", f"{size.weights:,}", ram, f"{size.arena:,}", stack,
            f"{latency.instructions:,}", f"{round(latency.cycles):,}", cpm, f"{latency.milliseconds:.2f}"], ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="cortex-m4")
    parser.add_argument("--models", default=os.environ.get("MCUFORGE_MODELS",
                                                           Path(__file__).resolve().parents[2] / "shared" / "models"))
    parser.add_argument("--opt", choices=("O2", "Os"), default="O2")
    args = parser.parse_args(argv)
    try:
        profile = get_profile(args.target)
    except McuforgeError as exc:
        print(f"cortex_m.py: {exc}", file=sys.stderr)
        return 2
    board = profile.board
    print(f"{profile.name} build (-{args.opt}); latency on {board.mcu} ({board.name}) at {board.clock_hz / 1e6:g} MHz")
    print(f"cycle model: {profile.cycles.source}\n")
    rows, notes = [], []
    for key, file_name in MODELS.items():
        path = Path(args.models) / file_name
        if not path.exists():
            notes.append(f"{key}: {path} not found")
            continue
        start = time.perf_counter()
        row, note = measure_model(path, args.target, args.opt)
        if row is None:
            notes.append(f"{key}: {note}")
        else:
            rows.append(row)
            print(f"  measured {key} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(COLUMNS)]
    print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(COLUMNS, widths))))
    for row in rows:
        print("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))))
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
