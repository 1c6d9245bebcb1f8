"""Host builds of the applications' C test harnesses: a main that reads records from one file and writes results
to another (c/record_files.c opens and closes them), compiled with the host compiler (warnings as errors,
ASan/UBSan on request) and run once on a batch of records."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from mcuforge.codegen.host import SANITIZE_CFLAGS, STRICT_CFLAGS, host_compiler
from mcuforge.errors import ToolchainError

C_DIR = Path(__file__).parent / "c"
RECORD_FILES = ("record_files.h", "record_files.c")


def build_harness(sources: Iterable[str | Path], exe: str | Path, what: str, sanitize: bool = False) -> Path:
    """Compile `sources` (one of them the harness's main) with record_files.c into `exe`; the record_files
    sources are copied next to it, and that directory is on the include path (where the library's headers are)."""
    exe = Path(exe)
    for name in RECORD_FILES:
        shutil.copyfile(C_DIR / name, exe.parent / name)
    command = [host_compiler(), *STRICT_CFLAGS, *(SANITIZE_CFLAGS if sanitize else []), *map(str, sources),
               str(exe.parent / "record_files.c"), f"-I{exe.parent}", "-o", str(exe), "-lm"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ToolchainError(f"{what}: host build failed: {result.stderr.strip()[:500]}")
    return exe


def run_harness(exe: str | Path, records: bytes) -> bytes:
    """Run the harness on `records` (written next to it) and return what it wrote."""
    exe = Path(exe)
    in_path, out_path = exe.parent / f"{exe.name}_in.bin", exe.parent / f"{exe.name}_out.bin"
    in_path.write_bytes(records)
    result = subprocess.run([str(exe), str(in_path), str(out_path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ToolchainError(f"{exe.name} failed (exit {result.returncode}): {result.stderr.strip()[:300]}")
    return out_path.read_bytes()
