"""Avro's primitive types in binary: a writer and a reader per type, the pieces
`avro_binary` compiles schemas from. Longs are zigzag varints; strings and bytes carry their
length first; doubles and floats are little-endian IEEE 754.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

Writer = Callable[[Any, bytearray], None]
Reader = Callable[[bytes, int], tuple[Any, int]]

_DOUBLE = struct.Struct("<d")
_FLOAT = struct.Struct("<f")


def write_long(value: int, out: bytearray) -> None:
    n = (value << 1) ^ (value >> 63)  # zigzag
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def write_string(value: str, out: bytearray) -> None:
    data = value.encode()
    size = len(data)
    if size < 0x40:
        out.append(size << 1)  # most strings: a one-byte zigzag length, without the loop
    else:
        write_long(size, out)
    out += data


def _write_bytes(value: bytes, out: bytearray) -> None:
    write_long(len(value), out)
    out += value


def _write_boolean(value: bool, out: bytearray) -> None:
    out.append(1 if value else 0)


def _write_double(value: float, out: bytearray) -> None:
    out += _DOUBLE.pack(float(value))


def _write_float(value: float, out: bytearray) -> None:
    out += _FLOAT.pack(float(value))


def _write_null(_value: None, _out: bytearray) -> None:
    return None


def read_long(data: bytes, pos: int) -> tuple[int, int]:
    byte = data[pos]
    n, shift = byte & 0x7F, 7
    pos += 1
    while byte & 0x80:
        if shift > 63:
            raise ValueError("a varint longer than 64 bits")
        byte = data[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        shift += 7
    return (n >> 1) ^ -(n & 1), pos


def _read_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    size = data[pos]
    if size < 0x80 and not size & 1:
        size >>= 1  # most lengths: one byte, zero or more
        pos += 1
    else:
        size, pos = read_long(data, pos)
    end = pos + size
    if size < 0 or end > len(data):
        raise ValueError(f"a length of {size} bytes runs past the end of the record")
    return data[pos:end], end


def read_string(data: bytes, pos: int) -> tuple[str, int]:
    size = data[pos]
    if size < 0x80 and not size & 1:  # _read_bytes inlined: strings are most of every record
        end = pos + 1 + (size >> 1)
        if end <= len(data):
            return data[pos + 1 : end].decode(), end
    raw, pos = _read_bytes(data, pos)
    return raw.decode(), pos


def _read_boolean(data: bytes, pos: int) -> tuple[bool, int]:
    return data[pos] != 0, pos + 1


def _read_double(data: bytes, pos: int) -> tuple[float, int]:
    return _DOUBLE.unpack_from(data, pos)[0], pos + 8


def _read_float(data: bytes, pos: int) -> tuple[float, int]:
    return _FLOAT.unpack_from(data, pos)[0], pos + 4


def _read_null(_data: bytes, pos: int) -> tuple[None, int]:
    return None, pos


PRIMITIVES: dict[str, tuple[Writer, Reader]] = {
    "null": (_write_null, _read_null),
    "boolean": (_write_boolean, _read_boolean),
    "int": (write_long, read_long),
    "long": (write_long, read_long),
    "float": (_write_float, _read_float),
    "double": (_write_double, _read_double),
    "bytes": (_write_bytes, _read_bytes),
    "string": (write_string, read_string),
}
