"""Measured flash/RAM and estimated latency of each shared MLPerf Tiny model on a Cortex-M target.

Per model: the bare-metal build's flash (image total, the weights within it: constant tensors and per-layer
parameter tables, the tables alone, and the overhead beyond the weights: kernels, schedule, startup and runner) and
RAM (the library's arena, which holds the inputs and outputs too (io_in_arena, as TFLite Micro's arena does), +
stack high-water mark measured on QEMU). The arena is also split into what the activations and scratch need with
caller-owned I/O ("arena") and what holding the I/O adds ("I/O"); the issue's target RAM <= arena + 2 KB is shown
against both ("RAM - arena", "RAM - arena+I/O"). Then the instructions one inference executes (emulated, seeded
random input),
estimated cycles from the target's cycle table (zero wait states), cycles per MAC, and milliseconds at the
default board's clock. Models with ops that have no C kernel yet are listed with a note. A second table splits
cycles per MAC by layer type (pointwise and other convs, depthwise, fully connected; "other" holds the layers
without MACs, such as ADD or SOFTMAX, and the pools). --no-dsp builds with MCUFORGE_NO_DSP: the portable
kernels on a core with the DSP extension, to compare with its DSP variants (kernels/dsp_s8.h).

    python benchmarks/cortex_m.py [--target cortex-m4] [--models DIR] [--opt O2|Os] [--no-dsp] [--sparse auto|speed|off]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from mcuforge.errors import McuforgeError, ToolchainError, UnsupportedOpError
from mcuforge.frontends import load_model
from mcuforge.quant.sparse import SPARSE_MODES
from mcuforge.targets.build import build_firmware
from mcuforge.targets.profiles import get_profile
from mcuforge.targets.report import measure_build

MODELS = {"ad": "ad01_int8.tflite", "kws": "kws_ref_model.tflite", "kws_float": "kws_ref_model_float32.tflite",
          "vww": "vww_96_int8.tflite", "ic": "pretrainedResnet_quant.tflite"}
COLUMNS = ("model", "flash B", "weights B", "tables B", "overhead B", "RAM B", "arena B", "I/O B", "arena+I/O B",
           "stack B", "RAM - arena", "RAM - arena+I/O", "instructions", "est. cycles", "cycles/MAC", "ms", "cycles/MAC (no load pipelining)")


LAYER_TYPES = ("conv 1x1", "conv KxK", "depthwise", "fully conn.", "other")


def layer_type(graph, row: dict) -> str:
    op = graph.ops[row["index"]] if row["index"] >= 0 else None
    if op is None or not row["macs"] or op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        return "other"
    if op.type == "CONV_2D":
        return "conv 1x1" if graph.tensors[op.inputs[1]].shape[1:3] == (1, 1) else "conv KxK"
    return "depthwise" if op.type == "DEPTHWISE_CONV_2D" else "fully conn."


def by_layer_type(graph, latency, column: str = "cycles") -> list[str]:
    """Cycles per MAC of each layer type (and its share of the cycles), as table cells; `column` picks the cycle
    model ("cycles", or "cycles_no_load_pipelining": every LDR at full cost)."""
    cycles, macs = dict.fromkeys(LAYER_TYPES, 0.0), dict.fromkeys(LAYER_TYPES, 0)
    for row in latency.rows:
        kind = layer_type(graph, row)
        cycles[kind] += row[column]
        macs[kind] += row["macs"]
    total = sum(cycles.values())
    cells = []
    for kind in LAYER_TYPES:
        share = f"{100 * cycles[kind] / total:.0f}%"
        if kind == "other":
            cells.append(f"{round(cycles[kind]):,} cyc ({share})" if cycles[kind] else "-")
        else:
            cells.append(f"{cycles[kind] / macs[kind]:.2f} ({share})" if macs[kind] else "-")
    return cells


def measure_model(path: Path, target: str, opt: str, cflags: tuple[str, ...] = (), sparse: str = "auto"
                  ) -> tuple[list[str] | None, list[str] | None, str]:
    """One row of each table, or (None, None, why not)."""
    graph = load_model(path)
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-") as tmp:
        try:
            build = build_firmware(graph, Path(tmp) / "build", target=target, name="model", opt=f"-{opt}",
                                   cflags=cflags, sparse=sparse)
        except UnsupportedOpError as exc:
            return None, None, f"does not compile yet: {exc}"
        try:
            m = measure_build(build, profile=True)
        except ToolchainError as exc:  # e.g. unicorn's Cortex-M7 lacks an FPv5 instruction of the float kernels
            return None, None, f"not measured: {exc}"
    size, latency = m.size, m.latency[0]
    stack = "-" if size.stack is None else f"{size.stack:,}"
    ram = "-" if size.ram_total is None else f"{size.ram_total:,}"
    with_io = size.arena + size.io_buffers  # the library's arena: the runner's RAM buffer
    margins = ["-", "-"] if size.ram_total is None else [f"{size.ram_total - size.arena:,}",
                                                         f"{size.ram_total - with_io:,}"]
    cpm = f"{latency.cycles_per_mac:.2f}" if latency.cycles_per_mac else "-"
    cpm_flat = f"{latency.cycles_per_mac_no_load_pipelining:.2f}" if latency.macs else "-"
    return ([path.stem, f"{size.flash_total:,}", f"{size.weights:,}", f"{size.weights_params:,}",
             f"{size.flash_total - size.weights:,}", ram, f"{size.arena:,}", f"{size.io_buffers:,}",
             f"{with_io:,}", stack, *margins, f"{latency.instructions:,}",
             f"{round(latency.cycles):,}", cpm, f"{latency.milliseconds:.2f}", cpm_flat],
            [path.stem, cpm, *by_layer_type(graph, latency), cpm_flat,
             *by_layer_type(graph, latency, "cycles_no_load_pipelining")], "")


def print_table(columns, rows) -> None:
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(columns, widths))))
    for row in rows:
        print("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="cortex-m4")
    parser.add_argument("--models", default=os.environ.get("MCUFORGE_MODELS",
                                                           Path(__file__).resolve().parents[2] / "shared" / "models"))
    parser.add_argument("--opt", choices=("O2", "Os"), default="O2")
    parser.add_argument("--no-dsp", action="store_true",
                        help="build with MCUFORGE_NO_DSP: the portable kernels even on a core with the DSP extension")
    parser.add_argument("--sparse", choices=SPARSE_MODES, default="auto",
                        help="weight storage: bitmap-sparse where it saves flash (auto, the default), only where it "
                             "also saves cycles (speed), or dense (off)")
    args = parser.parse_args(argv)
    try:
        profile = get_profile(args.target)
    except McuforgeError as exc:
        print(f"cortex_m.py: {exc}", file=sys.stderr)
        return 2
    board = profile.board
    cflags = ("-DMCUFORGE_NO_DSP",) if args.no_dsp else ()
    kernels = "portable kernels (MCUFORGE_NO_DSP)" if args.no_dsp else "DSP kernels where the core has the extension"
    print(f"{profile.name} build (-{args.opt}, {kernels}, sparse storage {args.sparse}); latency on {board.mcu} "
          f"({board.name}) at {board.clock_hz / 1e6:g} MHz")
    print(f"cycle model: {profile.cycles.source}\n")
    rows, type_rows, notes = [], [], []
    for key, file_name in MODELS.items():
        path = Path(args.models) / file_name
        if not path.exists():
            notes.append(f"{key}: {path} not found")
            continue
        start = time.perf_counter()
        row, type_row, note = measure_model(path, args.target, args.opt, cflags, args.sparse)
        if row is None:
            notes.append(f"{key}: {note}")
        else:
            rows.append(row)
            type_rows.append(type_row)
            print(f"  measured {key} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    print_table(COLUMNS, rows)
    print("\ncycles per MAC by layer type (share of the model's cycles)")
    width = 1 + len(LAYER_TYPES)  # "all" and one cell per type, for each cycle model
    print_table(("model", "all", *LAYER_TYPES), [row[:1 + width] for row in type_rows])
    print("\nthe same without load pipelining (every LDR at the table's full cost: the conservative figure)")
    print_table(("model", "all", *LAYER_TYPES), [row[:1] + row[1 + width:] for row in type_rows])
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
