"""Thumb instruction classes for latency estimates: capstone decodes each basic block once, each instruction
gets a class of the profiles' cycle tables (targets/profiles.py), and executed counts per class are costed
with any table afterwards, so one instruction count gives estimates for several cores.

Dynamic pseudo-classes: "multiple_registers" (registers moved by LDM/STM/PUSH/POP/VPUSH/VPOP, costed at
`multiple_per_register`), "pc_refill" (a load or data operation that writes PC, e.g. POP {.., pc}: the
pipeline refill of a taken branch) and, for a block's final branch, "branch_taken" / "branch_not_taken" /
"call", decided at run time from the next block's address.

Load/store pipelining: an LDR or STR that the previous instruction's LDR lets pipeline is counted as
"load_pipelined" / "store_pipelined" instead of "load" / "store" (see `_pipelines_after`); a table costs them
one cycle less where the core's TRM documents the rule, and `cycles_for(..., load_pipelining=False)` costs them as
plain loads and stores (the conservative figure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import capstone
from capstone import arm_const

from mcuforge.targets.profiles import CycleTable

_MUL_LONG = {"smull", "umull", "smlal", "umlal", "umaal"}
_DSP_PREFIXES = ("smla", "smls", "smua", "smus", "smul", "smmu", "smml", "sxtb16", "sxtab16", "uxtb16", "uxtab16",
                 "sadd", "ssub", "uadd", "usub", "qadd", "qsub", "qdadd", "qdsub", "qasx", "qsax", "shadd", "shsub",
                 "pkhbt", "pkhtb", "sel", "usad", "sasx", "ssax", "uasx", "usax", "uqadd", "uqsub", "uhadd", "uhsub")
_BRANCHES = {"b", "bx", "cbz", "cbnz", "tbb", "tbh"}
_CALLS = {"bl", "blx"}
_FP_MULTIPLE = {"vpush", "vpop", "vldmia", "vldmdb", "vstmia", "vstmdb"}
CC_ALWAYS = arm_const.ARM_CC_AL


def instruction_class(name: str) -> str:
    """Cycle-table class of a capstone instruction name (no condition code, no .w/.n)."""
    if name in _CALLS:
        return "call"
    if name in _BRANCHES:
        return "branch"
    if name.startswith(("ldm", "pop")):
        return "load_multiple"
    if name.startswith(("stm", "push")):
        return "store_multiple"
    if name.startswith("v"):
        return "fpu_load_store" if name.startswith(("vldr", "vstr")) or name in _FP_MULTIPLE else "fpu"
    if name.startswith("ldr"):
        return "load"
    if name.startswith("str"):
        return "store"
    if name in ("mul", "muls"):
        return "mul"
    if name in ("mla", "mls"):
        return "mac"
    if name in _MUL_LONG:
        return "mul_long"
    if name in ("sdiv", "udiv"):
        return "div"
    if name.startswith(_DSP_PREFIXES):
        return "dsp"
    return "alu"


@dataclass(frozen=True)
class BlockInfo:
    """A basic block as the emulator runs it: its static class counts and how it ends."""

    counts: tuple[tuple[str, int], ...]  # static counts, the final branch or call excluded
    instructions: int
    last_address: int
    ends_with: str | None  # "branch" (conditional), "jump" (unconditional), "call" or None
    # For a block the emulator split off straight-line code (a page or size limit, no branch between): whether its
    # first instruction can pipeline behind the previous block's last one (pipelines_across).
    leading: tuple[str, frozenset[int]] | None = None  # first insn's class ("load"/"store"), address registers
    trailing_load: frozenset[int] | None = None  # registers the last insn writes, when a pipelining LDR


def make_disassembler(mclass: bool = True) -> capstone.Cs:
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | (capstone.CS_MODE_MCLASS if mclass else 0))
    md.detail = True
    return md


def _register_operands(insn) -> list[int]:
    return [op.reg for op in insn.operands if op.type == arm_const.ARM_OP_REG]


def _registers_moved(insn) -> int:
    # LDM/STM name their base register first; PUSH/POP/VPUSH/VPOP list the moved registers only
    has_base = insn.insn_name().startswith(("ldm", "stm", "vldm", "vstm"))
    return max(len(_register_operands(insn)) - int(has_base), 1)


def _writes_pc(insn, cls: str) -> bool:
    regs = _register_operands(insn)
    if cls == "load_multiple":
        return arm_const.ARM_REG_PC in regs
    if cls in ("load", "alu"):
        return bool(regs) and regs[0] == arm_const.ARM_REG_PC
    return False


# Cortex-M3 TRM (DDI 0337I) 3.3.1 'Load/store timings' (p. 3-9), the rule the Cortex-M4 TRM (DDI 0439 / 100166)
# 3.3 keeps for its Table 3-1 ("neighboring load and store single instructions can pipeline their address and data
# phases"): "LDR [any] are pipelined when possible": when the instruction after an LDR is an LDR or STR whose address does
# not use the first LDR's destination, one cycle is removed from the second one's cost, and chains of LDRs pipeline
# (LDR; LDR; LDR, independent: 4 cycles). An STR pipelines only after an LDR and nothing pipelines after a store;
# LDRD/STRD pipeline with neither neighbour; LDR PC is blocking (it never pipelines); LDREX/STREX behave as
# LDR. Taken conservatively here: the destination includes a written-back base (LDR r0, [r1], #4 writes r1, so
# a following [r1] access does not pipeline), a PC-relative load (it "might add a cycle": fetch contention) and a
# conditional one (IT block) are not pipelined, and a block's first instruction only when the block runs straight on
# from a block that ended in an LDR (the emulator splits straight-line code at page boundaries; pipelines_across).
_SINGLE_LOADS = ("ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrex", "ldrexb", "ldrexh", "ldrt", "ldrbt", "ldrht",
                 "ldrsbt", "ldrsht")
_SINGLE_STORES = ("str", "strb", "strh", "strex", "strexb", "strexh", "strt", "strbt", "strht")


def _address_registers(insn) -> set[int]:
    return {r for op in insn.operands if op.type == arm_const.ARM_OP_MEM for r in (op.mem.base, op.mem.index) if r}


def _pipelining_load(insn) -> frozenset[int] | None:
    """The registers an LDR writes (destination and any written-back base) when it is a single load that a
    following LDR/STR can pipeline behind, else None."""
    if insn.insn_name() not in _SINGLE_LOADS or insn.cc not in (CC_ALWAYS, 0):
        return None
    written = frozenset(insn.regs_access()[1])
    return None if arm_const.ARM_REG_PC in written else written


def _pipelining_access(insn) -> frozenset[int] | None:
    """The address registers of an LDR/STR single that may pipeline behind an LDR, else None."""
    name = insn.insn_name()
    if name not in _SINGLE_LOADS + _SINGLE_STORES or insn.cc not in (CC_ALWAYS, 0):
        return None
    address = frozenset(_address_registers(insn))
    if arm_const.ARM_REG_PC in address or (name in _SINGLE_LOADS and arm_const.ARM_REG_PC in insn.regs_access()[1]):
        return None
    return address


def _pipelines_after(insn, previous_load: frozenset[int] | None) -> bool:
    """Whether `insn` (an LDR/STR single) completes in one cycle less, behind the LDR that wrote `previous_load`."""
    address = _pipelining_access(insn)
    return previous_load is not None and address is not None and not address & previous_load


def pipelines_across(previous: BlockInfo, block: BlockInfo) -> str | None:
    """The class ("load"/"store") of `block`'s first instruction when it pipelines behind `previous`'s last one, the
    block running straight on from it (the emulator splits straight-line code at page boundaries), else None."""
    if previous.trailing_load is None or block.leading is None or block.leading[1] & previous.trailing_load:
        return None
    return block.leading[0]


def decode_block(md: capstone.Cs, code: bytes, address: int) -> BlockInfo:
    insns = list(md.disasm(code, address))
    counts: Counter = Counter()
    ends_with = None
    previous_load = None  # registers written by the previous instruction when it was a pipelining LDR
    for k, insn in enumerate(insns):
        name = insn.insn_name()
        cls = instruction_class(name)
        if cls in ("load", "store") and _pipelines_after(insn, previous_load):
            cls += "_pipelined"
        previous_load = _pipelining_load(insn)
        last = k == len(insns) - 1
        if last and cls in ("branch", "call"):
            conditional = name in ("cbz", "cbnz") or (cls == "branch" and insn.cc not in (CC_ALWAYS, 0))
            ends_with = "call" if cls == "call" else ("branch" if conditional else "jump")
            continue
        counts[cls] += 1
        if cls.endswith("multiple") or name in _FP_MULTIPLE:
            counts["multiple_registers"] += _registers_moved(insn)
        elif name in ("ldrd", "strd"):
            counts["multiple_registers"] += 1  # two words: LDRD/STRD take 1 + N on the M3/M4
        if _writes_pc(insn, cls):
            counts["pc_refill"] += 1
    leading = None
    if insns and instruction_class(insns[0].insn_name()) in ("load", "store"):
        access = _pipelining_access(insns[0])
        leading = None if access is None else (instruction_class(insns[0].insn_name()), access)
    return BlockInfo(tuple(sorted(counts.items())), len(insns), insns[-1].address if insns else address, ends_with,
                     leading, previous_load if ends_with is None else None)


def cycles_for(counts: dict[str, int], table: CycleTable, load_pipelining: bool = True) -> float:
    """Estimated cycles of dynamic class counts under one core's cycle table. `load_pipelining=False` costs the
    pipelined loads and stores as plain ones (the conservative figure, ignoring the TRM's pipelining rule)."""
    total = 0.0
    for cls, n in counts.items():
        if not load_pipelining and cls in ("load_pipelined", "store_pipelined"):
            total += n * table[cls.removesuffix("_pipelined")]
        elif cls == "multiple_registers":
            total += n * table["multiple_per_register"]
        elif cls == "pc_refill":
            total += n * (table["branch_taken"] - 1)
        elif cls == "branch":  # a non-final branch (the emulator split the block there): costed as taken
            total += n * table["branch_taken"]
        else:
            total += n * table[cls]
    return total


def instruction_total(counts: dict[str, int]) -> int:
    return sum(n for cls, n in counts.items() if cls not in ("multiple_registers", "pc_refill"))
