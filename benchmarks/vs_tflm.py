"""Arena RAM and flash of mcuforge's generated C vs TensorFlow Lite Micro, per shared MLPerf Tiny model.

TFLM's number is the smallest arena its interpreter (the `tflite-micro` package) accepts, found by bisection; ours
is the arena of the generated library, by default with the graph inputs and outputs in the caller's buffers (the
table also shows it + the I/O bytes), and compiled with `io_in_arena`, the inputs and outputs planned inside the
arena as TFLM's arena holds them (what `mcuforge build` links): the like-for-like comparison.
Flash: our weights + code built for Cortex-M4 (arm-none-eabi-gcc -Os, text + data of the library objects), vs
the .tflite flatbuffer TFLM keeps in flash (its interpreter and kernels come on top and are not counted).

    python benchmarks/vs_tflm.py [--models DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from mcuforge.codegen.project import compile_model
from mcuforge.frontends import load_model

MODELS = {"kws": "kws_ref_model.tflite", "vww": "vww_96_int8.tflite", "ic": "pretrainedResnet_quant.tflite",
          "ad": "ad01_int8.tflite", "kws_float": "kws_ref_model_float32.tflite"}
CROSS_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os", "-std=c99",
               "-ffunction-sections", "-fdata-sections"]


MAX_ARENA = 1 << 24


def tflm_min_arena(model: bytes, inputs: list[np.ndarray]) -> int | None:
    """Smallest arena TFLM runs the model in (16-byte resolution); None if it cannot run it at all (e.g. the
    hybrid float KWS model: TFLM has no hybrid kernels)."""
    from tflite_micro.python.tflite_micro import runtime

    def works(size: int) -> bool:
        try:
            interp = runtime.Interpreter.from_bytes(model, arena_size=size)
            for i, x in enumerate(inputs):
                interp.set_input(x, i)
            interp.invoke()
            return True
        except (RuntimeError, MemoryError):
            return False

    lo, hi = 0, 1 << 12
    while not works(hi):
        if hi >= MAX_ARENA:
            return None
        lo, hi = hi, hi * 2
    while hi - lo > 16:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if works(mid) else (mid, hi)
    return hi


def cortex_m4_flash(project: Path) -> int | None:
    """text + data of the library's objects built for Cortex-M4 (None without arm-none-eabi-gcc)."""
    cc, size = shutil.which("arm-none-eabi-gcc"), shutil.which("arm-none-eabi-size")
    if not cc or not size:
        return None
    total = 0
    for src in sorted(project.glob("*.c")):
        if src.name == "example_main.c":
            continue
        obj = src.with_suffix(".o")
        subprocess.run([cc, *CROSS_FLAGS, "-c", str(src), "-o", str(obj)], check=True, cwd=project)
        out = subprocess.run([size, str(obj)], check=True, capture_output=True, text=True).stdout.splitlines()[1]
        text, data = (int(v) for v in out.split()[:2])
        total += text + data
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=os.environ.get("MCUFORGE_MODELS", "../shared/models"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for key, fname in MODELS.items():
            path = Path(args.models) / fname
            graph = load_model(path)
            compiled = compile_model(graph, Path(tmp) / key, name=key)
            in_arena = compile_model(graph, Path(tmp) / f"{key}_io", name=key, io_in_arena=True).plan.arena_size
            io_bytes = sum(graph.tensors[n].nbytes for n in graph.inputs + graph.outputs)
            inputs = [np.zeros(graph.tensors[n].shape, graph.tensors[n].dtype) for n in graph.inputs]
            tflm = tflm_min_arena(path.read_bytes(), inputs)
            weights = sum(a.values.nbytes for a in compiled.sources.context.arrays if a.is_weight)
            flash = cortex_m4_flash(compiled.outdir)
            rows.append((key, compiled.plan.arena_size, compiled.plan.arena_size + io_bytes, in_arena, tflm, weights,
                         flash, path.stat().st_size))
    header = ("model", "ours arena B", "ours+I/O B", "ours I/O in arena B", "TFLM arena B", "ratio", "ratio w/ I/O",
              "ratio I/O in arena", "weights B", "ours flash B (M4)", "flash - weights", ".tflite B")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for key, arena, with_io, in_arena, tflm, weights, flash, tfl in rows:
        flash_s = f"{flash:,}" if flash is not None else "n/a"
        code_s = f"{flash - weights:,}" if flash is not None else "n/a"
        tflm_s = f"{tflm:,}" if tflm else "cannot run"
        ratios = f"{arena / tflm:.2f} | {with_io / tflm:.2f} | {in_arena / tflm:.2f}" if tflm else "– | – | –"
        print(f"| {key} | {arena:,} | {with_io:,} | {in_arena:,} | {tflm_s} | {ratios} | {weights:,} | {flash_s} | "
              f"{code_s} | {tfl:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
