"""A record schema's Avro reader as one generated Python function, straight-line per field.

The reader twin of `avro_writer_source`: the whole record, nested records and array items
included, is read by one function, with the common case of each field inlined (a one-byte
varint or length, a `["null", X]` union's one-byte branch) and the long-hand case and the
checks that name malformed bytes (ValueError; IndexError past the end) beside it. Values are
what fastavro reads: dicts for records (or what `builds` makes of them for nested records),
lists, str, int, float, bool, bytes, enum symbols as str. The tests hold the two to it.

`record_reader(schema, named, builds, keep=None)` returns `read(data, pos)` ->
`(fields, pos)`, or with `keep` a field name, `(fields, that field's bytes, pos)`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from services.streaming.avro_primitives import read_block_count, read_bytes, read_long, read_string
from services.streaming.generated_code import Source


class _Source(Source):
    """The reader's lines: `value` reads one value at `pos` into a local name."""

    def __init__(self, named: Mapping[str, Any], builds: Mapping[str, Any]) -> None:
        super().__init__(
            {
                "read_block_count": read_block_count,
                "read_long": read_long,
                "read_string": read_string,
                "read_bytes": read_bytes,
                "unpack_double": struct.Struct("<d").unpack_from,
                "unpack_float": struct.Struct("<f").unpack_from,
            }
        )
        self.named = named
        self.builds = builds

    def value(self, schema: Any, target: str, indent: int) -> None:
        """Lines that read a value of `schema` at `pos` into `target`, moving `pos` past it."""
        if isinstance(schema, str) and schema in self.named:
            schema = self.named[schema]
        if isinstance(schema, list):
            self._optional(schema, target, indent)
            return
        kind = schema if isinstance(schema, str) else schema["type"]
        if kind == "record":
            self.record(schema, target, indent)
            build = self.builds.get(schema["name"])
            if build is not None:
                self.emit(indent, f"{target} = {self.constant(build)}({target})")
        elif kind in ("array", "map"):
            self._collection(schema, target, indent)
        elif kind == "enum":
            self._enum(schema["symbols"], target, indent)
        else:
            self._primitive(kind, target, indent)

    def record(self, schema: Mapping[str, Any], target: str, indent: int) -> None:
        names = []
        for field in schema["fields"]:
            name = self.fresh("v")
            self.value(field["type"], name, indent)
            names.append(f"{field['name']!r}: {name}")
        self.emit(indent, f"{target} = {{{', '.join(names)}}}")

    def _optional(self, schema: list[Any], target: str, indent: int) -> None:
        """The branch's one byte (0 or 2), or a long-hand varint checked to be 0 or 1."""
        branch = self.fresh("b")
        self.emit(indent, "if data[pos] == 0 or data[pos] == 2:")
        self.emit(indent + 1, f"{branch} = data[pos] >> 1")
        self.emit(indent + 1, "pos += 1")
        self.emit(indent, "else:")
        self.emit(indent + 1, f"{branch}, pos = read_long(data, pos)")
        self.emit(indent + 1, f"if {branch} != 0 and {branch} != 1:")
        self.emit(
            indent + 2, f'raise ValueError(f"union branch {{{branch}}} of a two-branch union")'
        )
        self.emit(indent, f"if {branch} == 0:")
        self.emit(indent + 1, f"{target} = None")
        self.emit(indent, "else:")
        self.value(schema[1], target, indent + 1)

    def _collection(self, schema: Mapping[str, Any], target: str, indent: int) -> None:
        """Blocks of items until a zero count, into a list (array) or dict (map)."""
        count, item = self.fresh("c"), self.fresh("i")
        array = schema["type"] == "array"
        self.emit(indent, f"{target} = {'[]' if array else '{}'}")
        self.emit(indent, f"{count}, pos = read_block_count(data, pos)")
        self.emit(indent, f"while {count}:")
        self.emit(indent + 1, f"for _ in range({count}):")
        if array:
            self.value(schema["items"], item, indent + 2)
            self.emit(indent + 2, f"{target}.append({item})")
        else:
            key = self.fresh("m")
            self._sized("string", key, indent + 2)
            self.value(schema["values"], item, indent + 2)
            self.emit(indent + 2, f"{target}[{key}] = {item}")
        self.emit(indent + 1, f"{count}, pos = read_block_count(data, pos)")

    def _enum(self, symbols: list[str], target: str, indent: int) -> None:
        index = self.fresh("e")
        self._long(index, indent)
        self.emit(indent, f"if not 0 <= {index} < {len(symbols)}:")
        self.emit(
            indent + 1,
            f'raise ValueError(f"enum index {{{index}}} of {len(symbols)} symbols")',
        )
        self.emit(indent, f"{target} = {self.constant(tuple(symbols))}[{index}]")

    def _long(self, target: str, indent: int) -> None:
        self.emit(indent, "if data[pos] < 0x80:")
        self.emit(indent + 1, f"{target} = (data[pos] >> 1) ^ -(data[pos] & 1)")
        self.emit(indent + 1, "pos += 1")
        self.emit(indent, "else:")
        self.emit(indent + 1, f"{target}, pos = read_long(data, pos)")

    def _sized(self, kind: str, target: str, indent: int) -> None:
        """A string or bytes: a one-byte length read in place, anything else long-hand."""
        end, text = self.fresh("end"), kind == "string"
        self.emit(indent, f"{end} = pos + 1 + (data[pos] >> 1)")
        self.emit(indent, f"if data[pos] < 0x80 and not data[pos] & 1 and {end} <= size:")
        self.emit(indent + 1, f"{target} = data[pos + 1 : {end}]{'.decode()' if text else ''}")
        self.emit(indent + 1, f"pos = {end}")
        self.emit(indent, "else:")
        self.emit(indent + 1, f"{target}, pos = read_{kind}(data, pos)")

    def _primitive(self, kind: str, target: str, indent: int) -> None:
        if kind in ("string", "bytes"):
            self._sized(kind, target, indent)
        elif kind in ("int", "long"):
            self._long(target, indent)
        elif kind == "boolean":
            self.emit(indent, f"{target} = data[pos] != 0")
            self.emit(indent, "pos += 1")
        elif kind in ("double", "float"):
            self.emit(indent, f"{target} = unpack_{kind}(data, pos)[0]")
            self.emit(indent, f"pos += {8 if kind == 'double' else 4}")
        elif kind == "null":
            self.emit(indent, f"{target} = None")
        else:
            raise ValueError(f"no generated reader for Avro type {kind!r}")


def record_reader(
    schema: Mapping[str, Any],
    named: Mapping[str, Any],
    builds: Mapping[str, Any] | None = None,
    keep: str | None = None,
) -> Callable[..., Any]:
    """The generated reader of a top-level record (returned as its dict, never built)."""
    source = _Source(named, builds or {})
    source.emit(0, "def read(data, pos):")
    source.emit(1, "size = len(data)")
    if keep:
        source.emit(1, 'span = b""')
    names = []
    for field in schema["fields"]:
        name = source.fresh("v")
        if field["name"] == keep:
            source.emit(1, "start = pos")
        source.value(field["type"], name, 1)
        if field["name"] == keep:
            source.emit(1, "span = data[start:pos]")
        names.append(f"{field['name']!r}: {name}")
    fields = f"{{{', '.join(names)}}}"
    source.emit(1, f"return {fields}, span, pos" if keep else f"return {fields}, pos")
    return source.function("read", f"avro reader {schema['name']}")
