"""Front ends: model files -> Graph."""

from __future__ import annotations

from pathlib import Path

from mcuforge.errors import ModelFormatError


def load_model(path: str | Path):
    """Load a model file into a validated, simplified Graph (front end chosen by file suffix)."""
    from mcuforge.ir.validate import validate_graph
    from mcuforge.passes import simplify

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        from mcuforge.frontends.tflite_import import load_tflite as load
    elif suffix == ".onnx":
        from mcuforge.frontends.onnx_import import load_onnx as load
    else:
        raise ModelFormatError(f"{path}: unknown model format {path.suffix!r} (expected .tflite or .onnx)")
    graph = simplify(load(path))
    validate_graph(graph)
    return graph
