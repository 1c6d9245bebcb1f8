"""The HTML report's figures, drawn with matplotlib (no pyplot state) and returned as inline SVG text."""

from __future__ import annotations

import io
import re

import numpy as np
from matplotlib.figure import Figure

from mcuforge.report.estimate import ModelEstimate

BLUE, ORANGE, GREY, RED = "#3465a4", "#f57900", "#888a85", "#cc0000"
FLASH_PARTS = (("weights", "#3465a4"), ("op_params", "#729fcf"), ("kernels", "#f57900"), ("schedule", "#fcaf3e"),
               ("runtime", "#888a85"))


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG sits inline in HTML
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)  # RDF boilerplate


def _figure(width: float = 10.0, height: float = 3.6) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), dpi=96)
    return fig, fig.add_subplot(1, 1, 1)


def _layer_labels(est: ModelEstimate) -> list[str]:
    return [f"{layer.index} {layer.op.replace('_2D', '').replace('DEPTHWISE_CONV', 'DW_CONV')}"
            for layer in est.layers]


def memory_timeline(est: ModelEstimate) -> str:
    """Bytes of the tensors live at each layer (in-place and row-streaming layers overlap them, so they may pass
    the arena), the highest arena byte in use, and the arena size with its peak marked."""
    fig, ax = _figure()
    x = np.arange(len(est.layers))
    kib = 1 / 1024
    ax.bar(x, np.array(est.live_bytes) * kib, color=BLUE, label="live tensors (may overlap in place)")
    ax.step(x, np.array(est.arena_tops) * kib, where="mid", color=ORANGE, label="highest arena byte in use")
    arena = est.ram["arena"] * kib
    ax.axhline(arena, color=RED, linestyle="--", linewidth=1, label=f"arena {est.ram['arena']:,} B")
    if est.layers:
        peak = est.peak_op
        ax.annotate(f"arena peak {est.arena_tops[peak]:,} B\nat #{peak} {est.layers[peak].op}",
                    xy=(peak, est.arena_tops[peak] * kib), xytext=(0, 24), textcoords="offset points",
                    ha="center", fontsize=8, arrowprops={"arrowstyle": "->", "color": RED}, color=RED)
    ax.set_ylim(0, max(arena, max(est.live_bytes, default=0) * kib) * 1.45 + 1e-9)
    ax.set_ylabel("arena memory (KiB)")
    ax.set_xlabel("layer")
    _layer_ticks(ax, est)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Memory timeline (arena plan)")
    return _svg(fig)


def _layer_ticks(ax, est: ModelEstimate) -> None:
    labels = _layer_labels(est)
    ax.set_xticks(np.arange(len(labels)))
    ax.set_xticklabels(labels, rotation=90, fontsize=7 if len(labels) < 40 else 5)
    ax.set_xlim(-0.6, len(labels) - 0.4)


def layer_cycles(est: ModelEstimate, measured: list[float] | None = None) -> str:
    fig, ax = _figure()
    x = np.arange(len(est.layers))
    estimated = np.array([layer.cycles for layer in est.layers]) / 1e6
    width = 0.42 if measured is not None else 0.8
    ax.bar(x - (width / 2 if measured is not None else 0), estimated, width=width, color=BLUE, label="estimate")
    if measured is not None:
        ax.bar(x + width / 2, np.array(measured) / 1e6, width=width, color=ORANGE, label="measured (emulator)")
    ax.set_ylabel("cycles per inference (millions)")
    ax.set_xlabel("layer")
    _layer_ticks(ax, est)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"Cycles per layer on {est.target} ({est.clock_hz / 1e6:g} MHz): "
                 f"{est.milliseconds:.2f} ms estimated")
    return _svg(fig)


def flash_breakdown(est: ModelEstimate) -> str:
    fig, ax = _figure(height=1.9)
    left = 0.0
    total = est.flash["total"]
    for part, color in FLASH_PARTS:
        value = est.flash[part]
        ax.barh([0], [value / 1024], left=left, color=color, label=f"{part.replace('_', ' ')} {value:,} B")
        if value / total > 0.06:
            ax.text(left + value / 2048, 0, f"{100 * value / total:.0f}%", ha="center", va="center", color="white",
                    fontsize=9)
        left += value / 1024
    ax.set_yticks([])
    ax.set_xlabel("flash (KiB)")
    ax.set_xlim(0, left * 1.01)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=5, fontsize=8, frameon=False)
    ax.set_title(f"Flash: {total:,} B (estimate)")
    return _svg(fig)


def battery_life(rates_hz: np.ndarray, lives_h: np.ndarray, currents_ma: np.ndarray, chosen_hz: float,
                 chosen_life_h: float, max_hz: float) -> str:
    """Battery life and average current against the inference rate, log-log, with the chosen rate marked."""
    fig, ax = _figure(height=3.8)
    ax.loglog(rates_hz, lives_h / 24, color=BLUE, label="battery life")
    ax.plot([chosen_hz], [chosen_life_h / 24], "o", color=RED)
    ax.annotate(f"{chosen_hz:g} Hz: {chosen_life_h / 24:.3g} days", xy=(chosen_hz, chosen_life_h / 24),
                xytext=(8, 8), textcoords="offset points", color=RED, fontsize=9)
    ax.axvline(max_hz, color=GREY, linestyle=":", linewidth=1)
    ax.text(max_hz, ax.get_ylim()[1], " max rate", color=GREY, fontsize=8, va="top", rotation=90, ha="right")
    ax.set_xlabel("inference rate (Hz)")
    ax.set_ylabel("battery life (days)", color=BLUE)
    ax.grid(True, which="major", alpha=0.3)
    twin = ax.twinx()
    twin.loglog(rates_hz, currents_ma, color=ORANGE, linestyle="--", label="average current")
    twin.set_ylabel("average battery current (mA)", color=ORANGE)
    ax.set_title("Battery life and average current vs inference rate")
    return _svg(fig)
