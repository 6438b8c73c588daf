"""Models built straight from what the compiled Avro reader read, without validating it again.

A record the current schema wrote is already of the schema's types once `avro_binary` has read
it: strings are str, longs int, a union's branch was checked, an enum's index is in range, an
array's items are read by the item's reader. pydantic validation of that dict (once per
record, and once per nested record) was the router's largest remaining per-record cost and
found nothing Avro had not. What is left to do is the shape: an enum symbol becomes the enum's
member, an array a tuple, and a nested record its model, built the same way.

`builders(model, schemas)` answers, for one model type, how to build it and every model nested
in it from their field dicts; or None when any of them is not plainly a twin of its schema
(validators, private attributes, constrained fields, field names other than the schema's, or
field types other than the shapes below): such a model is validated as before.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from services.leads.events import unvalidated

Build = Callable[[dict[str, Any]], Any]
Convert = Callable[[Any], Any]
_PLAIN = (str, int, float, bool, bytes)


def builders(model: type[BaseModel], records: Mapping[str, Any]) -> dict[str, Build] | None:
    """Full record name -> build, for `model` and every model it nests; None if any does not
    qualify. `records` maps every record schema's full name to its parsed schema."""
    found: dict[str, Build] = {}
    return found if _add(model, records, found) else None


class _NotPlain(Exception):
    """A model, or a type inside one, that only validation builds right."""


def _add(model: type[BaseModel], records: Mapping[str, Any], found: dict[str, Build]) -> bool:
    name = next((n for n in records if n.rsplit(".", 1)[-1] == model.__name__), None)
    if name is None:
        return False
    if name in found:
        return True
    schema = records[name]
    fields = model.model_fields
    if [f["name"] for f in schema["fields"]] != list(fields) or not _plain_model(model):
        return False
    found[name] = _always_fails  # placeholder while nested models are added (no cycles here)
    conversions: list[tuple[str, Convert]] = []
    try:
        for field_name, info in fields.items():
            if info.metadata:
                raise _NotPlain(field_name)  # constraints (ge=, max_length=) validation enforces
            convert = _conversion(info.annotation, records, found)
            if convert is not None:
                conversions.append((field_name, convert))
    except _NotPlain:
        return False
    found[name] = _build(model, tuple(conversions))
    return True


def _plain_model(model: type[BaseModel]) -> bool:
    decorators = model.__pydantic_decorators__
    return not (
        decorators.validators
        or decorators.field_validators
        or decorators.root_validators
        or decorators.model_validators
        or model.__private_attributes__
        or model.__pydantic_post_init__
        or model.model_config.get("extra") == "allow"
    )


def _conversion(
    annotation: Any, records: Mapping[str, Any], found: dict[str, Build]
) -> Convert | None:
    """How to turn the reader's value into the field's (None: as read); _NotPlain for a type
    this module does not build."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        branches = [a for a in get_args(annotation) if a is not type(None)]
        if len(branches) != 1:
            raise _NotPlain(annotation)
        return _conversion(branches[0], records, found)
    if origin is tuple:
        args = get_args(annotation)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise _NotPlain(annotation)
        if _conversion(args[0], records, found) is not None:
            raise _NotPlain(annotation)  # tuples of enums would need a conversion per item
        return tuple
    if origin is dict:
        key, value = get_args(annotation)
        if key is not str or value not in _PLAIN:
            raise _NotPlain(annotation)
        return None
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _enum_member(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not _add(annotation, records, found):
            raise _NotPlain(annotation)
        return None  # built by its own record's reader
    if annotation not in _PLAIN:
        raise _NotPlain(annotation)
    return None


def _enum_member(enum: type[Enum]) -> Convert:
    members = {member.value: member for member in enum}

    def member(symbol: str) -> Enum:
        try:
            return members[symbol]
        except KeyError:
            raise ValueError(f"{symbol!r} is not a {enum.__name__}") from None

    return member


def _build(model: type[BaseModel], conversions: tuple[tuple[str, Convert], ...]) -> Build:
    def build(values: dict[str, Any]) -> Any:
        for name, convert in conversions:
            value = values[name]
            if value is not None:
                values[name] = convert(value)
        return unvalidated(model, values)

    return build


def _always_fails(values: dict[str, Any]) -> Any:
    raise TypeError("a model was read before its builder was complete")
