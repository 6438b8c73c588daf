"""What every part of the routing config model shares: the base model, ids, word lists."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
"""Ids end up in keys and metric labels: short, no spaces."""


class ConfigModel(BaseModel):
    """Frozen, and strict about spelling: an unknown key is an error, never ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def normalized_words(values: tuple[str, ...]) -> tuple[str, ...]:
    """Skills and languages compare case-insensitively; sorted so output is deterministic."""
    return tuple(sorted({v.strip().lower() for v in values if v.strip()}))


def non_empty(values: tuple[object, ...]) -> tuple[object, ...]:
    """Checked after the items, so a list whose items all failed is not also called empty."""
    if not values:
        raise ValueError("expected at least one entry, got an empty list")
    return values
