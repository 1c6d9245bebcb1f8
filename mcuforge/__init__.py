"""mcuforge: neural networks to verified, static-memory C for microcontrollers."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """`mcuforge.from_torch`, `mcuforge.from_onnx`, `mcuforge.quantize` and `mcuforge.distill`, imported on first
    use (importing mcuforge stays free of torch and onnx)."""
    if name == "from_torch":
        from mcuforge.frontends.torch_import import from_torch

        return from_torch
    if name == "from_onnx":
        from mcuforge.frontends.onnx_import import from_onnx

        return from_onnx
    if name == "quantize":
        from mcuforge.quant.ptq import quantize

        return quantize
    if name == "distill":
        from mcuforge.compress.distill import distill

        return distill
    raise AttributeError(f"module 'mcuforge' has no attribute {name!r}")
