"""The Cortex-M3/M4 TRMs' load/store pipelining rule ('Load/store timings', notes to Table 3-1), on tiny
instruction sequences assembled with the cross assembler and costed by hand."""

import subprocess

import pytest

from mcuforge.targets.instruction_classes import cycles_for, decode_block, make_disassembler, pipelines_across
from mcuforge.targets.profiles import get_profile
from tests.targets.conftest import require_tool


def assemble(lines: list[str], tmp_path) -> bytes:
    require_tool("arm-none-eabi-as", "binutils-arm-none-eabi")
    source, obj, raw = tmp_path / "t.s", tmp_path / "t.o", tmp_path / "t.bin"
    source.write_text(".syntax unified\n.thumb\n.p2align 2\n" + "\n".join(lines) + "\nsequence_end:\n")
    subprocess.run(["arm-none-eabi-as", "-mcpu=cortex-m4", str(source), "-o", str(obj)], check=True,
                   capture_output=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(obj), str(raw)], check=True)
    symbols = subprocess.run(["arm-none-eabi-nm", str(obj)], check=True, capture_output=True, text=True).stdout
    end = next(int(line.split()[0], 16) for line in symbols.splitlines() if line.endswith(" sequence_end"))
    return raw.read_bytes()[:end]  # without the section's alignment padding (it would decode as MOVS r0, r0)


def m4_cycles(lines: list[str], tmp_path, load_pipelining: bool = True) -> float:
    info = decode_block(make_disassembler(), assemble(lines, tmp_path), 0)
    return cycles_for(dict(info.counts), get_profile("cortex-m4").cycles, load_pipelining)


@pytest.mark.parametrize("lines, pipelined, conservative", [
    # the TRM's own examples: "normally three cycles total" / "four cycles total"
    (["ldr r0, [r1]", "ldr r1, [r2]"], 2 + 1, 2 + 2),
    (["ldr r0, [r1, r2]", "str r0, [r3, #20]"], 2 + 1, 2 + 1),  # STR is 1 on the M4 anyway (write buffer)
    (["ldr r0, [r1, r5]", "ldr r1, [r2]", "ldr r2, [r3, #4]"], 2 + 1 + 1, 2 + 2 + 2),
    # the second address uses the first LDR's destination: no pipelining
    (["ldr r0, [r1]", "ldr r2, [r0]"], 2 + 2, 2 + 2),
    (["ldr r0, [r1]", "ldr r2, [r3, r0]"], 2 + 2, 2 + 2),
    # a written-back base is a destination too (taken conservatively)
    (["ldrb r4, [r5], #1", "ldrb r6, [r5], #1"], 2 + 2, 2 + 2),
    (["ldrb r4, [r5], #1", "ldrb r6, [r7], #1"], 2 + 1, 2 + 2),
    # nothing pipelines after a store; an ALU instruction between breaks the pair
    (["ldr r0, [r1]", "str r0, [r2]", "ldr r3, [r4]"], 2 + 1 + 2, 2 + 1 + 2),
    (["ldr r0, [r1]", "adds r6, r6, #1", "ldr r3, [r4]"], 2 + 1 + 2, 2 + 1 + 2),
    # LDRD pipelines with neither neighbour (1 + N = 3 cycles)
    (["ldr r0, [r1]", "ldrd r2, r3, [r4]", "ldr r5, [r6]"], 2 + 3 + 2, 2 + 3 + 2),
    # halfword/signed byte loads are single loads too; a conditional (IT) load is not taken as pipelined
    (["ldrsh r0, [r1, r2, lsl #1]", "ldrsb r3, [r4]", "ldrh r5, [r6, #2]"], 2 + 1 + 1, 2 + 2 + 2),
    (["ldr r0, [r1]", "it eq", "ldreq r2, [r3]"], 2 + 1 + 2, 2 + 1 + 2),
])
def test_m4_load_store_pipelining(lines, pipelined, conservative, tmp_path):
    assert m4_cycles(lines, tmp_path) == pipelined
    assert m4_cycles(lines, tmp_path, load_pipelining=False) == conservative


def test_load_to_pc_never_pipelines(tmp_path):
    info = decode_block(make_disassembler(), assemble(["ldr r0, [r1]", "ldr pc, [r2]"], tmp_path), 0)
    counts = dict(info.counts)
    assert counts.get("load_pipelined", 0) == 0 and counts["load"] == 2 and counts["pc_refill"] == 1


def test_only_documented_cores_discount(tmp_path):
    info = decode_block(make_disassembler(), assemble(["ldr r0, [r1]", "ldr r1, [r2]"], tmp_path), 0)
    counts = dict(info.counts)
    assert counts == {"load": 1, "load_pipelined": 1}
    assert cycles_for(counts, get_profile("cortex-m3").cycles) == 3  # M3 TRM: same rule, LDR 2
    assert cycles_for(counts, get_profile("cortex-m0plus").cycles) == 4  # no such rule on the 2-stage M0+
    assert cycles_for(counts, get_profile("cortex-m33").cycles) == 4  # M33 TRM gives no per-instruction timing


@pytest.mark.parametrize("first, second, expected", [
    (["adds r6, r6, #1", "ldr r0, [r1]"], ["ldr r2, [r3]", "adds r6, r6, #1"], "load"),
    (["ldr r0, [r1]"], ["str r2, [r3]"], "store"),
    (["ldr r0, [r1]"], ["ldr r2, [r0]"], None),  # the address uses the loaded register
    (["ldr r0, [r1]", "b sequence_end"], ["ldr r2, [r3]"], None),  # a branch between: not straight-line code
    (["str r0, [r1]"], ["ldr r2, [r3]"], None),  # nothing pipelines after a store
    (["ldr r0, [r1]"], ["adds r2, r2, #1"], None),
])
def test_pipelining_across_an_emulator_block_split(first, second, expected, tmp_path):
    """The emulator splits straight-line code at page boundaries: a load pair across the split still pipelines."""
    md = make_disassembler()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = decode_block(md, assemble(first, tmp_path / "a"), 0)
    b = decode_block(md, assemble(second, tmp_path / "b"), 0x400)
    assert pipelines_across(a, b) == expected
