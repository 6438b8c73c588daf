"""The Avro schemas are the contract with producers and consumers: hold the models and every
older published version to them."""

from __future__ import annotations

import io
import json
import types
import typing
from pathlib import Path
from typing import Any

import fastavro
import pytest
from pydantic import BaseModel

from services.leads import events
from services.streaming.codec import SCHEMA_DIR, SchemaSet, _parse_all

EVENT_MODELS = [
    events.Lead,
    events.RoutingRequest,
    events.Assignment,
    events.DecisionTrace,
    events.LeadActivity,
    events.Escalation,
    events.DeadLetter,
    events.RepPresence,
    events.RoutingConfigRecord,
    events.AdminAudit,
]

AVRO_PRIMITIVES: dict[Any, str] = {
    str: "string",
    int: "long",
    float: "double",
    bool: "boolean",
    bytes: "bytes",
}


def test_every_schema_file_parses() -> None:
    schemas = SchemaSet()
    names = {json.loads(p.read_text())["name"] for p in SCHEMA_DIR.glob("*.avsc")}
    assert {f"io.leadrouter.{n}" for n in names} <= set(schemas.current)


def _avro_type_name(avro: Any) -> Any:
    if isinstance(avro, dict):
        if avro.get("type") in ("record", "enum"):
            return avro["name"].split(".")[-1]
        if avro.get("type") == "array":
            return ("array", _avro_type_name(avro["items"]))
        if avro.get("type") == "map":
            return ("map", _avro_type_name(avro["values"]))
        return _avro_type_name(avro["type"])
    if isinstance(avro, list):
        return tuple(_avro_type_name(branch) for branch in avro)
    return avro.split(".")[-1]


def _model_type_name(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        args = typing.get_args(annotation)
        return ("null", *(_model_type_name(a) for a in args if a is not type(None)))
    if origin is tuple:
        return ("array", _model_type_name(typing.get_args(annotation)[0]))
    if origin is dict:
        return ("map", _model_type_name(typing.get_args(annotation)[1]))
    if annotation is int:
        return "int|long"
    if (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel | str)
        and (annotation not in AVRO_PRIMITIVES)
    ):
        return annotation.__name__
    return AVRO_PRIMITIVES[annotation]


def _same(model_type: Any, avro_type: Any) -> bool:
    if model_type == "int|long":
        return avro_type in ("int", "long")
    if isinstance(model_type, tuple) and isinstance(avro_type, tuple):
        return len(model_type) == len(avro_type) and all(
            _same(m, a) for m, a in zip(model_type, avro_type, strict=True)
        )
    return bool(model_type == avro_type)


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m.__name__)
def test_model_matches_its_schema_field_for_field(model: type[BaseModel]) -> None:
    schema = json.loads((SCHEMA_DIR / f"{model.__name__}.avsc").read_text())
    avro_fields = {f["name"]: f for f in schema["fields"]}
    assert list(avro_fields) == list(model.model_fields), "field names or order differ"
    hints = typing.get_type_hints(model)
    for name, field in avro_fields.items():
        expected, actual = _avro_type_name(field["type"]), _model_type_name(hints[name])
        assert _same(actual, expected), (
            f"{model.__name__}.{name}: model {actual} vs avro {expected}"
        )
        has_model_default = not model.model_fields[name].is_required()
        assert has_model_default == ("default" in field), (
            f"{model.__name__}.{name}: defaults differ"
        )


def _history_versions() -> list[Path]:
    history = SCHEMA_DIR / "history"
    return sorted(history.glob("v*")) if history.is_dir() else []


def _example(schema: Any, named: dict[str, Any]) -> Any:
    """A value of `schema` with every field filled, so every field's encoding is exercised."""
    if isinstance(schema, str):
        if schema in named:
            return _example(named[schema], named)
        return {
            "string": "x",
            "long": 7,
            "int": 3,
            "double": 1.5,
            "boolean": True,
            "bytes": b"\x00\xff",
            "null": None,
        }[schema]
    if isinstance(schema, list):
        return _example(next(b for b in schema if b != "null"), named)
    kind = schema["type"]
    if kind == "record":
        return {f["name"]: _example(f["type"], named) for f in schema["fields"]}
    if kind == "enum":
        return schema["symbols"][0]
    if kind == "array":
        return [_example(schema["items"], named)]
    if kind == "map":
        return {"k": _example(schema["values"], named)}
    return _example(kind, named)


@pytest.mark.parametrize("version", _history_versions(), ids=lambda p: p.name)
def test_records_written_with_an_older_version_read_with_the_current_one(version: Path) -> None:
    current = SchemaSet()
    for name, old in _parse_all(sorted(version.glob("*.avsc"))).items():
        named = old["__named_schemas"]
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, old, _example(old, named))
        buffer.seek(0)
        decoded = fastavro.schemaless_reader(buffer, old, current.schema(name))
        assert isinstance(decoded, dict), name


def test_history_keeps_every_schema_that_was_ever_current() -> None:
    versions = _history_versions()
    assert versions, "schemas/history/v1 must exist"
    first = {p.name for p in versions[0].glob("*.avsc")}
    assert {"Lead.avsc", "Assignment.avsc", "RoutingRequest.avsc"} <= first
