"""Avro codec: event models to bytes and back, in Avro single-object encoding.

Every value is `C3 01` + the writer schema's 8-byte CRC-64-AVRO fingerprint (little endian) +
the Avro binary body, so any reader can tell which schema wrote a record and resolve it against
its own, with no schema registry. Schemas are loaded once from `schemas/` (the current ones) and
`schemas/history/` (every older version ever published, kept so old records stay readable).
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

import fastavro
import fastavro.schema
from fastavro.read import SchemaResolutionError
from pydantic import BaseModel, ValidationError

from services.streaming.errors import DecodeError

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
MAGIC = b"\xc3\x01"
_HEADER = struct.Struct("<2sQ")

M = TypeVar("M", bound=BaseModel)


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
        self.header = _HEADER.pack(MAGIC, fingerprint(self.schema))

    def encode(self, event: M) -> bytes:
        buffer = io.BytesIO()
        buffer.write(self.header)
        fastavro.schemaless_writer(buffer, self.schema, event.model_dump())
        return buffer.getvalue()

    def decode(self, data: bytes | None) -> M:
        """Decode, or raise DecodeError naming what was wrong with the bytes."""
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
        try:
            body = fastavro.schemaless_reader(io.BytesIO(data[_HEADER.size :]), writer, self.schema)
            return self.model.model_validate(body)
        except (
            SchemaResolutionError,
            ValidationError,
            ValueError,
            TypeError,
            EOFError,
            IndexError,
        ) as exc:
            detail = str(exc)[:300]  # resolution errors quote whole schemas
            raise DecodeError(f"not a valid {self.model.__name__}: {detail}") from exc
