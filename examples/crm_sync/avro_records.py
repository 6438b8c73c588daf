"""Reading and writing leadrouter's Avro records with nothing but the published .avsc files.

leadrouter writes Avro single-object encoding: the two bytes C3 01, the writer schema's 8-byte
CRC-64-AVRO fingerprint (little endian), then the Avro binary body. There is no schema registry:
a reader loads the .avsc files it was given, recognizes the writer by its fingerprint and reads
with its own schema, so fields added later (always with defaults) never break it.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import fastavro
import fastavro.schema

MAGIC = b"\xc3\x01"
HEADER = struct.Struct("<2sQ")


class RecordError(ValueError):
    """The bytes are not a record this reader knows; the message says what they were."""


def _fingerprint(schema: dict[str, Any]) -> int:
    canonical = fastavro.schema.to_parsing_canonical_form(fastavro.schema.expand_schema(schema))
    return int(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"), 16)


class SchemaBook:
    """Every schema in a directory of .avsc files, by full name and by fingerprint.

    Files may refer to types another file defines (Assignment uses io.leadrouter.Lead), so they
    are parsed in whatever order resolves those references.
    """

    def __init__(self, directory: Path) -> None:
        pending = {p: json.loads(p.read_text()) for p in sorted(directory.glob("*.avsc"))}
        if not pending:
            raise RecordError(f"no .avsc files in {directory}")
        named: dict[str, Any] = {}
        self.by_name: dict[str, dict[str, Any]] = {}
        while pending:
            parsed_any = False
            for path, raw in list(pending.items()):
                try:
                    schema: dict[str, Any] = fastavro.parse_schema(raw, named_schemas=named)  # type: ignore[assignment]
                except fastavro.schema.UnknownType:
                    continue
                self.by_name[schema["name"]] = schema
                del pending[path]
                parsed_any = True
            if not parsed_any:
                raise RecordError(f"unresolvable references in {sorted(p.name for p in pending)}")
        self.by_fingerprint = {_fingerprint(s): s for s in self.by_name.values()}

    def decode(self, data: bytes | None, full_name: str) -> dict[str, Any]:
        """The record as a dict, read with our own `full_name` schema."""
        reader = self.by_name[full_name]
        if data is None or len(data) < HEADER.size or data[:2] != MAGIC:
            raise RecordError(f"not Avro single-object encoding: {(data or b'')[:12]!r}")
        _, fingerprint = HEADER.unpack_from(data)
        writer = self.by_fingerprint.get(fingerprint)
        if writer is None:
            raise RecordError(f"unknown writer schema {fingerprint:016x}: update the .avsc files")
        if writer["name"] != full_name:
            raise RecordError(f"expected {full_name}, got {writer['name']}")
        body = io.BytesIO(data[HEADER.size :])
        record: dict[str, Any] = fastavro.schemaless_reader(body, writer, reader)  # type: ignore[assignment]
        return record

    def encode(self, record: dict[str, Any], full_name: str) -> bytes:
        schema = self.by_name[full_name]
        out = io.BytesIO()
        out.write(HEADER.pack(MAGIC, _fingerprint(schema)))
        fastavro.schemaless_writer(out, schema, record)
        return out.getvalue()
