"""What each layer's C emitter would produce, without writing anything: the kernel files it links, the weight
arrays and the parameter tables. The estimator sizes flash from it; the calibration keys kernel code by it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcuforge.codegen.emit import EmitContext
from mcuforge.errors import McuforgeError
from mcuforge.ir import Graph
from mcuforge.ops.registry import get_op
from mcuforge.quant.fixed_point import use_compat, use_rounding
from mcuforge.report.cost_model import param_array_bytes
from mcuforge.runtime.reference import op_rounding


@dataclass
class Emitted:
    kernels: list[str]  # every kernel file the op calls into (also those an earlier op already linked)
    weight_bytes: int
    weights: int
    array_bytes: int
    struct_fields: int  # scalar fields of the op's parameter structs (flash: ~4 bytes each on a 32-bit core)
    note: str = ""
    entry: str = ""  # the kernel function the emitted call names (variants of one file link different code)


def emit_layers(graph: Graph, plan) -> list[Emitted]:
    """Run each op's C emitter on a scratch context: the kernels and tables the generated code would hold."""
    ctx = EmitContext(graph=graph, plan=plan)
    used: set[str] = set()
    link = ctx.use_kernel

    def use_kernel(stem: str, *args, **kwargs) -> None:
        used.add(stem)
        link(stem, *args, **kwargs)

    ctx.use_kernel = use_kernel
    seen: set[str] = set()
    rows = []
    for i, op in enumerate(graph.ops):
        opdef = get_op(op.type)
        if opdef.view_of_input:
            rows.append(Emitted([], 0, 0, 0, 0))
            continue
        ctx.op_index = i
        used.clear()
        arrays, structs = len(ctx.arrays), len(ctx.structs)
        note = ""
        call = ""
        if opdef.emit_c is None:
            note = "no C kernel yet"
        else:
            try:
                with use_compat("tflm"), use_rounding(op_rounding(opdef, "tflm")):
                    call = opdef.emit_c(op, graph, ctx) or ""
            except McuforgeError as exc:
                note = f"not compilable: {exc}"
        new = ctx.arrays[arrays:]
        consts = [n for n in op.inputs if n and graph.tensors[n].is_constant and n not in seen]
        seen.update(consts)
        if note:  # no emitter output: count the constant inputs the op would store
            weight_bytes = sum(graph.tensors[n].nbytes for n in consts)
        else:
            weight_bytes = sum(a.values.nbytes for a in new if a.is_weight)
        rows.append(Emitted(
            kernels=sorted(used), weight_bytes=weight_bytes,
            weights=sum(graph.tensors[n].size for n in consts),
            array_bytes=param_array_bytes(new),
            struct_fields=struct_fields(ctx.structs[structs:]), note=note, entry=_entry_point(call)))
    return rows


def _entry_point(call: str) -> str:
    """The mcuforge_* function an emitted statement calls, e.g. "mcuforge_conv_1x1_s8_fast"."""
    found = re.search(r"\b(mcuforge_\w+)\(", call)
    return found.group(1) if found else ""


def struct_fields(structs: list[str]) -> int:
    """Scalar initializers in emitted `static const T name = {...};` definitions."""
    count = 0
    for text in structs:
        body = text[text.index("{"):text.rindex("}")].replace("{", ",").replace("}", ",")
        count += sum(1 for item in body.split(",") if item.strip())
    return count


def kernel_users(graph: Graph, emitted: list[Emitted]) -> dict[str, list[str]]:
    """Kernel file -> the op types that call into it, each with the entry point it calls ("CONV_2D/mcuforge_conv_s8"):
    one file may hold several entry points (pooling; the conv kernels' variants per output stage)."""
    users: dict[str, set[str]] = {}
    for op, em in zip(graph.ops, emitted):
        for stem in em.kernels:
            users.setdefault(stem, set()).add(f"{op.type}/{em.entry}" if em.entry else op.type)
    return {stem: sorted(ops) for stem, ops in sorted(users.items())}


def kernel_code_key(stem: str, op_types: list[str]) -> str:
    """The calibration's key for a kernel file's code size: what the linker keeps depends on the entry points
    used (--gc-sections), e.g. "pooling_s8:AVERAGE_POOL_2D/mcuforge_avg_pool_s8"."""
    return f"{stem}:{'+'.join(sorted(op_types))}"
