"""An application's C library as written into a project: generated files (configuration header, const tables)
next to static sources copied from the app's `c/` directory."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path


def write_c_library(outdir: str | Path, generated: Mapping[str, str], static_dir: Path,
                    static_files: Iterable[str]) -> list[Path]:
    """Write `generated` (file name -> text) and copy `static_files` from `static_dir` into `outdir`; returns the
    files written, generated first."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated.items():
        (outdir / name).write_text(text)
        written.append(outdir / name)
    for name in static_files:
        shutil.copyfile(static_dir / name, outdir / name)
        written.append(outdir / name)
    return written
