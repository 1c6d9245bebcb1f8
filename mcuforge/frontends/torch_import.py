"""PyTorch module -> Graph: exported to ONNX in memory (TorchScript exporter), then the ONNX importer.

The legacy exporter (`dynamo=False`) needs no extra packages, traces the module in eval mode and folds its
constants, batch norms after convolutions included. 4-D inputs and outputs of the resulting graph are NHWC."""

from __future__ import annotations

import io
import warnings

from mcuforge.errors import ModelFormatError
from mcuforge.ir import Graph


def from_torch(module, example_input, opset: int | None = None) -> Graph:
    """Trace `module` on `example_input` (a tensor, or a tuple of tensors for several inputs) and import it as a
    simplified, validated float32 Graph."""
    try:
        import torch
    except ImportError:
        raise ModelFormatError("from_torch needs PyTorch (pip install 'mcuforge[torch]')") from None
    from mcuforge.frontends.onnx_import import from_onnx

    args = tuple(example_input) if isinstance(example_input, (tuple, list)) else (example_input,)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(module, args, buffer, dynamo=False, opset_version=opset,
                          input_names=[f"input_{i}" if len(args) > 1 else "input" for i in range(len(args))])
    graph = from_onnx(buffer.getvalue(), source=f"<torch {type(module).__name__}>")
    graph.name = type(module).__name__
    return graph
