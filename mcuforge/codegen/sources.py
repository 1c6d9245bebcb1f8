"""Render the model's C library: NAME.h (the API) and NAME.c (weights, op parameters, the schedule)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mcuforge.codegen.c_text import C_TYPES, c_array_body, c_float, c_identifier
from mcuforge.codegen.emit import EmitContext, emit_schedule
from mcuforge.codegen import weights_blob as blob
from mcuforge.codegen.planner import ArenaPlan
from mcuforge.ir import Graph
from mcuforge.ops.registry import get_op


@dataclass
class GeneratedSources:
    name: str
    header: str
    source: str
    kernels: list[str]  # kernel stems, e.g. "fully_connected_s8": kernels/<stem>.h and .c
    context: EmitContext
    arena_size: int  # ARENA_SIZE: the plan's arena, plus the blob header in weights-blob mode
    blob: bytes | None = None  # the weights blob, in weights-blob mode
    single_rounding_stems: list[str] = field(default_factory=list)  # kernels LiteRT runs with single rounding


def _io_tag(names: list[str], kind: str, k: int) -> str:
    """INPUT / OUTPUT for a single one, INPUT0, INPUT1, ... otherwise."""
    return f"{kind}{k}" if len(names) > 1 else kind


def _io_macros(graph: Graph, prefix: str, kind: str, names: list[str], plan: ArenaPlan, arena_base: int) -> list[str]:
    lines = []
    for k, n in enumerate(names):
        t = graph.tensors[n]
        tag = f"{prefix}_{_io_tag(names, kind, k)}"
        lines.append(f"/* {kind} {k}: {n} */")
        if plan.io_in_arena:
            ctype = C_TYPES[t.dtype]
            lines.append(f"#define {tag}_OFFSET {arena_base + plan.location(n)[1]} /* bytes into the arena */")
            lines.append(f"#define {tag}_PTR(arena) (({'' if kind == 'INPUT' else 'const '}{ctype} *)(void *)"
                         f"((uint8_t *)(arena) + {tag}_OFFSET))")
        lines.append(f"#define {tag}_SIZE {t.size}")
        lines.append(f"#define {tag}_BYTES {t.nbytes}")
        lines.append(f"#define {tag}_RANK {len(t.shape)}")
        lines.append(f"#define {tag}_DIMS {{{', '.join(map(str, t.shape))}}}")
        lines.append(f"#define {tag}_TYPE {C_TYPES[t.dtype]}")
        if t.quant is not None and not t.quant.per_channel:
            lines.append(f"#define {tag}_SCALE {c_float(t.quant.scalar_scale)}")
            lines.append(f"#define {tag}_ZERO_POINT {t.quant.scalar_zero_point}")
    return lines


def _io_params(graph: Graph, plan: ArenaPlan) -> list[str]:
    """invoke's I/O parameters: the caller's buffers, or none when the I/O lives in the arena."""
    if plan.io_in_arena:
        return []
    params = [f"const {C_TYPES[graph.tensors[n].dtype]} *input{k}" for k, n in enumerate(graph.inputs)]
    params += [f"{C_TYPES[graph.tensors[n].dtype]} *output{k}" for k, n in enumerate(graph.outputs)]
    return params


def _call_args(graph: Graph, plan: ArenaPlan) -> list[str]:
    if plan.io_in_arena:
        return []
    return [f"input{k}" for k in range(len(graph.inputs))] + [f"output{k}" for k in range(len(graph.outputs))]


def _invoke_doc(plan: ArenaPlan, upper: str) -> list[str]:
    if not plan.io_in_arena:
        return ["/* Runs one inference with a caller-supplied arena of ARENA_SIZE bytes, aligned to ARENA_ALIGNMENT.",
                " * Inputs are read in place and outputs written in place: they need not be in the arena.",
                " * Returns 0 (or a negative error code). Re-entrant when each caller passes its own arena. */"]
    return ["/* Inputs and outputs live in the arena (compiled with io_in_arena), as in TensorFlow Lite Micro: the",
            f" * arena is all the RAM an inference needs. Write each input at {upper}_INPUT_PTR(arena) (INPUT0_PTR,",
            " * ... for several), run invoke, read each output at OUTPUT_PTR(arena). An inference overwrites its",
            " * inputs (their bytes hold other tensors once read): write them again before every call. The outputs",
            " * stay valid until the arena is used again.",
            " * Runs one inference with a caller-supplied arena of ARENA_SIZE bytes, aligned to ARENA_ALIGNMENT.",
            " * Returns 0 (or a negative error code). Re-entrant when each caller passes its own arena. */"]


def _static_io_accessors(graph: Graph, prefix: str, upper: str, plan: ArenaPlan, body: bool) -> list[str]:
    """NAME_input() / NAME_output() (NAME_input0(), ...): the I/O inside the library's static arena."""
    if not plan.io_in_arena:
        return []
    lines = []
    for kind, names in (("INPUT", graph.inputs), ("OUTPUT", graph.outputs)):
        for k, n in enumerate(names):
            tag = _io_tag(names, kind, k)
            ctype = f"{'' if kind == 'INPUT' else 'const '}{C_TYPES[graph.tensors[n].dtype]}"
            declaration = f"{ctype} *{prefix}_{tag.lower()}(void)"
            lines += [f"{declaration} {{", f"    return {upper}_{tag}_PTR({prefix}_arena);", "}"] if body else \
                [f"{declaration};"]
    if not body:
        lines.insert(0, "/* The inputs and outputs inside the static arena. */")
    return lines


def _caller_io_locals(graph: Graph) -> list[str]:
    ctypes = {n: C_TYPES[graph.tensors[n].dtype] for n in graph.inputs + graph.outputs}
    return [*[f"    {ctypes[n]} const *io_input{k} = input{k};" for k, n in enumerate(graph.inputs)],
            *[f"    {ctypes[n]} *io_output{k} = output{k};" for k, n in enumerate(graph.outputs)],
            *[f"    (void)io_input{k};" for k in range(len(graph.inputs))]]


def generate_sources(graph: Graph, plan: ArenaPlan, name: str, weights_blob: bool = False,
                     compat: str = "tflm") -> GeneratedSources:
    prefix = c_identifier(name)
    upper = prefix.upper()
    ctx, schedule = emit_schedule(graph, plan, weights_blob=weights_blob, compat=compat)
    io_params = _io_params(graph, plan)
    signature = ", ".join(io_params) or "void"
    with_arena = ", ".join(io_params + ["uint8_t *arena"])
    call_args = ", ".join(_call_args(graph, plan) + [f"{prefix}_arena"])
    guard = f"{upper}_H"
    arena_base = blob.ARENA_HEADER_BYTES if weights_blob else 0  # invoke skips the blob header
    arena_size = plan.arena_size + arena_base
    hash32 = blob.model_hash(graph)
    blob_api = blob.header_api(prefix, upper, ctx.blob_size, hash32) if weights_blob else []
    header = "\n".join([
        f"/* {name}: generated by mcuforge from {graph.where()}. Do not edit. */",
        f"#ifndef {guard}", f"#define {guard}", "", "#include <stdint.h>", "",
        "#ifdef __cplusplus", 'extern "C" {', "#endif", "",
        ("/* Bytes of working memory one inference needs (activations and kernel scratch"
         f"{', inputs and outputs' if plan.io_in_arena else ''}). */"),
        f"#define {upper}_ARENA_SIZE {arena_size}",
        f"#define {upper}_ARENA_ALIGNMENT {plan.alignment}", "",
        *_io_macros(graph, upper, "INPUT", graph.inputs, plan, arena_base), "",
        *_io_macros(graph, upper, "OUTPUT", graph.outputs, plan, arena_base), "",
        *blob_api, "",
        *_invoke_doc(plan, upper),
        f"int {prefix}_invoke_with_arena({with_arena});", "",
        f"#ifndef {upper}_NO_STATIC_ARENA",
        f"/* Runs one inference in the library's own static arena (define {upper}_NO_STATIC_ARENA to drop it). */",
        f"int {prefix}_invoke({signature});",
        *_static_io_accessors(graph, prefix, upper, plan, body=False),
        "#endif", "",
        "#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {guard} */", ""])

    kernel_headers = sorted(ctx.kernels)
    arrays = []
    for arr in ctx.arrays:
        if arr.blob_offset is not None:
            continue
        align = "MCUFORGE_ALIGNED(16) " if arr.is_weight else ""
        comment = f"/* {arr.comment} */\n" if arr.comment else ""
        arrays.append(f"{comment}static const {arr.ctype} {align}{arr.symbol}[{max(arr.values.size, 1)}] = {{\n"
                      f"{c_array_body(arr.values)}\n}};")
    source = "\n".join([
        f"/* {name}: generated by mcuforge from {graph.where()}. Do not edit.",
        f" * {len(graph.ops)} ops; arena {plan.arena_size} bytes ({plan.strategy} placement). */",
        f'#include "{prefix}.h"', '#include "mcuforge_common.h"', *[f'#include "{h}.h"' for h in kernel_headers], "",
        *arrays, "", *ctx.structs, "",
        f"#ifndef {upper}_NO_STATIC_ARENA",
        f"static uint8_t MCUFORGE_ALIGNED(16) {prefix}_arena[{upper}_ARENA_SIZE > 0 ? {upper}_ARENA_SIZE : 1];",
        "#endif", "",
        *(blob.source_init(prefix, upper) if weights_blob else []),
        f"int {prefix}_invoke_with_arena({with_arena}) {{",
        *(blob.invoke_prologue(upper) if weights_blob else []),
        *(_caller_io_locals(graph) if not plan.io_in_arena else []),
        "    (void)arena;",
        *schedule,
        "    return 0;", "}", "",
        f"#ifndef {upper}_NO_STATIC_ARENA",
        f"int {prefix}_invoke({signature}) {{",
        f"    return {prefix}_invoke_with_arena({call_args});", "}",
        *_static_io_accessors(graph, prefix, upper, plan, body=True), "#endif", ""])
    packed = None
    if weights_blob:
        packed = blob.pack_blob([(a.blob_offset, a.values) for a in ctx.arrays if a.blob_offset is not None],
                                ctx.blob_size, hash32)
    single = []
    for stem, op_types in sorted(ctx.kernel_ops.items()):
        roundings = {get_op(t).litert_rounding for t in op_types}
        if len(roundings) > 1:  # the rounding is chosen per kernel file, so its ops must agree
            raise ValueError(f"kernel {stem} is shared by ops that round differently in LiteRT: {sorted(op_types)}")
        if roundings == {"single"}:
            single.append(stem)
    return GeneratedSources(name=prefix, header=header, source=source, kernels=sorted(ctx.kernels), context=ctx,
                            arena_size=arena_size, blob=packed, single_rounding_stems=single)
