"""A record schema's Avro writer as one generated Python function, straight-line per field.

Composed from a closure per field and per type, as it was, a writer made about two hundred
Python calls to write an `Assignment` with thirty candidates, one per field of every nested
record. Here the whole record, nested records and array items included, becomes the source of
one function with each field's encoding inlined (a one-byte length or varint written in place,
a `["null", X]` union as an `if`), compiled once per schema with `compile`/`exec`. The bytes
are fastavro's (the tests hold every schema to it).

The function is `write(value, out, raw)`: `value`'s attributes are the fields, `out` the
bytearray to append to, `raw` None or a mapping of top-level field names to bytes written as
given (see `CompiledRecord`). Only the types `avro_binary.check_supported` accepts are
generated.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from services.streaming.avro_primitives import write_long
from services.streaming.generated_code import Source

RecordWriter = Callable[[Any, bytearray, Mapping[str, bytes] | None], None]

_ONE_BYTE = 64
"""Zigzag values in [-64, 64) and lengths under 64 take one byte."""


class _Source(Source):
    """The writer's lines: `value` appends the encoding of one expression."""

    def __init__(self, named: Mapping[str, Any]) -> None:
        super().__init__(
            {
                "write_long": write_long,
                "pack_double": struct.Struct("<d").pack,
                "pack_float": struct.Struct("<f").pack,
            }
        )
        self.named = named

    def value(self, schema: Any, expr: str, indent: int) -> None:
        """Lines that append the encoding of `expr` (an expression of type `schema`)."""
        if isinstance(schema, str) and schema in self.named:
            schema = self.named[schema]
        if isinstance(schema, list):
            self._optional(schema[1], expr, indent)
            return
        kind = schema if isinstance(schema, str) else schema["type"]
        if kind == "record":
            for field in schema["fields"]:
                name = self.fresh("v")
                self.emit(indent, f"{name} = {expr}.{field['name']}")
                self.value(field["type"], name, indent)
        elif kind in ("array", "map"):
            self._collection(schema, expr, indent)
        elif kind == "enum":
            index = self.constant({s: i << 1 for i, s in enumerate(schema["symbols"])})
            if len(schema["symbols"]) <= _ONE_BYTE:
                self.emit(indent, f"out.append({index}[{expr}])")
            else:
                self.emit(indent, f"write_long({index}[{expr}] >> 1, out)")
        else:
            self._primitive(kind, expr, indent)

    def _optional(self, schema: Any, expr: str, indent: int) -> None:
        self.emit(indent, f"if {expr} is None:")
        self.emit(indent + 1, "out.append(0)")
        self.emit(indent, "else:")
        self.emit(indent + 1, "out.append(2)")
        self.value(schema, expr, indent + 1)

    def _collection(self, schema: Mapping[str, Any], expr: str, indent: int) -> None:
        """One block of items, as fastavro writes it, then the closing zero."""
        item = self.fresh("i")
        self.emit(indent, f"if {expr}:")
        self.emit(indent + 1, f"write_long(len({expr}), out)")
        if schema["type"] == "array":
            self.emit(indent + 1, f"for {item} in {expr}:")
            self.value(schema["items"], item, indent + 2)
        else:
            key = self.fresh("m")
            self.emit(indent + 1, f"for {key}, {item} in {expr}.items():")
            self._primitive("string", key, indent + 2)
            self.value(schema["values"], item, indent + 2)
        self.emit(indent, "out.append(0)")

    def _primitive(self, kind: str, expr: str, indent: int) -> None:
        if kind == "string":
            data, size = self.fresh("d"), self.fresh("n")
            self.emit(indent, f"{data} = {expr}.encode()")
            self._length(f"len({data})", size, indent)
            self.emit(indent, f"out += {data}")
        elif kind == "bytes":
            self._length(f"len({expr})", self.fresh("n"), indent)
            self.emit(indent, f"out += {expr}")
        elif kind in ("int", "long"):
            self.emit(indent, f"if -{_ONE_BYTE} <= {expr} < {_ONE_BYTE}:")
            self.emit(indent + 1, f"out.append((({expr}) << 1) ^ (({expr}) >> 63))")
            self.emit(indent, "else:")
            self.emit(indent + 1, f"write_long({expr}, out)")
        elif kind == "boolean":
            self.emit(indent, f"out.append(1 if {expr} else 0)")
        elif kind == "double":
            self.emit(indent, f"out += pack_double(float({expr}))")
        elif kind == "float":
            self.emit(indent, f"out += pack_float(float({expr}))")
        elif kind != "null":
            raise ValueError(f"no generated writer for Avro type {kind!r}")

    def _length(self, length: str, name: str, indent: int) -> None:
        self.emit(indent, f"{name} = {length}")
        self.emit(indent, f"if {name} < {_ONE_BYTE}:")
        self.emit(indent + 1, f"out.append({name} << 1)")
        self.emit(indent, "else:")
        self.emit(indent + 1, f"write_long({name}, out)")


def record_writer(schema: Mapping[str, Any], named: Mapping[str, Any]) -> RecordWriter:
    """The generated `write(value, out, raw)` for a record schema."""
    source = _Source(named)
    source.emit(0, "def write(value, out, raw):")
    for field in schema["fields"]:
        name = field["name"]
        got = source.fresh("v")
        source.emit(1, f"if raw is not None and {name!r} in raw:")
        source.emit(2, f"out += raw[{name!r}]")
        source.emit(1, "else:")
        source.emit(2, f"{got} = value.{name}")
        source.value(field["type"], got, 2)
    written: RecordWriter = source.function("write", f"avro writer {schema['name']}")
    return written
