"""Will a model fit a target? Flash and RAM of its int8 deployment, estimated from the float graph without
quantizing it.

- Flash: int8 weights (one byte per element of each layer's filter), int32 biases, and the per-channel
  requantization tables (an int32 multiplier and an int32 shift per output channel) of every layer; other
  constants one byte per element. Kernel code and the runtime come on top (a few tens of KiB, see
  `mcuforge estimate`), so `flash_margin` keeps that much headroom.
- RAM: the static arena plan_arena makes for the graph with every activation in int8, plus the caller's int8
  input and output buffers (the stack is not included).
The layer named when a model does not fit: for RAM the first op whose live tensors plus the I/O buffers pass the
board's RAM (whatever the packing, that op alone needs more), else the op at the arena's peak; for flash the layer at which the running total of weights passes the flash budget."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcuforge.codegen.planner import plan_arena
from mcuforge.ir import Graph, Quantization
from mcuforge.quant.int4 import stored_bytes
from mcuforge.targets.profiles import KIB, get_profile

WEIGHTED = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}
REQUANT_BYTES_PER_CHANNEL = 8  # int32 multiplier + int32 shift
DEFAULT_FLASH_MARGIN = 32 * KIB  # kernels, schedule and runtime: typically 15-30 KiB for a small CNN


@dataclass
class LayerFootprint:
    index: int
    op: str
    name: str
    flash_bytes: int
    arena_top: int  # highest arena byte in use while the op runs
    live_bytes: int  # arena bytes of the tensors live while the op runs


@dataclass
class FitResult:
    model: str
    target: str
    board: str
    flash_bytes: int  # weights, biases and requantization tables
    flash_limit: int  # the board's flash minus flash_margin
    ram_bytes: int  # arena + I/O buffers
    ram_limit: int
    arena_bytes: int
    io_bytes: int
    params: int
    layers: list[LayerFootprint] = field(default_factory=list)
    flash_layer: str | None = None  # the layer where flash overflows (None: it fits)
    ram_layer: str | None = None  # the layer where RAM overflows (None: it fits)
    peak_layer: str = ""  # the layer at the arena's peak

    @property
    def fits_flash(self) -> bool:
        return self.flash_bytes <= self.flash_limit

    @property
    def fits_ram(self) -> bool:
        return self.ram_bytes <= self.ram_limit

    @property
    def fits(self) -> bool:
        return self.fits_flash and self.fits_ram

    def __bool__(self) -> bool:
        return self.fits

    def __str__(self) -> str:
        verdict = "fits" if self.fits else "does NOT fit"
        lines = [f"{self.model} on {self.target} ({self.board}): {verdict}",
                 f"  flash {self.flash_bytes:,} B of {self.flash_limit:,} B (weights, biases, requantization tables)"
                 + (f"; overflows at {self.flash_layer}" if self.flash_layer else ""),
                 f"  RAM   {self.ram_bytes:,} B of {self.ram_limit:,} B (arena {self.arena_bytes:,}, I/O "
                 f"{self.io_bytes:,}; peak at {self.peak_layer})"
                 + (f"; overflows at {self.ram_layer}" if self.ram_layer else "")]
        return "\n".join(lines)


def layer_name(graph: Graph, index: int) -> str:
    op = graph.ops[index]
    return f"#{index} {op.type} {op.name or op.outputs[0]}"


def _as_int8(graph: Graph) -> Graph:
    """A copy in the int8 form quantization gives it (shapes unchanged; placeholder scales and zero values):
    what the planner and the kernels' scratch rules see after quantization."""
    g = graph.copy()
    for op in g.ops:
        if op.type in WEIGHTED and len(op.inputs) > 1 and g.tensors[op.inputs[1]].is_constant:
            w, axis = g.tensors[op.inputs[1]], WEIGHTED[op.type]
            channels = w.shape[axis]
            _placeholder(w, "int8", channels, axis)
            if len(op.inputs) > 2 and op.inputs[2]:
                _placeholder(g.tensors[op.inputs[2]], "int32", channels, 0)
    for t in g.tensors.values():
        if t.dtype == "float32":
            _placeholder(t, "int8", 1, None)
    return g


def _placeholder(t, dtype: str, channels: int, axis: int | None) -> None:
    if t.dtype != "float32":
        return
    t.dtype = dtype
    if t.is_constant:
        t.data = np.zeros(t.shape, dtype)
    scale = np.full(channels, 1.0 / 64, np.float32)
    t.quant = Quantization(scale, np.zeros(channels, np.int64), axis) if axis is not None else \
        Quantization(scale, np.zeros(channels, np.int64))


def _layer_flash(graph: Graph, index: int, seen: set[str]) -> tuple[int, int]:
    """(bytes, parameters) of the constants op `index` is first to use, as int8 weights / int32 biases."""
    op = graph.ops[index]
    total = params = 0
    for k, name in enumerate(op.inputs):
        if not name or name in seen or not graph.tensors[name].is_constant:
            continue
        seen.add(name)
        t = graph.tensors[name]
        if t.dtype != "float32":
            total += stored_bytes(t)  # INT4 weights: two per byte
            continue
        params += t.size
        total += t.size * (4 if op.type in WEIGHTED and k == 2 else 1)
    if op.type in WEIGHTED and len(op.inputs) > 1:
        channels = graph.tensors[op.inputs[1]].shape[WEIGHTED[op.type]]
        total += channels * REQUANT_BYTES_PER_CHANNEL
    return total, params


def estimate_fit(graph: Graph, target: str = "cortex-m4", flash_margin: int = DEFAULT_FLASH_MARGIN,
                 alignment: int = 8, board=None) -> FitResult:
    """Flash and RAM of `graph` (float32 or int8) deployed in int8 on the default board of `target` (or on
    `board`, a targets.profiles.Board: another board of the target, or one with other memory sizes)."""
    profile = get_profile(target)
    board = board or profile.board
    g = _as_int8(graph)
    plan = plan_arena(g, alignment=alignment)
    io = sum(g.tensors[n].nbytes for n in g.inputs + g.outputs)
    flash_limit = max(board.flash_bytes - flash_margin, 0)
    seen: set[str] = set()
    layers, flash, params = [], 0, 0
    flash_layer = ram_layer = None
    live = plan.live_bytes(len(g.ops))
    for i, op in enumerate(g.ops):
        size, n = _layer_flash(graph, i, seen)
        flash, params = flash + size, params + n
        top = plan.arena_top(i)
        layers.append(LayerFootprint(i, op.type, op.name or op.outputs[0], size, top, live[i]))
        if flash_layer is None and flash > flash_limit:
            flash_layer = layer_name(g, i)
        if ram_layer is None and live[i] + io > board.ram_bytes:
            ram_layer = layer_name(g, i)
    peak = max(range(len(layers)), key=lambda i: (layers[i].arena_top, live[i]), default=0)
    if ram_layer is None and plan.arena_size + io > board.ram_bytes:
        ram_layer = layer_name(g, peak)  # no op alone needs that much: the arena's packing does
    return FitResult(model=graph.where(), target=target, board=f"{board.mcu} ({board.name})", flash_bytes=flash,
                     flash_limit=flash_limit, ram_bytes=plan.arena_size + io, ram_limit=board.ram_bytes,
                     arena_bytes=plan.arena_size, io_bytes=io, params=params, layers=layers,
                     flash_layer=flash_layer, ram_layer=ram_layer,
                     peak_layer=layer_name(g, peak) if g.ops else "")


def fits(model, target: str = "cortex-m4", input_shape=None, flash_margin: int = DEFAULT_FLASH_MARGIN) -> FitResult:
    """Estimate whether `model` (a torch nn.Module, or an mcuforge Graph) fits `target` once deployed in int8.
    A module is imported with from_torch on a zero input of `input_shape` (NCHW; default: the module's
    `input_shape` attribute, which every zoo model has)."""
    if not isinstance(model, Graph):
        import torch

        from mcuforge.frontends.torch_import import from_torch

        shape = input_shape or getattr(model, "input_shape", None)
        if shape is None:
            raise ValueError(f"fits() needs input_shape for {type(model).__name__} (it has no input_shape attribute)")
        was_training = model.training
        model.eval()
        try:
            graph = from_torch(model, torch.zeros(tuple(shape)))
        finally:
            model.train(was_training)
        model = graph
    return estimate_fit(model, target, flash_margin)
