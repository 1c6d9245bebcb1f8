"""Tensors and their quantization parameters."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# dtypes the IR knows, by their NumPy name.
DTYPES = ("float32", "int8", "uint8", "int16", "int32", "int64", "bool")


@dataclass
class Quantization:
    """Affine quantization: real = scale * (q - zero_point).

    Per tensor when `scale` has one element; per channel along `axis` otherwise
    (TFLite's `quantized_dimension`)."""

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int = 0

    def __post_init__(self):
        self.scale = np.atleast_1d(np.asarray(self.scale, dtype=np.float32))
        self.zero_point = np.atleast_1d(np.asarray(self.zero_point, dtype=np.int64))
        if self.zero_point.size == 1 and self.scale.size > 1:
            self.zero_point = np.repeat(self.zero_point, self.scale.size)

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1

    @property
    def scalar_scale(self) -> float:
        """The float32 scale of a per-tensor quantization."""
        return float(self.scale[0])

    @property
    def scalar_zero_point(self) -> int:
        return int(self.zero_point[0])

    def describe(self) -> str:
        if self.per_channel:
            return f"per-channel[{self.scale.size}] axis={self.axis}"
        return f"scale={self.scalar_scale:.6g} zp={self.scalar_zero_point}"


@dataclass
class Tensor:
    """A named tensor. `data` is set for constants (weights, biases, shape operands)."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    data: np.ndarray | None = None
    quant: Quantization | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.shape = tuple(int(d) for d in self.shape)
        if self.data is not None:
            self.data = np.asarray(self.data).astype(self.dtype, copy=False).reshape(self.shape)

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    @property
    def is_quantized(self) -> bool:
        return self.quant is not None and self.dtype in ("int8", "uint8", "int16", "int32")
