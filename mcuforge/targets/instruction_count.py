"""Deterministic instruction counts per inference and per layer, and cycle estimates from them.

Why unicorn and not QEMU: QEMU 7.2's MPS2 boards do not model the DWT cycle counter (checked: CYCCNT and DWT_CTRL
read 0 after enabling them through DEMCR.TRCENA, with or without -icount), and with
-icount the only clocks are the 25 MHz SysTick/CMSDK timers, one tick per 40 instructions at best. Unicorn runs
the very ELF that QEMU boots: its segments are loaded, NAME_invoke_with_arena is called on the runner's buffer, and a
basic-block hook counts every executed block. Each block is decoded once with capstone into instruction classes
(targets/instruction_classes.py), and the profile's cycle table turns the counts into estimated cycles. The
estimate assumes zero-wait-state memory (no flash wait states, no cache misses) and no interrupts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import unicorn
from elftools.elf.elffile import ELFFile
from unicorn import arm_const

from mcuforge.errors import McuforgeError, ToolchainError
from mcuforge.ops.registry import get_op
from mcuforge.runtime.reference import check_inputs
from mcuforge.targets.build import FirmwareBuild
from mcuforge.targets.instruction_classes import (cycles_for, decode_block, instruction_total, make_disassembler,
                                                  pipelines_across)
from mcuforge.targets.layer_map import PROLOGUE, LayerMap
from mcuforge.targets.profiles import TargetProfile

RETURN_SYMBOL = "Reset_Handler"  # never runs during invoke: its address is where invoke "returns" to


@dataclass
class LayerCount:
    index: int  # op index; PROLOGUE (-1) for invoke's own entry/exit code
    op: str
    output: str
    macs: int
    counts: dict[str, int]  # executed instructions per class (see instruction_classes.py)

    @property
    def instructions(self) -> int:
        return instruction_total(self.counts)


@dataclass
class InstructionProfile:
    target: str  # the build's core (where the instructions were counted)
    layers: list[LayerCount]
    outputs: list[np.ndarray]  # what the emulated invoke wrote: tests compare it with the reference

    @property
    def instructions(self) -> int:
        return sum(layer.instructions for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def totals(self) -> dict[str, int]:
        total: Counter = Counter()
        for layer in self.layers:
            total.update(layer.counts)
        return dict(total)


@dataclass
class LatencyEstimate:
    target: str
    board: str
    clock_hz: int
    cycle_source: str
    rows: list[dict] = field(default_factory=list)  # per layer: index, op, macs, instructions, cycles, cycles_per_mac
    instructions: int = 0
    cycles: float = 0.0
    macs: int = 0
    cycles_no_load_pipelining: float = 0.0  # the conservative figure: every LDR at the table's full cost

    @property
    def cycles_per_mac_no_load_pipelining(self) -> float | None:
        return self.cycles_no_load_pipelining / self.macs if self.macs else None

    @property
    def cycles_per_mac(self) -> float | None:
        return self.cycles / self.macs if self.macs else None

    @property
    def milliseconds(self) -> float:
        return self.cycles / self.clock_hz * 1e3

    def to_dict(self) -> dict:
        return {"target": self.target, "board": self.board, "clock_hz": self.clock_hz, "cycle_model": self.cycle_source,
                "instructions": self.instructions, "estimated_cycles": round(self.cycles), "macs": self.macs,
                "cycles_per_mac": self.cycles_per_mac,
                "estimated_cycles_no_load_pipelining": round(self.cycles_no_load_pipelining), "milliseconds": self.milliseconds, "layers": self.rows}


def _symbols(elf: ELFFile) -> dict[str, int]:
    return {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols() if s.name}


def _emulator(build: FirmwareBuild):
    profile = build.profile
    if profile.unicorn_cpu is None:
        raise McuforgeError(f"target {profile.name!r}: no emulated CPU model for instruction counting")
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(getattr(arm_const, f"UC_CPU_ARM_{profile.unicorn_cpu}"))
    mem = profile.link_memory
    uc.mem_map(mem.flash_origin, mem.flash_size)
    uc.mem_map(mem.ram_origin, mem.ram_size)
    with open(build.elf, "rb") as f:
        elf = ELFFile(f)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"]:
                uc.mem_write(seg["p_vaddr"], seg.data())  # .data at its run address; .bss stays zero
        symbols = _symbols(elf)
    return uc, symbols


def count_instructions(build: FirmwareBuild, inputs=None, seed: int = 0,
                       timeout_s: float = 1800.0) -> InstructionProfile:
    """Run one inference of the build's model in the emulator (on `inputs`, or seeded random int8/float data)
    and count the instructions each layer executes. `timeout_s` bounds a runaway program."""
    graph = build.graph
    if inputs is None:
        rng = np.random.default_rng(seed)
        inputs = [_random_input(rng, graph.tensors[n]) for n in graph.inputs]
    inputs = check_inputs(graph, inputs)
    uc, symbols = _emulator(build)

    ram = symbols[build.ram_symbol]  # the runner's arena, holding the records too (targets/io_placement.py)
    args = []
    for k, value in enumerate(inputs):
        address = ram + build.io.slot("input", k).offset
        uc.mem_write(address, np.ascontiguousarray(value, dtype=graph.tensors[graph.inputs[k]].dtype).tobytes())
        args.append(address)
    args += [ram + build.io.slot("output", k).offset for k in range(len(graph.outputs))]
    if build.compiled.plan.io_in_arena:  # NAME_invoke_with_arena(arena): the records are in it already
        args = []
    args.append(ram)  # NAME_invoke_with_arena's arena
    sp = symbols["__stack_top__"]
    stack_args = args[4:]
    sp -= 4 * len(stack_args) + (4 * len(stack_args)) % 8  # AAPCS: 8-byte aligned at the call
    for k, value in enumerate(stack_args):
        uc.mem_write(sp + 4 * k, int(value).to_bytes(4, "little"))
    for reg, value in zip((arm_const.UC_ARM_REG_R0, arm_const.UC_ARM_REG_R1, arm_const.UC_ARM_REG_R2,
                           arm_const.UC_ARM_REG_R3), args):
        uc.reg_write(reg, value)
    stop = symbols[RETURN_SYMBOL] & ~1
    uc.reg_write(arm_const.UC_ARM_REG_SP, sp)
    uc.reg_write(arm_const.UC_ARM_REG_LR, stop | 1)

    layers = LayerMap(build.elf, build.compiled.outdir / f"{build.name}.c", build.name)
    per_op = _trace_blocks(uc, layers, symbols[f"{build.name}_invoke_with_arena"] | 1, stop, timeout_s, build)

    rows = [LayerCount(PROLOGUE, "(invoke)", "", 0, dict(per_op.get(PROLOGUE, {})))]
    for i, op in enumerate(graph.ops):
        macs = int(get_op(op.type).macs(op, graph))
        rows.append(LayerCount(i, op.type, op.outputs[0], macs, dict(per_op.get(i, {}))))
    outputs = []
    for k, name in enumerate(graph.outputs):
        t = graph.tensors[name]
        raw = bytes(uc.mem_read(ram + build.io.slot("output", k).offset, t.nbytes))
        outputs.append(np.frombuffer(raw, dtype=t.dtype).reshape(t.shape).copy())
    return InstructionProfile(target=build.profile.name, layers=rows, outputs=outputs)


def _trace_blocks(uc: unicorn.Uc, layers: LayerMap, start: int, stop: int, timeout_s: float,
                  build: FirmwareBuild) -> dict[int, Counter]:
    """Run from `start` until the return to `stop`; returns each op's executed instruction classes.

    The hook is the hot path (one Python call per executed block), so it only counts: executions and taken
    final branches per block, in the counters of the op that is running. Blocks are decoded once, on first sight;
    a block inside invoke switches the running op (the op of its last instruction, e.g. the call to a kernel)."""
    md = make_disassembler()
    blocks: dict[int, tuple] = {}  # key (address << 16 | size) -> (BlockInfo, op index or None)
    # per op: executions and taken final branches per block, and the executions that ran straight on from a block
    # ending in an LDR that the first instruction pipelines behind (pipelines_across)
    by_op: dict[int, tuple[Counter, Counter, Counter]] = {PROLOGUE: (Counter(), Counter(), Counter())}
    executed, taken, chained = by_op[PROLOGUE]
    prev_key, prev_end, prev_taken, prev_info = None, None, taken, None

    def on_block(emu, address, size, _user):
        nonlocal executed, taken, chained, prev_key, prev_end, prev_taken, prev_info
        key = address << 16 | size
        straight_on = address == prev_end
        if not straight_on and prev_key is not None:
            prev_taken[prev_key] += 1
        entry = blocks.get(key)
        if entry is None:
            info = decode_block(md, bytes(emu.mem_read(address, size)), address)
            entry = blocks[key] = (info, layers.op_at(info.last_address) if layers.contains(address) else None)
        if entry[1] is not None:
            counters = by_op.get(entry[1])
            if counters is None:
                counters = by_op[entry[1]] = (Counter(), Counter(), Counter())
            executed, taken, chained = counters
        executed[key] += 1
        if straight_on and prev_info.trailing_load is not None and pipelines_across(prev_info, entry[0]):
            chained[key] += 1
        prev_key, prev_end, prev_taken, prev_info = key, address + size, taken, entry[0]

    uc.hook_add(unicorn.UC_HOOK_BLOCK, on_block)
    arm_pc = arm_const.UC_ARM_REG_PC
    try:
        uc.emu_start(start, stop, timeout=int(timeout_s * 1e6))
    except unicorn.UcError as exc:  # a fault in the emulated code
        pc = uc.reg_read(arm_pc)
        raise ToolchainError(f"{build.elf.name}: emulated invoke stopped at 0x{pc:08x}: {exc}") from None
    if uc.reg_read(arm_pc) & ~1 != stop:
        raise ToolchainError(f"{build.elf.name}: emulated invoke did not return within {timeout_s:g} s "
                             f"(stopped at 0x{uc.reg_read(arm_pc):08x})")
    if prev_key is not None:
        prev_taken[prev_key] += 1  # the final return jumped to `stop`

    per_op: dict[int, Counter] = {}
    for op_index, (op_executed, op_taken, op_chained) in by_op.items():
        counts = per_op[op_index] = Counter()
        for key, n in op_chained.items():
            cls = blocks[key][0].leading[0]
            counts[cls] -= n
            counts[f"{cls}_pipelined"] += n
        for key, n in op_executed.items():
            info = blocks[key][0]
            for cls, k in info.counts:
                counts[cls] += k * n
            if info.ends_with == "branch":
                counts["branch_taken"] += op_taken[key]
                counts["branch_not_taken"] += n - op_taken[key]
            elif info.ends_with == "jump":
                counts["branch_taken"] += n
            elif info.ends_with == "call":
                counts["call"] += n
    return per_op


def _random_input(rng: np.random.Generator, tensor) -> np.ndarray:
    if tensor.dtype == "int8":
        return rng.integers(-128, 128, size=tensor.shape, dtype=np.int8)
    return rng.standard_normal(tensor.shape).astype(tensor.dtype)


def estimate_latency(counts: InstructionProfile, profile: TargetProfile,
                     clock_hz: int | None = None) -> LatencyEstimate:
    """Cycles and time per inference on `profile`'s default board, from counted instructions. Counts from one core
    may be costed with another core's table (e.g. an ESP32 estimate from the Cortex-M4 build): a cross-core guess."""
    board = profile.board
    estimate = LatencyEstimate(profile.name, f"{board.mcu} ({board.name})", clock_hz or board.clock_hz,
                               profile.cycles.source)
    for layer in counts.layers:
        if layer.index == PROLOGUE and not layer.counts:
            continue
        cycles = cycles_for(layer.counts, profile.cycles)
        conservative = cycles_for(layer.counts, profile.cycles, load_pipelining=False)
        estimate.rows.append({"index": layer.index, "op": layer.op, "output": layer.output, "macs": layer.macs,
                              "instructions": layer.instructions, "cycles": round(cycles),
                              "cycles_no_load_pipelining": round(conservative),
                              "cycles_per_mac": cycles / layer.macs if layer.macs else None})
        estimate.instructions += layer.instructions
        estimate.cycles += cycles
        estimate.cycles_no_load_pipelining += conservative
        estimate.macs += layer.macs
    return estimate
