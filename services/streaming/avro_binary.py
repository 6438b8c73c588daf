"""Avro binary encoding compiled once per record schema into generated Python functions.

`fastavro` walks the schema dictionary for every value it writes or reads, and picks a union's
branch by validating the value against each branch (for `["null", Lead]`, the whole lead);
that was most of the router's CPU per lead. Here a record schema becomes the source of one
writer function and one reader function (`avro_writer_source`, `avro_reader_source`), each
field's encoding inlined: values are read straight from the model's attributes, and a
`["null", X]` union is written by `value is None`. The output is byte for byte what fastavro
writes (the tests hold it to that), and the reader returns the same plain values fastavro
returns (dicts, lists, str, int, float, bool, bytes, enum symbols as str).

A reader can also build objects in place of dicts: given `builds` (a record's full name -> a
function of its field dict), every nested record of a listed name is read into what its
function returns (`avro_models` builds pydantic models that way, unvalidated).

Only what leadrouter's schemas use is compiled: records, enums, arrays, maps, `["null", X]`
unions and the primitive types. Anything else raises `Unsupported`, and the codec keeps
fastavro for that schema. Schema resolution (reading an older writer's record) also stays
with fastavro: a compiled reader reads only its own schema's records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property, partial
from typing import Any

from services.streaming.avro_reader_source import record_reader
from services.streaming.avro_writer_source import RecordWriter, record_writer
from services.streaming.errors import FatalError

Builds = Mapping[str, Callable[[dict[str, Any]], Any]]
"""A record's full name -> what to build from the dict of its fields, as a reader returns it."""

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


class Unsupported(FatalError):
    """The schema uses something these compilers do not handle (the codec falls back to
    fastavro for it; anyone else compiling a schema cannot go on)."""


def check_supported(
    schema: Any, named: Mapping[str, Any], seen: frozenset[str] = frozenset()
) -> None:
    """Raise Unsupported for anything in `schema` the generated functions do not handle."""
    if isinstance(schema, str):
        if schema in PRIMITIVES or schema in seen:
            return
        if schema not in named:
            raise Unsupported(f"unknown named type {schema}")
        check_supported(named[schema], named, seen | {schema})
        return
    if isinstance(schema, list):
        if len(schema) != 2 or schema[0] != "null":
            raise Unsupported(f"union {schema!r} (only [null, X] is compiled)")
        check_supported(schema[1], named, seen)
        return
    kind = schema["type"]
    if schema.get("logicalType") is not None:
        raise Unsupported(f"logical type {schema['logicalType']}")
    if kind == "record":
        for field in schema["fields"]:
            check_supported(field["type"], named, seen | {schema["name"]})
    elif kind == "array":
        check_supported(schema["items"], named, seen)
    elif kind == "map":
        check_supported(schema["values"], named, seen)
    elif kind != "enum" and not (isinstance(kind, str) and kind in PRIMITIVES):
        raise Unsupported(f"type {kind!r}")


class CompiledRecord:
    """A record schema's writer and reader, which can also splice in one field's bytes.

    `write(value, out, raw={"lead": b"..."})` writes the named fields' bytes as given (their
    whole encoding, union branch included) instead of encoding them: a record read moments
    ago is passed on without being encoded again. `read_keeping(data, pos, "lead")` returns
    that field's bytes beside the record, for exactly that. Its own `read` returns the dict;
    nested records are read as `builds` says. Unsupported for a schema it cannot compile.
    """

    def __init__(
        self, schema: Mapping[str, Any], named: Mapping[str, Any], builds: Builds | None = None
    ) -> None:
        check_supported(schema, named)
        self.names = [f["name"] for f in schema["fields"]]
        self._writer = partial(record_writer, schema, named)
        self._reader = partial(record_reader, schema, named, builds)
        self._keeping: dict[str, Callable[..., Any]] = {}

    @cached_property
    def _write(self) -> RecordWriter:
        return self._writer()

    @cached_property
    def _read(self) -> Callable[..., Any]:
        return self._reader()

    def write(self, value: Any, out: bytearray, raw: Mapping[str, bytes] | None = None) -> None:
        self._write(value, out, raw)

    def read(self, data: bytes, pos: int) -> tuple[dict[str, Any], int]:
        read: tuple[dict[str, Any], int] = self._read(data, pos)
        return read

    def read_keeping(self, data: bytes, pos: int, kept: str) -> tuple[dict[str, Any], bytes, int]:
        """The record, and the bytes field `kept` was encoded as."""
        read = self._keeping.get(kept)
        if read is None:
            read = self._keeping[kept] = self._reader(kept)
        kept_read: tuple[dict[str, Any], bytes, int] = read(data, pos)
        return kept_read
