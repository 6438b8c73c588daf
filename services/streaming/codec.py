"""Avro codec: event models to bytes and back, in Avro single-object encoding.

Every value is `C3 01` + the writer schema's 8-byte CRC-64-AVRO fingerprint (little endian) +
the Avro binary body, so any reader can tell which schema wrote a record and resolve it against
its own, with no schema registry. Schemas are loaded once from `schemas/` (the current ones) and
`schemas/history/` (every older version ever published, kept so old records stay readable).

Records of the current schema are written and read by code compiled once per schema
(`avro_binary`), byte for byte what fastavro writes; a record written by an older schema is
read by fastavro, which resolves it against the current one.

Decoding validates at the edge only. A record of the current schema is read straight into its
model and nested models (`avro_models`), not validated again: Avro's reading has checked every
type, and bytes that are not such a record still raise DecodeError. A record an older schema
wrote, and any model that is not a plain twin of its schema, is validated by pydantic.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

import fastavro
import fastavro.schema
from fastavro.read import SchemaResolutionError
from pydantic import BaseModel

from services.streaming.avro_binary import CompiledRecord, Unsupported
from services.streaming.avro_models import Build, builders
from services.streaming.errors import DecodeError
from services.streaming.records import Serde

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
MAGIC = b"\xc3\x01"
_HEADER = struct.Struct("<2sQ")

M = TypeVar("M", bound=BaseModel)
PRESENT = b"\x02"
"""The branch index of X in an `["null", X]` union, as written before X's own bytes."""
_BODY = ""  # `_decode` keeps the whole body, not one field's bytes


def _parse_all(paths: Iterable[Path]) -> dict[str, dict[str, Any]]:
    """Parse schema files that may refer to each other's named types, in any order."""
    pending = {p: json.loads(p.read_text()) for p in paths}
    named: dict[str, Any] = {}
    parsed: dict[str, dict[str, Any]] = {}
    while pending:
        progressed = False
        for path, raw in list(pending.items()):
            try:
                schema: dict[str, Any] = fastavro.parse_schema(raw, named_schemas=named)  # type: ignore[assignment]
            except fastavro.schema.UnknownType:
                continue
            parsed[schema["name"]] = schema
            del pending[path]
            progressed = True
        if not progressed:
            names = ", ".join(sorted(p.name for p in pending))
            raise ValueError(f"schemas refer to types no file defines: {names}")
    return parsed


def fingerprint(parsed: dict[str, Any]) -> int:
    expanded = fastavro.schema.expand_schema(parsed)
    canonical = fastavro.schema.to_parsing_canonical_form(expanded)
    return int(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"), 16)


class SchemaSet:
    """The current schema per full name, and every known writer schema by fingerprint."""

    def __init__(self, directory: Path = SCHEMA_DIR) -> None:
        self.current = _parse_all(sorted(directory.glob("*.avsc")))
        self.writers: dict[int, dict[str, Any]] = {fingerprint(s): s for s in self.current.values()}
        history = directory / "history"
        for version_dir in sorted(history.glob("v*")) if history.is_dir() else ():
            for schema in _parse_all(sorted(version_dir.glob("*.avsc"))).values():
                self.writers.setdefault(fingerprint(schema), schema)

    def schema(self, full_name: str) -> dict[str, Any]:
        try:
            return self.current[full_name]
        except KeyError:
            raise ValueError(f"no schema named {full_name!r} in {SCHEMA_DIR}") from None


@cache
def default_schemas() -> SchemaSet:
    return SchemaSet()


class AvroCodec(Generic[M]):
    """Encode one model type to single-object Avro, and decode any known version of it."""

    def __init__(self, model: type[M], schemas: SchemaSet | None = None) -> None:
        self.model = model
        self.schemas = schemas or default_schemas()
        self.schema = self.schemas.schema(f"io.leadrouter.{model.__name__}")
        self.fingerprint = fingerprint(self.schema)
        self.header = _HEADER.pack(MAGIC, self.fingerprint)
        self.compiled: CompiledRecord | None
        self._reader: CompiledRecord | None = None
        """Reads nested records into their models; None: read dicts and validate them."""
        self._build: Build | None = None
        named = self.schema.get("__named_schemas", {})
        try:
            self.compiled = CompiledRecord(self.schema, named)
        except Unsupported:
            self.compiled = None
        records = {n: s for n, s in named.items() if s.get("type") == "record"}
        found = builders(model, records) if self.compiled is not None else None
        if found is not None:
            self._reader = CompiledRecord(self.schema, named, found)
            self._build = found[self.schema["name"]]

    def serde(self) -> Serde[M]:
        """This codec as the `Serde` of a state store's or a global table's values."""
        return Serde(encode=self.encode, decode=self.decode)

    def encode(self, event: M, *, raw: Mapping[str, bytes] | None = None) -> bytes:
        """`raw`: fields whose encoding the caller already holds (from `decode_keeping` or
        `decode_body`), written as given; they must encode the same values `event` holds."""
        if self.compiled is None:
            buffer = io.BytesIO()
            buffer.write(self.header)
            fastavro.schemaless_writer(buffer, self.schema, event.model_dump())
            return buffer.getvalue()
        out = bytearray(self.header)
        self.compiled.write(event, out, raw)
        return bytes(out)

    def encode_value(self, value: object) -> bytes:
        """Encode any value whose attributes are this schema's fields, such as a dataclass the
        model twins: no model is built on the way."""
        if self.compiled is None:
            return self.encode(self.model.model_validate(value, from_attributes=True))
        out = bytearray(self.header)
        self.compiled.write(value, out)
        return bytes(out)

    def decode(self, data: bytes | None) -> M:
        """Decode, or raise DecodeError naming what was wrong with the bytes."""
        return self._model(*self._read(data, None, self._reader or self.compiled))[0]

    def decode_keeping(self, data: bytes | None, field: str) -> tuple[M, bytes | None]:
        """Decode, and keep the bytes `field` was encoded as, to pass to `encode(raw=...)` of
        a record with the same field type; None when an older schema wrote the record."""
        return self._model(*self._read(data, field, self._reader or self.compiled))

    def decode_body(self, data: bytes | None) -> tuple[M, bytes | None]:
        """Decode, and keep the record's Avro body (what follows the header) when the current
        schema wrote it: `PRESENT + body` encodes it as an `["null", <this record>]` field."""
        return self._model(*self._read(data, _BODY, self._reader or self.compiled))

    def decode_fields(self, data: bytes | None) -> dict[str, Any]:
        """The record's fields as Avro reads them, in the current schema's shape, with no model
        built: for values kept in a type of their own (Avro has already checked every type)."""
        return self._read(data, None, self.compiled)[0][0]

    def _model(
        self, body: tuple[dict[str, Any], bool], kept: bytes | None
    ) -> tuple[M, bytes | None]:
        fields, as_read = body
        try:
            if as_read and self._build is not None:
                built: M = self._build(fields)
                return built, kept
            return self.model.model_validate(fields), kept
        except ValueError as exc:  # pydantic's ValidationError, or an enum symbol the model lacks
            raise DecodeError(f"not a valid {self.model.__name__}: {str(exc)[:300]}") from exc

    def _read(
        self, data: bytes | None, kept: str | None, reader: CompiledRecord | None
    ) -> tuple[tuple[dict[str, Any], bool], bytes | None]:
        """((the fields, read by `reader` from the current schema's bytes), the kept bytes)."""
        data, writer_fp = self._checked(data)
        try:
            if reader is None or writer_fp != self.fingerprint:
                stream = io.BytesIO(data[_HEADER.size :])
                writer = self.schemas.writers[writer_fp]
                resolved = fastavro.schemaless_reader(stream, writer, self.schema)
                if not isinstance(resolved, dict):
                    raise TypeError(f"read {type(resolved).__name__}, not a record")
                return (resolved, False), None
            if kept is None or kept == _BODY:
                body, end = reader.read(data, _HEADER.size)
                self._ends_at(data, end)
                return (body, True), None if kept is None else data[_HEADER.size : end]
            body, kept_bytes, end = reader.read_keeping(data, _HEADER.size, kept)
            self._ends_at(data, end)
            return (body, True), kept_bytes
        except (
            SchemaResolutionError,
            ValueError,
            TypeError,
            EOFError,
            IndexError,
            struct.error,
        ) as exc:
            detail = str(exc)[:300]  # resolution errors quote whole schemas
            raise DecodeError(f"not a valid {self.model.__name__}: {detail}") from exc

    def _ends_at(self, data: bytes, end: int) -> None:
        if end != len(data):
            raise ValueError(f"{len(data) - end} bytes follow the end of the record")

    def _checked(self, data: bytes | None) -> tuple[bytes, int]:
        """`data` and its writer's fingerprint, a known schema of this type; or DecodeError."""
        if data is None:
            raise DecodeError(f"expected {self.model.__name__} record, got a tombstone")
        if len(data) < _HEADER.size or data[:2] != MAGIC:
            raise DecodeError(
                f"expected {self.model.__name__} in Avro single-object encoding "
                f"(starting C3 01), got {data[:12]!r}"
            )
        _, writer_fp = _HEADER.unpack_from(data)
        writer = self.schemas.writers.get(writer_fp)
        if writer is None:
            raise DecodeError(f"unknown writer schema fingerprint {writer_fp:016x}")
        if writer["name"] != self.schema["name"]:
            raise DecodeError(f"expected {self.schema['name']}, got {writer['name']}")
        return data, int(writer_fp)
