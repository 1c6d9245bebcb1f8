"""C emission: each op's emitter writes its call through an EmitContext, which owns symbols, constant data,
tensor locations (from the arena plan) and the set of kernel files the model needs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcuforge.codegen.c_text import C_TYPES, c_identifier, c_initializer
from mcuforge.codegen.planner import ArenaPlan
from mcuforge.errors import UnsupportedOpError
from mcuforge.ir import Graph, Op
from mcuforge.ops.registry import get_op
from mcuforge.quant.fixed_point import use_compat, use_rounding
from mcuforge.quant.sparse import sparse_mode, sparse_storage
from mcuforge.runtime.reference import op_rounding


@dataclass
class ConstArray:
    symbol: str
    ctype: str
    values: np.ndarray
    comment: str = ""
    is_weight: bool = False
    blob_offset: int | None = None  # offset in the weights blob payload (weights-blob mode)


@dataclass
class EmitContext:
    graph: Graph
    plan: ArenaPlan
    weights_blob: bool = False  # weights read from a separate blob instead of const arrays
    compat: str = "tflm"  # runtime whose integer behaviour the C reproduces; emit_c runs under it (use_compat)
    # "auto" | "off": whether pruned weights may be stored sparse (quant/sparse.py); by default the mode the code
    # is generated under (render_project's sparse_storage, which the arena plan's scratch rules saw too)
    sparse: str = field(default_factory=sparse_mode)
    blob_size: int = 0
    kernels: set[str] = field(default_factory=set)
    kernel_ops: dict[str, set[str]] = field(default_factory=dict)  # kernel stem -> op types that use it
    arrays: list[ConstArray] = field(default_factory=list)
    structs: list[str] = field(default_factory=list)
    _weight_symbols: dict[str, str] = field(default_factory=dict)
    _names: set[str] = field(default_factory=set)
    op_index: int = 0

    def use_kernel(self, stem: str, rounding_neutral: bool = False) -> None:
        """Ship kernels/<stem>.h and kernels/<stem>.c with the model. `rounding_neutral`: the files do not depend
        on the rounding convention (MCUFORGE_SINGLE_ROUNDING), so ops of either LiteRT rounding may share them."""
        self.kernels.add(stem)
        if not rounding_neutral:
            self.kernel_ops.setdefault(stem, set()).add(self.graph.ops[self.op_index].type)

    def _unique(self, hint: str) -> str:
        base = c_identifier(hint)
        name, k = base, 1
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name

    def ptr(self, tensor: str) -> str:
        """C expression for a tensor's data, typed by its dtype."""
        t = self.graph.tensors[tensor]
        ctype = C_TYPES[t.dtype]
        if t.is_constant:
            return self.weights(tensor)
        where, offset = self.plan.location(tensor)
        if where == "arena":
            return f"(({ctype} *)(arena + {offset}))"
        kind, k = where.split(":")
        return f"(({'const ' if kind == 'input' else ''}{ctype} *)io_{kind}{k})"

    def optional_ptr(self, tensor: str) -> str:
        return self.ptr(tensor) if tensor else "NULL"

    def weights(self, tensor: str, stored: np.ndarray | None = None, ctype: str | None = None,
                note: str = "") -> str:
        """Symbol of a constant tensor's array (emitted once, in flash or in the weights blob). `stored` and
        `ctype`: the tensor kept in another form (e.g. int4 packed two per byte as uint8_t), `note` saying which."""
        key = tensor if stored is None else f"{tensor}\0{ctype}"
        if key not in self._weight_symbols:
            t = self.graph.tensors[tensor]
            values, ctype = (t.data, C_TYPES[t.dtype]) if stored is None else (np.asarray(stored), ctype)
            symbol = self._unique(f"w{len(self._weight_symbols)}")
            comment = f"{tensor} {list(t.shape)}" + (f", {note}" if note else "")
            array = ConstArray(symbol, ctype, values, comment=comment, is_weight=True)
            if self.weights_blob:
                array.blob_offset = (self.blob_size + 15) // 16 * 16
                self.blob_size = array.blob_offset + values.nbytes
                symbol = f"((const {ctype} *)(weights + {array.blob_offset}))"
            self._weight_symbols[key] = symbol
            self.arrays.append(array)
        return self._weight_symbols[key]

    def const_array(self, hint: str, values, ctype: str = "int32_t") -> str:
        symbol = self._unique(f"op{self.op_index}_{hint}")
        self.arrays.append(ConstArray(symbol, ctype, np.asarray(values)))
        return symbol

    def requant(self, multipliers: np.ndarray, shifts: np.ndarray) -> dict:
        """A mcuforge_requant initializer; a single value is stored once when all channels agree. Shifts are stored
        as int8 (quantize_multiplier's lie in [-31, 30])."""
        per_channel = not (np.all(multipliers == multipliers[0]) and np.all(shifts == shifts[0]))
        if not per_channel:
            multipliers, shifts = multipliers[:1], shifts[:1]
        shifts = np.asarray(shifts)
        if np.any(shifts < -128) or np.any(shifts > 127):
            raise UnsupportedOpError(f"{self.graph.where()}: op #{self.op_index} "
                                     f"{self.graph.ops[self.op_index].type}: requantization shift out of int8 range")
        return {"multiplier": self.const_array("mult", multipliers),
                "shift": self.const_array("shift", shifts.astype(np.int8), "int8_t"), "per_channel": int(per_channel)}

    def params(self, ctype: str, fields: dict) -> str:
        """Emit `static const ctype opN_params = {...}` and return its address expression."""
        symbol = self._unique(f"op{self.op_index}_params")
        body = ",\n    ".join(f".{k} = {c_initializer(v)}" for k, v in fields.items())
        self.structs.append(f"static const {ctype} {symbol} = {{\n    {body}\n}};")
        return f"&{symbol}"

    def scratch(self) -> str:
        buf = self.plan.scratch[self.op_index]
        return f"((void *)(arena + {buf.offset}))"


def emit_schedule(graph: Graph, plan: ArenaPlan, weights_blob: bool = False,
                  compat: str = "tflm") -> tuple[EmitContext, list[str]]:
    """The body of invoke: one statement group per op, in schedule order. Each emitter runs under the op's
    compat and rounding convention, as the reference interpreter runs its kernel, so the multipliers it
    computes (runtime_compat(), quantize_multiplier) are the ones the reference uses."""
    ctx = EmitContext(graph=graph, plan=plan, weights_blob=weights_blob, compat=compat)
    lines = []
    for i, op in enumerate(graph.ops):
        ctx.op_index = i
        opdef = get_op(op.type)
        if opdef.view_of_input:
            lines.append(_view_copy(ctx, op))
            continue
        if opdef.emit_c is None:
            raise UnsupportedOpError(f"{graph.where()}: op #{i} {op.type} has no C kernel yet; "
                                     "it runs in the reference interpreter only (see `mcuforge ops`)")
        lines.append(f"    /* #{i} {op.type} -> {op.outputs[0]} {list(graph.tensors[op.outputs[0]].shape)} */")
        with use_compat(compat), use_rounding(op_rounding(opdef, compat)), sparse_storage(ctx.sparse):
            code = opdef.emit_c(op, graph, ctx)
        lines.extend("    " + line for line in code.splitlines())
    return ctx, lines


def _view_copy(ctx: EmitContext, op: Op) -> str:
    """A view costs nothing, unless its input and output had to live in different buffers (e.g. a graph input
    reshaped straight into a graph output): then it is a copy."""
    src, dst = op.inputs[0], op.outputs[0]
    if ctx.plan.location(src) == ctx.plan.location(dst):
        return f"    /* #{ctx.op_index} {op.type}: view of {src}, no code */"
    nbytes = ctx.graph.tensors[dst].nbytes
    return f"    memcpy({ctx.ptr(dst)}, {ctx.ptr(src)}, {nbytes});"
