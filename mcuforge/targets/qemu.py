"""The `qemu` engine: boot a bare-metal build on QEMU's MPS2 board for its core and run input records through it.

The runner's main (runner_main.c) reads every record of one input file through semihosting, so a whole
batch runs in one boot; QEMU exits with main's status (semihosting SYS_EXIT_EXTENDED), which RUNNER_STATUS
explains."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuforge.errors import McuforgeError, ToolchainError
from mcuforge.ir import Graph
from mcuforge.runtime.reference import check_inputs
from mcuforge.targets.build import (RUNNER_INPUT, RUNNER_OUTPUT, RUNNER_STATUSES, RUNNER_TRAILER_WORDS,
                                   FirmwareBuild, build_firmware)
from mcuforge.targets.profiles import PROFILES, buildable_profile

QEMU = "qemu-system-arm"
DEFAULT_TIMEOUT_S = 120.0
QEMU_TARGETS_HINT = "targets that run on QEMU: " + ", ".join(n for n, p in PROFILES.items() if p.qemu)
# What the exit statuses of `mcuforge build`'s runner mean: build.RUNNER_STATUSES, and 1, the startup's fault handler.
RUNNER_STATUS = {1: "processor fault", **dict(RUNNER_STATUSES.values())}


@dataclass
class QemuRun:
    outputs: list[list[np.ndarray]]  # one list of output arrays per input record
    stack_max: int  # deepest stack any inference used, in bytes (from the painted stack)
    records: int


def qemu_binary() -> str:
    qemu = shutil.which(QEMU)
    if qemu is None:
        raise ToolchainError(f"{QEMU} not found (install qemu-system-arm)")
    return qemu


def qemu_command(build: FirmwareBuild) -> list[str]:
    if build.profile.qemu is None:
        raise McuforgeError(f"target {build.profile.name!r} has no QEMU machine ({build.profile.notes}); "
                            f"{QEMU_TARGETS_HINT}")
    return [qemu_binary(), "-M", build.profile.qemu.machine, "-nographic", "-monitor", "none",
            "-semihosting-config", "enable=on,target=native", "-kernel", str(build.elf)]


def boot(build, workdir: Path, timeout: float = DEFAULT_TIMEOUT_S, statuses: dict[int, str] | None = None) -> None:
    """Run `build` (anything with .elf and .profile: a FirmwareBuild, app_firmware.AppFirmware) on QEMU until main
    returns, with `workdir` as the directory its semihosting files are opened in; an error unless it exits 0.
    `statuses` explains the main's non-zero exit statuses in that error."""
    command = qemu_command(build)
    try:
        result = subprocess.run(command, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"{build.elf.name} on {build.profile.qemu.machine}: no exit within {timeout:g} s "
                             "(hung or too slow; raise the timeout)") from None
    if result.returncode != 0:
        said = (result.stdout + result.stderr).strip()[-500:] or "(no output)"
        if statuses and result.returncode in statuses:
            said = f"{statuses[result.returncode]}; {said}"
        raise ToolchainError(f"{build.elf.name} on {build.profile.qemu.machine} exited with status "
                             f"{result.returncode}: {said}")


def _write_records(path: Path, graph: Graph, batch) -> None:
    with open(path, "wb") as f:
        for record in batch:
            f.writelines(np.ascontiguousarray(value, dtype=graph.tensors[name].dtype).tobytes()
                         for name, value in zip(graph.inputs, check_inputs(graph, record)))


def _read_records(raw: bytes, graph: Graph, count: int) -> list[list[np.ndarray]]:
    outputs, pos = [], 0
    for _ in range(count):
        record = []
        for name in graph.outputs:
            t = graph.tensors[name]
            record.append(np.frombuffer(raw[pos:pos + t.nbytes], dtype=t.dtype).reshape(t.shape).copy())
            pos += t.nbytes
        outputs.append(record)
    if pos != len(raw):
        raise ToolchainError(f"QEMU run wrote {len(raw)} output bytes, expected {pos}")
    return outputs


def _split_trailer(raw: bytes, build: FirmwareBuild) -> tuple[bytes, dict[str, int]]:
    """The output records and the runner's trailer (record count, deepest stack) at the end of its output file."""
    size = 4 * RUNNER_TRAILER_WORDS
    if len(raw) < size:
        raise ToolchainError(f"{build.elf.name}: the runner wrote {len(raw)} bytes, fewer than its {size}-byte "
                             "trailer")
    records, stack_max = np.frombuffer(raw[-size:], dtype="<u4").tolist()
    return raw[:-size], {"records": records, "stack_max": stack_max}


def run_qemu(build: FirmwareBuild, batch, timeout: float = DEFAULT_TIMEOUT_S) -> QemuRun:
    """Run every record of `batch` (a list of input lists) through the build in one QEMU boot."""
    graph = build.graph
    with tempfile.TemporaryDirectory(prefix="mcuforge-qemu-") as tmp:
        tmp = Path(tmp)
        _write_records(tmp / RUNNER_INPUT, graph, batch)
        boot(build, tmp, timeout, RUNNER_STATUS)
        raw, stats = _split_trailer((tmp / RUNNER_OUTPUT).read_bytes(), build)
    if stats["records"] != len(batch):
        raise ToolchainError(f"{build.elf.name}: runner reports {stats['records']} records, sent {len(batch)}")
    outputs = _read_records(raw, graph, len(batch))
    return QemuRun(outputs=outputs, stack_max=stats["stack_max"], records=stats["records"])


def run_on_qemu(graph: Graph, inputs, target: str = "cortex-m4", compat: str = "tflm",
                timeout: float = DEFAULT_TIMEOUT_S) -> list[np.ndarray]:
    """One inference on the emulated target (builds in a temporary directory): the CLI's `--engine qemu`."""
    profile = buildable_profile(target)
    if profile.qemu is None:
        raise McuforgeError(f"target {target!r} has no QEMU machine ({profile.notes}); {QEMU_TARGETS_HINT}")
    with tempfile.TemporaryDirectory(prefix="mcuforge-build-") as tmp:
        build = build_firmware(graph, Path(tmp) / "build", target=target, compat=compat)
        return run_qemu(build, [inputs], timeout=timeout).outputs[0]
