"""Mapping between the TFLite flatbuffer schema (the `tflite` package) and IR names and values."""

from __future__ import annotations

import re

import numpy as np
import tflite
import tflite.utils

TENSOR_TYPES = {0: "float32", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8"}
TENSOR_TYPE_CODES = {v: k for k, v in TENSOR_TYPES.items()}
TENSOR_TYPE_NAMES = {v: k for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}

OPCODE_NAMES = tflite.utils.BUILTIN_OPCODE2NAME
OPCODES = {name: code for code, name in OPCODE_NAMES.items()}

OPTIONS_TYPES = {k: v for k, v in vars(tflite.BuiltinOptions).items() if not k.startswith("_")}

# Enum-valued option fields, stored in the IR as strings.
ENUM_FIELDS = {
    "padding": {0: "SAME", 1: "VALID"},
    "fused_activation_function": {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"},
}

_SKIP_METHODS = {"Init", "GetRootAs"}


def snake(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", camel).lower()


def camel(snake_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake_name.split("_"))


def option_fields(options_class) -> list[str]:
    """The field accessors of a generated options class (CamelCase)."""
    names = []
    for name in dir(options_class):
        if name.startswith("_") or name in _SKIP_METHODS or name.startswith("GetRootAs"):
            continue
        if name.endswith(("Length", "IsNone", "AsNumpy", "BufferHasIdentifier")):
            continue
        if callable(getattr(options_class, name)):
            names.append(name)
    return names


def read_options(options_name: str, table) -> dict:
    """All fields of a builtin options table as a snake_case dict (enums as strings, vectors as lists)."""
    cls = getattr(tflite, options_name)
    obj = cls()
    obj.Init(table.Bytes, table.Pos)
    attrs = {}
    for field in option_fields(cls):
        if hasattr(obj, field + "Length"):
            attrs[snake(field)] = [] if getattr(obj, field + "IsNone")() else [int(v) for v in getattr(obj, field + "AsNumpy")()]
            continue
        value = getattr(obj, field)()
        key = snake(field)
        if key in ENUM_FIELDS:
            value = ENUM_FIELDS[key].get(value, value)
        elif isinstance(value, (float, np.floating)):
            value = float(value)
        attrs[key] = value
    return attrs


def write_options(builder, options_name: str, attrs: dict) -> int:
    """Serialize the fields of `attrs` that the options table has; returns the table offset."""
    module = getattr(tflite, options_name)
    fields = {snake(f): f for f in option_fields(module)}
    vectors = {}
    for key, value in attrs.items():
        if key in fields and isinstance(value, (list, tuple)):
            start = getattr(tflite, f"{options_name}Start{fields[key]}Vector")
            start(builder, len(value))
            for v in reversed(value):
                builder.PrependInt32(int(v))
            vectors[key] = builder.EndVector()
    getattr(tflite, f"{options_name}Start")(builder)
    for key, value in attrs.items():
        if key not in fields:
            continue
        add = getattr(tflite, f"{options_name}Add{fields[key]}")
        if key in vectors:
            add(builder, vectors[key])
        elif key in ENUM_FIELDS:
            add(builder, {v: k for k, v in ENUM_FIELDS[key].items()}[value])
        else:
            add(builder, value)
    return getattr(tflite, f"{options_name}End")(builder)
