"""Front ends: model files -> Graph."""

from __future__ import annotations

from pathlib import Path

from mcuforge.errors import ModelFormatError


def read_model_file(path: Path) -> bytes:
    """A model file's bytes; a missing or unreadable file is a ModelFormatError naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelFormatError(f"{path}: is a directory, not a model file") from None
    except OSError as exc:
        raise ModelFormatError(f"{path}: cannot read ({exc.strerror})") from None
    return data


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
