"""Avro binary encoding compiled once per schema: a writer and a reader made of closures.

`fastavro` walks the schema dictionary for every value it writes or reads, and picks a union's
branch by validating the value against each branch (for `["null", Lead]`, the whole lead);
that was most of the router's CPU per lead. A compiled writer resolves every field's type
once, reads the values straight from the model's attributes, and writes `["null", X]` unions
by `value is None`. The output is byte for byte what fastavro writes (the tests hold it to
that), and a reader returns the same plain values fastavro returns (dicts, lists, str, int,
float, bool, bytes, enum symbols as str).

A reader can also build objects in place of dicts: given `builds` (a record's full name -> a
function of its field dict), every record of a listed name is read into what its function
returns, nested records first (`avro_models` builds pydantic models that way, unvalidated).

Only what leadrouter's schemas use is compiled: records, enums, arrays, maps, `["null", X]`
unions and the primitive types. Anything else raises `Unsupported`, and the codec keeps
fastavro for that schema. Schema resolution (reading an older writer's record) also stays
with fastavro: a compiled reader reads only its own schema's records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

from services.streaming.avro_primitives import (
    PRIMITIVES,
    Reader,
    Writer,
    read_long,
    read_string,
    write_long,
    write_string,
)
from services.streaming.errors import FatalError

Builds = Mapping[str, Callable[[dict[str, Any]], Any]]
"""A record's full name -> what to build from the dict of its fields, as a reader returns it."""


class Unsupported(FatalError):
    """The schema uses something these compilers do not handle (the codec falls back to
    fastavro for it; anyone else compiling a schema cannot go on)."""


# -- compiling -----------------------------------------------------------------------------------
def compile_schema(
    schema: Any, named: Mapping[str, Any], builds: Builds | None = None
) -> tuple[Writer, Reader]:
    """(writer, reader) for a parsed schema; named types are looked up in `named`.

    A record's writer reads each field as an attribute of the value it is given (a pydantic
    model or a dataclass); its reader returns a dict, in the schema's field order, or what
    `builds` makes of that dict for the record's name.
    """
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return PRIMITIVES[schema]
        if schema not in named:
            raise Unsupported(f"unknown named type {schema}")
        return compile_schema(named[schema], named, builds)
    if isinstance(schema, list):
        return _union(schema, named, builds)
    kind = schema["type"]
    if schema.get("logicalType") is not None:
        raise Unsupported(f"logical type {schema['logicalType']}")
    if kind == "record":
        return _record(schema, named, builds)
    if kind == "enum":
        return _enum(schema["symbols"])
    if kind == "array":
        return _array(*compile_schema(schema["items"], named, builds))
    if kind == "map":
        return _map(*compile_schema(schema["values"], named, builds))
    if isinstance(kind, str) and kind in PRIMITIVES:
        return PRIMITIVES[kind]
    raise Unsupported(f"type {kind!r}")


class CompiledRecord:
    """A record schema's writer and reader, which can also splice in one field's bytes.

    `write(value, out, raw={"lead": b"..."})` writes the named fields' bytes as given (their
    whole encoding, union branch included) instead of encoding them: a record read moments
    ago is passed on without being encoded again. `read_keeping(data, pos, "lead")` returns
    that field's bytes beside the record, for exactly that. Its own `read` returns the dict;
    nested records are read as `builds` says.
    """

    def __init__(
        self, schema: Mapping[str, Any], named: Mapping[str, Any], builds: Builds | None = None
    ) -> None:
        self.names = [f["name"] for f in schema["fields"]]
        pairs = [compile_schema(f["type"], named, builds) for f in schema["fields"]]
        self._writes = [(n, attrgetter(n), w) for n, (w, _) in zip(self.names, pairs, strict=True)]
        self._reads = [(n, r) for n, (_, r) in zip(self.names, pairs, strict=True)]

    def write(self, value: Any, out: bytearray, raw: Mapping[str, bytes] | None = None) -> None:
        if raw:
            for name, get, write_field in self._writes:
                spliced = raw.get(name)
                if spliced is None:
                    write_field(get(value), out)
                else:
                    out += spliced
            return
        for _, get, write_field in self._writes:
            write_field(get(value), out)

    def read(self, data: bytes, pos: int) -> tuple[dict[str, Any], int]:
        record = {}
        for name, read_field in self._reads:
            record[name], pos = read_field(data, pos)
        return record, pos

    def read_keeping(self, data: bytes, pos: int, kept: str) -> tuple[dict[str, Any], bytes, int]:
        """The record, and the bytes field `kept` was encoded as."""
        record, span = {}, b""
        for name, read_field in self._reads:
            start = pos
            record[name], pos = read_field(data, pos)
            if name == kept:
                span = data[start:pos]
        return record, span, pos


def _record(
    schema: Mapping[str, Any], named: Mapping[str, Any], builds: Builds | None
) -> tuple[Writer, Reader]:
    compiled = CompiledRecord(schema, named, builds)
    build = None if builds is None else builds.get(schema["name"])
    if build is None:
        return compiled.write, compiled.read
    read_fields = compiled.read

    def read(data: bytes, pos: int) -> tuple[Any, int]:
        fields, pos = read_fields(data, pos)
        return build(fields), pos

    return compiled.write, read


def _union(
    branches: list[Any], named: Mapping[str, Any], builds: Builds | None
) -> tuple[Writer, Reader]:
    if len(branches) != 2 or branches[0] != "null":
        raise Unsupported(f"union {branches!r} (only [null, X] is compiled)")
    write_value, read_value = compile_schema(branches[1], named, builds)

    def write(value: Any, out: bytearray) -> None:
        if value is None:
            out.append(0)
        else:
            out.append(2)  # branch 1, zigzag
            write_value(value, out)

    def read(data: bytes, pos: int) -> tuple[Any, int]:
        branch = data[pos]  # one byte, as every writer writes 0 and 1
        if branch == 0:
            return None, pos + 1
        if branch == 2:
            return read_value(data, pos + 1)
        branch, pos = read_long(data, pos)  # the same numbers written long-hand, or nonsense
        if branch in (0, 1):
            return (None, pos) if branch == 0 else read_value(data, pos)
        raise ValueError(f"union branch {branch} of a two-branch union")

    if branches[1] != "string":
        return write, read

    # [null, string], the most common field of all: one call instead of three each way.
    def write_optional_string(value: str | None, out: bytearray) -> None:
        if value is None:
            out.append(0)
            return
        data = value.encode()
        if len(data) < 0x40:
            out += bytes((2, len(data) << 1))
        else:
            out.append(2)
            write_long(len(data), out)
        out += data

    def read_optional_string(data: bytes, pos: int) -> tuple[str | None, int]:
        branch = data[pos]
        if branch == 2:
            size = data[pos + 1]
            end = pos + 2 + (size >> 1)
            if size < 0x80 and not size & 1 and end <= len(data):
                return data[pos + 2 : end].decode(), end
        elif branch == 0:
            return None, pos + 1
        return read(data, pos)  # long lengths, long-hand branches, and every error

    return write_optional_string, read_optional_string


def _enum(symbols: list[str]) -> tuple[Writer, Reader]:
    index = {symbol: i for i, symbol in enumerate(symbols)}

    def write(value: str, out: bytearray) -> None:
        write_long(index[value], out)

    def read(data: bytes, pos: int) -> tuple[str, int]:
        i, pos = read_long(data, pos)
        if not 0 <= i < len(symbols):
            raise ValueError(f"enum index {i} of {len(symbols)} symbols")
        return symbols[i], pos

    return write, read


def _array(write_item: Writer, read_item: Reader) -> tuple[Writer, Reader]:
    def write(values: Any, out: bytearray) -> None:
        if values:
            write_long(len(values), out)  # one block, as fastavro writes it
            for value in values:
                write_item(value, out)
        out.append(0)

    def read(data: bytes, pos: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        count, pos = _block_count(data, pos)
        while count:
            for _ in range(count):
                item, pos = read_item(data, pos)
                items.append(item)
            count, pos = _block_count(data, pos)
        return items, pos

    return write, read


def _map(write_value: Writer, read_value: Reader) -> tuple[Writer, Reader]:
    def write(values: Mapping[str, Any], out: bytearray) -> None:
        if values:
            write_long(len(values), out)
            for key, value in values.items():
                write_string(key, out)
                write_value(value, out)
        out.append(0)

    def read(data: bytes, pos: int) -> tuple[dict[str, Any], int]:
        entries: dict[str, Any] = {}
        count, pos = _block_count(data, pos)
        while count:
            for _ in range(count):
                key, pos = read_string(data, pos)
                entries[key], pos = read_value(data, pos)
            count, pos = _block_count(data, pos)
        return entries, pos

    return write, read


def _block_count(data: bytes, pos: int) -> tuple[int, int]:
    """A block's item count; a negative count is followed by the block's size in bytes."""
    count, pos = read_long(data, pos)
    if count < 0:
        _, pos = read_long(data, pos)
        count = -count
    return count, pos
