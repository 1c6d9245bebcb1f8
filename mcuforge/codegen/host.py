"""Build a generated library with the host C compiler and run it on inputs (the `host-c` engine)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from mcuforge.errors import ToolchainError
from mcuforge.ir import Graph

STRICT_CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]
SANITIZE_CFLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1"]


def host_compiler() -> str:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise ToolchainError("no host C compiler found (install gcc)")
    return cc


def build_host(project_dir: str | Path, name: str, sanitize: bool = False) -> Path:
    """Compile the library and its example program with warnings as errors; returns the executable."""
    project_dir = Path(project_dir)
    sources = sorted(str(p) for p in project_dir.glob("*.c"))
    exe = project_dir / (f"{name}_example_asan" if sanitize else f"{name}_example")
    flags = STRICT_CFLAGS + (SANITIZE_CFLAGS if sanitize else [])
    command = [host_compiler(), *flags, *sources, "-o", str(exe), "-lm"]  # -lm last: float kernels call expf
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["(no output)"])[0]
        raise ToolchainError(f"{project_dir}: host build failed: {first}")
    return exe


def run_host(exe: str | Path, graph: Graph, batch: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """Run the example program on a batch of input records; returns one output list per record."""
    with tempfile.TemporaryDirectory(prefix="mcuforge-run-") as tmp:
        in_path, out_path = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
        with open(in_path, "wb") as f:
            for record in batch:
                for name, value in zip(graph.inputs, record):
                    f.write(np.ascontiguousarray(value, dtype=graph.tensors[name].dtype).tobytes())
        result = subprocess.run([str(exe), str(in_path), str(out_path)], capture_output=True, text=True)
        if result.returncode != 0:
            raise ToolchainError(f"{exe} failed (exit {result.returncode}): {result.stderr.strip()[:500]}")
        raw = out_path.read_bytes()
    outputs, pos = [], 0
    for _ in batch:
        record = []
        for name in graph.outputs:
            t = graph.tensors[name]
            value = np.frombuffer(raw[pos:pos + t.nbytes], dtype=t.dtype).reshape(t.shape)
            pos += t.nbytes
            record.append(value.copy())
        outputs.append(record)
    if pos != len(raw):
        raise ToolchainError(f"{exe} wrote {len(raw)} bytes, expected {pos}")
    return outputs
