"""The generated Avro writers and readers against fastavro, on every record schema leadrouter
ships: values drawn from the schema itself (long strings, large and negative longs, long
arrays and maps, both union branches), so every inlined fast path and its long-hand
fallback is exercised."""

from __future__ import annotations

import io
from functools import cache
from types import SimpleNamespace
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.streaming.avro_binary import CompiledRecord
from services.streaming.codec import default_schemas

SCHEMAS = default_schemas().current
RECORDS = sorted(name for name, schema in SCHEMAS.items() if schema["type"] == "record")
LONG = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXT = st.text(max_size=3) | st.text(min_size=60, max_size=90)  # one-byte and longer lengths


def values(schema: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of `schema` as fastavro takes them (dicts for records)."""
    if isinstance(schema, str) and schema in named:
        schema = named[schema]
    if isinstance(schema, list):
        return st.none() | values(schema[1], named)
    kind = schema if isinstance(schema, str) else schema["type"]
    simple: dict[str, st.SearchStrategy[Any]] = {
        "null": st.none(),
        "boolean": st.booleans(),
        "int": st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "long": LONG,
        "double": st.floats(allow_nan=False),
        "float": st.floats(width=32, allow_nan=False),
        "string": TEXT,
        "bytes": st.binary(max_size=3) | st.binary(min_size=64, max_size=80),
    }
    if kind in simple:
        return simple[kind]
    if kind == "enum":
        return st.sampled_from(schema["symbols"])
    if kind == "array":
        return st.lists(values(schema["items"], named), max_size=70)
    if kind == "map":
        return st.dictionaries(TEXT, values(schema["values"], named), max_size=3)
    fields = {f["name"]: values(f["type"], named) for f in schema["fields"]}
    return st.fixed_dictionaries(fields)


def objects(value: Any, schema: Any, named: dict[str, Any]) -> Any:
    if isinstance(schema, str) and schema in named:
        schema = named[schema]
    if isinstance(schema, list):
        return None if value is None else objects(value, schema[1], named)
    if isinstance(schema, dict) and schema["type"] == "record":
        return SimpleNamespace(
            **{f["name"]: objects(value[f["name"]], f["type"], named) for f in schema["fields"]}
        )
    if isinstance(schema, dict) and schema["type"] == "array":
        return [objects(v, schema["items"], named) for v in value]
    if isinstance(schema, dict) and schema["type"] == "map":
        return {k: objects(v, schema["values"], named) for k, v in value.items()}
    return value


def fastavro_bytes(schema: dict[str, Any], value: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, value)
    return buffer.getvalue()


@cache
def compiled_record(name: str) -> CompiledRecord:
    schema = SCHEMAS[name]
    return CompiledRecord(schema, schema.get("__named_schemas", {}))


@pytest.mark.parametrize("name", RECORDS)
@settings(max_examples=40)
@given(data=st.data())
def test_generated_functions_write_and_read_what_fastavro_does(name: str, data: Any) -> None:
    schema = SCHEMAS[name]
    named = schema.get("__named_schemas", {})
    value = data.draw(values(schema, named))
    compiled = compiled_record(name)
    out = bytearray()
    compiled.write(objects(value, schema, named), out)
    expected = fastavro_bytes(schema, value)
    assert bytes(out) == expected
    read, end = compiled.read(expected, 0)
    assert end == len(expected)
    assert read == fastavro.schemaless_reader(io.BytesIO(expected), schema, None)


LONG_HAND = fastavro.parse_schema(
    {
        "type": "record",
        "name": "io.leadrouter.test.LongHand",
        "fields": [
            {"name": "maybe", "type": ["null", "string"]},
            {"name": "counts", "type": {"type": "array", "items": "long"}},
            {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["a", "b"]}},
        ],
    }
)


def test_long_hand_encodings_other_writers_may_use_are_read_as_fastavro_reads_them() -> None:
    # branch 1 as a two-byte varint; "hi"; a block of -2 items with its byte size; 300; -1;
    # the closing zero; enum index 1 as a two-byte varint
    data = bytes([0x82, 0x00, 0x04]) + b"hi" + bytes([0x03, 0x06, 0xD8, 0x04, 0x01, 0x00])
    data += bytes([0x82, 0x00])
    compiled = CompiledRecord(LONG_HAND, LONG_HAND.get("__named_schemas", {}))
    read, end = compiled.read(data, 0)
    assert end == len(data)
    assert read == fastavro.schemaless_reader(io.BytesIO(data), LONG_HAND, None)
    assert read == {"maybe": "hi", "counts": [300, -1], "kind": "b"}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (bytes([0x04]), "union branch 2"),
        (bytes([0x02, 0x7F]), "runs past the end"),
        (bytes([0x00, 0x00, 0x06]), "enum index 3"),
    ],
)
def test_malformed_bytes_raise_value_error_naming_the_problem(data: bytes, problem: str) -> None:
    compiled = CompiledRecord(LONG_HAND, LONG_HAND.get("__named_schemas", {}))
    with pytest.raises(ValueError, match=problem):
        compiled.read(data, 0)
