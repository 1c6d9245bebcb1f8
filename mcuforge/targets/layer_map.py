"""Which layer an address of the generated invoke function belongs to, without markers in the generated C.

NAME.c's schedule opens each op with a comment `/* #i OP ... */`; the DWARF line table (the build compiles
with -g) maps each instruction of NAME_invoke_with_arena to a line of NAME.c, hence to the op whose comment
precedes that line. A kernel's instructions are charged to the op whose call ran it."""

from __future__ import annotations

import bisect
import re
from pathlib import Path

from elftools.elf.elffile import ELFFile

OP_MARKER = re.compile(r"/\* #(\d+) ")
PROLOGUE = -1  # instructions of invoke outside any op (entry, exit, the static-arena wrapper)


def op_of_line(source: str) -> dict[int, int]:
    """Line number (1-based) -> index of the op whose schedule block holds it."""
    mapping, current = {}, PROLOGUE
    for lineno, text in enumerate(source.splitlines(), start=1):
        match = OP_MARKER.search(text)
        if match:
            current = int(match.group(1))
        elif text.startswith("}"):
            current = PROLOGUE  # end of a function body
        mapping[lineno] = current
    return mapping


def _file_name(line_program, index: int) -> str:
    entries = line_program["file_entry"]
    entry = entries[index] if line_program.header.version >= 5 else entries[index - 1]
    name = entry.name
    return Path(name.decode() if isinstance(name, bytes) else name).name


class LayerMap:
    """Address ranges of the invoke functions and, within them, address -> op index."""

    def __init__(self, elf_path: Path, source_path: Path, name: str):
        lines = op_of_line(source_path.read_text())
        source_file = source_path.name
        with open(elf_path, "rb") as f:
            elf = ELFFile(f)
            self.ranges = []
            for sym in elf.get_section_by_name(".symtab").iter_symbols():
                if sym.name in (f"{name}_invoke_with_arena", f"{name}_invoke") and sym["st_size"]:
                    start = sym["st_value"] & ~1
                    self.ranges.append((start, start + sym["st_size"]))
            rows: list[tuple[int, int]] = []
            dwarf = elf.get_dwarf_info()
            for cu in dwarf.iter_CUs():
                program = dwarf.line_program_for_CU(cu)
                if program is None:
                    continue
                for entry in program.get_entries():
                    state = entry.state
                    if state is None or state.end_sequence or _file_name(program, state.file) != source_file:
                        continue
                    if self.contains(state.address):
                        rows.append((state.address, lines.get(state.line, PROLOGUE)))
        rows.sort()
        self._addresses = [a for a, _ in rows]
        self._ops = [op for _, op in rows]

    def contains(self, address: int) -> bool:
        return any(start <= address < end for start, end in self.ranges)

    def op_at(self, address: int) -> int:
        """The op of an instruction inside invoke (PROLOGUE when the line table says nothing)."""
        k = bisect.bisect_right(self._addresses, address) - 1
        return self._ops[k] if k >= 0 else PROLOGUE
