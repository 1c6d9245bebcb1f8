"""Weights in a separate binary for field updates (`mcuforge compile --weights-blob`).

Blob layout, little-endian: a 32-byte header, then the payload (each weight array at a 16-byte aligned offset).
    0  magic "MCFW"            4  format version (uint32)     8  model hash (uint32)
   12  payload length (uint32) 16  CRC-32 of the payload (IEEE 802.3, as zlib.crc32)   20..31  zero
The model hash covers the graph's structure and quantization (everything but the weight values), so a blob made
for another model, or for the same architecture quantized differently, is refused. The library checks the blob
in NAME_init and keeps its address in the first 16 bytes of the caller's arena: no global mutable state."""

from __future__ import annotations

import hashlib
import struct
import zlib

import numpy as np

from mcuforge.ir import Graph

MAGIC = b"MCFW"
FORMAT_VERSION = 1
HEADER_BYTES = 32
ARENA_HEADER_BYTES = 16  # "MCFA" marker + the blob pointer, at the start of the arena
ERROR_CODES = {  # name -> (value, meaning)
    "OK": (0, "success"),
    "ERR_BLOB_SIZE": (-1, "blob shorter than its header or its declared payload length"),
    "ERR_BLOB_MAGIC": (-2, "not an mcuforge weights blob"),
    "ERR_BLOB_VERSION": (-3, "blob format version not supported by this library"),
    "ERR_BLOB_MODEL": (-4, "blob made for a different model"),
    "ERR_BLOB_CRC": (-5, "blob payload corrupt (CRC-32 mismatch)"),
    "ERR_BLOB_ALIGNMENT": (-6, "blob address not 16-byte aligned"),
    "ERR_NOT_INITIALIZED": (-7, "invoke before a successful init on this arena"),
}


def model_hash(graph: Graph) -> int:
    """32-bit hash of the graph without its weight values."""
    h = hashlib.sha256()
    for op in graph.ops:
        h.update(f"{op.type}|{op.inputs}|{op.outputs}|{sorted(op.attrs.items())}".encode())
    for name, t in graph.tensors.items():
        h.update(f"{name}|{t.shape}|{t.dtype}|{t.is_constant}".encode())
        if t.quant is not None:
            h.update(t.quant.scale.tobytes() + t.quant.zero_point.tobytes() + bytes([t.quant.axis & 0xFF]))
    return int.from_bytes(h.digest()[:4], "little")


def pack_blob(arrays: list[tuple[int, np.ndarray]], payload_size: int, hash32: int) -> bytes:
    """Header + payload; `arrays` are (payload offset, values)."""
    payload = bytearray(payload_size)
    for offset, values in arrays:
        raw = np.ascontiguousarray(values).tobytes()
        payload[offset:offset + len(raw)] = raw
    header = struct.pack("<4sIIII12x", MAGIC, FORMAT_VERSION, hash32, len(payload), zlib.crc32(payload))
    return header + bytes(payload)


def header_api(prefix: str, upper: str, payload_size: int, hash32: int) -> list[str]:
    lines = [f"/* Weights live in {prefix}_weights.bin ({HEADER_BYTES + payload_size} bytes); see {prefix}_init. */",
             f"#define {upper}_WEIGHTS_BLOB_SIZE {HEADER_BYTES + payload_size}u",
             f"#define {upper}_MODEL_HASH 0x{hash32:08x}u"]
    lines += [f"#define {upper}_{name} ({value}) /* {meaning} */" for name, (value, meaning) in ERROR_CODES.items()]
    lines += ["",
              "/* Checks a weights blob (16-byte aligned, e.g. in flash) and records it in the arena. Returns",
              f" * {upper}_OK or a negative {upper}_ERR_* code. The blob must stay valid while the arena is used. */",
              f"int {prefix}_init_with_arena(uint8_t *arena, const uint8_t *blob, uint32_t blob_size);",
              f"#ifndef {upper}_NO_STATIC_ARENA",
              f"int {prefix}_init(const uint8_t *blob, uint32_t blob_size);",
              "#endif"]
    return lines


def source_init(prefix: str, upper: str) -> list[str]:
    """C for blob checking (CRC-32 bitwise: no table in flash) and the arena header."""
    return [
        f"static uint32_t {prefix}_read_u32(const uint8_t *p) {{",
        "    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);",
        "}", "",
        f"static uint32_t {prefix}_crc32(const uint8_t *data, uint32_t size) {{",
        "    uint32_t crc = 0xFFFFFFFFu;",
        "    uint32_t i;",
        "    int bit;",
        "    for (i = 0; i < size; ++i) {",
        "        crc ^= data[i];",
        "        for (bit = 0; bit < 8; ++bit) {",
        "            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));",
        "        }",
        "    }",
        "    return ~crc;",
        "}", "",
        f"int {prefix}_init_with_arena(uint8_t *arena, const uint8_t *blob, uint32_t blob_size) {{",
        "    uint32_t length;",
        f"    if (blob == NULL || blob_size < {HEADER_BYTES}u) return {upper}_ERR_BLOB_SIZE;",
        f"    if (((uintptr_t)blob & 15u) != 0u) return {upper}_ERR_BLOB_ALIGNMENT;",
        f"    if (memcmp(blob, \"{MAGIC.decode()}\", 4) != 0) return {upper}_ERR_BLOB_MAGIC;",
        f"    if ({prefix}_read_u32(blob + 4) != {FORMAT_VERSION}u) return {upper}_ERR_BLOB_VERSION;",
        f"    if ({prefix}_read_u32(blob + 8) != {upper}_MODEL_HASH) return {upper}_ERR_BLOB_MODEL;",
        f"    length = {prefix}_read_u32(blob + 12);",
        f"    if (length != {upper}_WEIGHTS_BLOB_SIZE - {HEADER_BYTES}u || blob_size < {upper}_WEIGHTS_BLOB_SIZE) "
        f"return {upper}_ERR_BLOB_SIZE;",
        f"    if ({prefix}_crc32(blob + {HEADER_BYTES}, length) != {prefix}_read_u32(blob + 16)) "
        f"return {upper}_ERR_BLOB_CRC;",
        "    memcpy(arena, \"MCFA\", 4);",
        "    blob += " + str(HEADER_BYTES) + ";",
        "    memcpy(arena + 8, &blob, sizeof blob);",
        f"    return {upper}_OK;",
        "}", "",
        f"#ifndef {upper}_NO_STATIC_ARENA",
        f"int {prefix}_init(const uint8_t *blob, uint32_t blob_size) {{",
        f"    return {prefix}_init_with_arena({prefix}_arena, blob, blob_size);",
        "}",
        "#endif", ""]


def invoke_prologue(upper: str) -> list[str]:
    """Start of invoke in blob mode: find the weights through the arena header, then skip the header."""
    return [
        "    const uint8_t *weights;",
        f"    if (memcmp(arena, \"MCFA\", 4) != 0) return {upper}_ERR_NOT_INITIALIZED;",
        "    memcpy(&weights, arena + 8, sizeof weights);",
        f"    arena += {ARENA_HEADER_BYTES};"]
