"""Small helpers that render C source text: identifiers, literals, arrays."""

from __future__ import annotations

import re

import numpy as np

C_TYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t",
           "float32": "float", "bool": "uint8_t"}
FLOAT_MAX = "3.402823466e+38f"


def c_identifier(text: str) -> str:
    ident = re.sub(r"[^0-9A-Za-z_]", "_", text)
    return ident if ident and not ident[0].isdigit() else f"_{ident}"


def c_float(value: float) -> str:
    value = float(np.float32(value))
    if value == float("inf"):
        return FLOAT_MAX
    if value == float("-inf"):
        return f"-{FLOAT_MAX}"
    return f"{value!r}f"


def c_int(value: int) -> str:
    value = int(value)
    if value == -(1 << 31):
        return "INT32_MIN"
    return str(value)


def c_array_body(values: np.ndarray, per_line: int = 24) -> str:
    flat = np.asarray(values).reshape(-1)
    if flat.dtype == np.float32:
        items = [c_float(v) for v in flat.tolist()]
    else:
        items = [c_int(v) if v == -(1 << 31) else str(v) for v in flat.astype(np.int64).tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "    " + ",\n    ".join(lines) if lines else "    0"


def c_initializer(value) -> str:
    """A struct field value: int, float, bool, a nested dict (struct) or a raw C expression string."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (float, np.floating)):
        return c_float(value)
    if isinstance(value, dict):
        return "{" + ", ".join(c_initializer(v) for v in value.values()) + "}"
    return c_int(value)
