"""Will a model fit a target? Flash and RAM of its int8 deployment, estimated from the float graph without
quantizing it (activations; the weights get the per-channel quantization PTQ gives them, which needs no data).

- Flash: each layer's weights as the code generator stores them (quant/sparse.py and quant/int4.py decide, on the
  weights' zero pattern and INT4 marking, for the given `sparse` mode): bitmap + nonzeros for pruned layers,
  INT4 two per byte, else one byte per element; int32 biases, and the per-channel requantization tables (at most
  REQUANT_BYTES_PER_CHANNEL per output channel) of every layer; other constants one byte per element. Kernel code
  and the runtime come on top (a few tens of KiB, see `mcuforge estimate`), so `flash_margin` keeps that much
  headroom.
- RAM: what a firmware build (`mcuforge build`, the pipeline) allocates: the arena plan_arena makes for the graph
  in int8 with its inputs and outputs inside it (io_in_arena) and each op's scratch, plus STACK_ALLOWANCE for the
  stack. The estimate never falls below the build's arena: the placeholder weights keep the quantized zero pattern
  (which layers go sparse and reserve no scratch) and always admit the SIMD kernels' scratch, the largest an op
  can reserve.
The layer named when a model does not fit: for RAM the first op whose live tensors (I/O included) plus the stack
pass the board's RAM (whatever the packing, that op alone needs more), else the op at the arena's peak; for flash
the layer at which the running total of weights passes the flash budget."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcuforge.codegen.planner import plan_arena
from mcuforge.ir import Graph, Quantization
from mcuforge.quant.int4 import INT4_MAX, int4_scales, is_int4, stored_bytes
from mcuforge.quant.qparams import quantize_symmetric, symmetric_scales
from mcuforge.quant.sparse import SPARSE_OPS, sparse_bytes, sparse_op_weights, sparse_storage
from mcuforge.targets.profiles import KIB, get_profile

WEIGHTED = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}
INT8_WEIGHT_MAX = 127
REQUANT_BYTES_PER_CHANNEL = 12  # int32 multiplier, int8 shift, the SIMD kernels' int32 accumulator start; padding
DEFAULT_FLASH_MARGIN = 32 * KIB  # kernels, schedule and runtime: typically 15-30 KiB for a small CNN
# The stack of one inference: the kernels keep only fixed-size locals (no arrays sized by the layer), and the
# painted-stack high-water mark on QEMU is 112-416 B on the MLPerf Tiny models (docs/benchmarks.md, -O2).
STACK_ALLOWANCE = 1 * KIB


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
    flash_bytes: int  # weights (as stored: sparse, INT4 or dense), biases and requantization tables
    flash_limit: int  # the board's flash minus flash_margin
    ram_bytes: int  # arena (inputs and outputs inside) + stack allowance
    ram_limit: int
    arena_bytes: int  # the firmware build's arena: activations, I/O and scratch
    io_bytes: int  # bytes of the graph inputs and outputs (inside the arena)
    params: int
    stack_bytes: int = STACK_ALLOWANCE
    sparse_layers: int = 0  # layers whose weights the code generator stores sparse
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
                 f"  RAM   {self.ram_bytes:,} B of {self.ram_limit:,} B (arena {self.arena_bytes:,} with I/O "
                 f"{self.io_bytes:,} inside, stack {self.stack_bytes:,}; peak at {self.peak_layer})"
                 + (f"; overflows at {self.ram_layer}" if self.ram_layer else "")]
        return "\n".join(lines)


def layer_name(graph: Graph, index: int) -> str:
    op = graph.ops[index]
    return f"#{index} {op.type} {op.name or op.outputs[0]}"


def _as_int8(graph: Graph) -> Graph:
    """A copy in the int8 form quantization gives it (shapes unchanged). Float layer weights become the sign of
    their per-channel symmetric quantization (int8, or INT4 when marked so), which keeps what the code generator
    decides from them (sparse or dense storage: the zero pattern) while the small values let every conv take its
    SIMD variant, whose scratch is the largest; biases and activations get placeholder scales and zero points
    (activations -128, as after a ReLU)."""
    g = graph.copy()
    for op in g.ops:
        if op.type in WEIGHTED and len(op.inputs) > 1 and g.tensors[op.inputs[1]].is_constant:
            w, axis = g.tensors[op.inputs[1]], WEIGHTED[op.type]
            channels = w.shape[axis]
            if w.dtype == "float32":
                _placeholder(w, "int8", channels, axis, _weight_signs(w.data, axis, is_int4(w)))
            if len(op.inputs) > 2 and op.inputs[2]:
                _placeholder(g.tensors[op.inputs[2]], "int32", channels, 0)
    for t in g.tensors.values():
        if t.dtype == "float32":
            _placeholder(t, "int8", 1, None)
    return g


def _weight_signs(w: np.ndarray, axis: int, int4: bool) -> np.ndarray:
    """-1, 0 or 1 per element: the sign of the weights as PTQ quantizes them (quant/ptq.py), so exactly the
    weights that quantize to zero are zero."""
    qmax = INT4_MAX if int4 else INT8_WEIGHT_MAX
    scales = int4_scales(w, axis) if int4 else symmetric_scales(w, axis, qmax)
    return np.sign(quantize_symmetric(w, scales, axis, qmax)).astype(np.int8)


def _placeholder(t, dtype: str, channels: int, axis: int | None, data: np.ndarray | None = None) -> None:
    if t.dtype != "float32":
        return
    t.dtype = dtype
    if t.is_constant:
        t.data = np.zeros(t.shape, dtype) if data is None else data.astype(dtype)
    scale = np.full(channels, 1.0 / 64, np.float32)
    # activations at zero point -128, as PTQ gives a ReLU's output: every fused activation then clamps to the full
    # int8 range, so each conv takes the SIMD entry point a quantized graph's would (their scratch differs)
    zero = np.full(channels, 0 if t.is_constant else -128, np.int64)
    t.quant = Quantization(scale, zero, axis) if axis is not None else Quantization(scale, zero)


def _layer_flash(g: Graph, index: int, seen: set[str]) -> tuple[int, int, bool]:
    """(bytes, parameters, sparse) of the constants op `index` of the int8 graph `g` is first to use, stored as
    the code generator stores them: layer weights sparse, INT4-packed or dense, int32 biases. Call it under the
    sparse_storage mode of the deployment."""
    op = g.ops[index]
    total = params = 0
    sparse = sparse_op_weights(op, g)
    for name in op.inputs:
        if not name or name in seen or not g.tensors[name].is_constant:
            continue
        seen.add(name)
        t = g.tensors[name]
        if op.type in WEIGHTED or t.dtype not in ("int32", "int64"):  # not shape or axis operands
            params += t.size
        total += sparse_bytes(t.data, SPARSE_OPS[op.type]) if t is sparse else stored_bytes(t)
    if op.type in WEIGHTED and len(op.inputs) > 1:
        channels = g.tensors[op.inputs[1]].shape[WEIGHTED[op.type]]
        total += channels * REQUANT_BYTES_PER_CHANNEL
    return total, params, sparse is not None


def estimate_fit(graph: Graph, target: str = "cortex-m4", flash_margin: int = DEFAULT_FLASH_MARGIN,
                 alignment: int = 8, board=None, sparse: str = "auto",
                 stack_bytes: int = STACK_ALLOWANCE) -> FitResult:
    """Flash and RAM of `graph` (float32 or int8) deployed in int8 on the default board of `target` (or on
    `board`, a targets.profiles.Board: another board of the target, or one with other memory sizes), compiled
    with sparse storage `sparse` ("auto" or "off", as compile_model / build_firmware)."""
    profile = get_profile(target)
    board = board or profile.board
    g = _as_int8(graph)
    with sparse_storage(sparse):  # the scratch rules and the weights' storage, as the code generator decides
        plan = plan_arena(g, alignment=alignment, io_in_arena=True)
        seen: set[str] = set()
        flash_rows = [_layer_flash(g, i, seen) for i in range(len(g.ops))]
    io = sum(g.tensors[n].nbytes for n in g.inputs + g.outputs)
    flash_limit = max(board.flash_bytes - flash_margin, 0)
    layers, flash, params = [], 0, 0
    flash_layer = ram_layer = None
    live = plan.live_bytes(len(g.ops))
    for i, op in enumerate(g.ops):
        size, n, _ = flash_rows[i]
        flash, params = flash + size, params + n
        top = plan.arena_top(i)
        layers.append(LayerFootprint(i, op.type, op.name or op.outputs[0], size, top, live[i]))
        if flash_layer is None and flash > flash_limit:
            flash_layer = layer_name(g, i)
        if ram_layer is None and live[i] + stack_bytes > board.ram_bytes:
            ram_layer = layer_name(g, i)
    peak = max(range(len(layers)), key=lambda i: (layers[i].arena_top, live[i]), default=0)
    if ram_layer is None and plan.arena_size + stack_bytes > board.ram_bytes:
        ram_layer = layer_name(g, peak)  # no op alone needs that much: the arena's packing does
    return FitResult(model=graph.where(), target=target, board=f"{board.mcu} ({board.name})", flash_bytes=flash,
                     flash_limit=flash_limit, ram_bytes=plan.arena_size + stack_bytes, ram_limit=board.ram_bytes,
                     arena_bytes=plan.arena_size, io_bytes=io, params=params, layers=layers,
                     flash_layer=flash_layer, ram_layer=ram_layer,
                     peak_layer=layer_name(g, peak) if g.ops else "", stack_bytes=stack_bytes,
                     sparse_layers=sum(row[2] for row in flash_rows))


def fits(model, target: str = "cortex-m4", input_shape=None, flash_margin: int = DEFAULT_FLASH_MARGIN,
         sparse: str = "auto") -> FitResult:
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
    return estimate_fit(model, target, flash_margin, sparse=sparse)
