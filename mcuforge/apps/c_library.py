"""An application's C library as written into a project: generated files (configuration header, const tables)
next to static sources copied from the app's `c/` directory."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

SHARED_C_DIR = Path(__file__).parent / "c"
FFT_FILES = ("fft_f32.h", "fft_f32.c")   # the radix-2 complex FFT of the MFCC and vibration front ends


def write_c_library(outdir: str | Path, generated: Mapping[str, str], static_dir: Path,
                    static_files: Iterable[str], shared_files: Iterable[str] = ()) -> list[Path]:
    """Write `generated` (file name -> text), copy `static_files` from `static_dir` and `shared_files` from the
    apps' shared `c/` directory into `outdir`; returns the files written, generated first."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated.items():
        (outdir / name).write_text(text)
        written.append(outdir / name)
    for directory, names in ((static_dir, static_files), (SHARED_C_DIR, shared_files)):
        for name in names:
            shutil.copyfile(directory / name, outdir / name)
            written.append(outdir / name)
    return written
