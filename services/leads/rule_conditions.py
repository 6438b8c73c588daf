"""Conditions on a lead's fields, shared by routing rules and scoring rules.

Every condition given must hold (AND); within one condition any listed value may match (OR). A
condition on a field the lead does not have fails, so `country: [DE]` never matches a lead with
no country. Text compares case-insensitively; `source`, `company_domain` and `campaign` accept
`*` and `?` wildcards (`form:pricing-*`). Matching itself lives in `services/router/rules.py`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.leads.events import Channel


class NumberRange(BaseModel):
    """`min <= x <= max`; either bound may be left out."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> NumberRange:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    def contains(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


TextList = tuple[str, ...] | None


class Conditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: tuple[Channel, ...] | None = None
    source: TextList = None
    """The lead's `source` (form id, inbound address, number); wildcards allowed."""
    country: TextList = None
    """ISO 3166-1 alpha-2 codes."""
    territory: TextList = None
    """Names from the config's `territories`: the lead's country is in one of them."""
    region: TextList = None
    """The lead's `region` (state, province) as ingest recorded it."""
    product: TextList = None
    language: TextList = None
    company_domain: TextList = None
    campaign: TextList = None
    score: NumberRange | None = None
    deal_value: NumberRange | None = None
    attributes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Extra lead attributes by name: the attribute has one of the listed values."""

    @field_validator(
        "channel",
        "source",
        "country",
        "territory",
        "region",
        "product",
        "language",
        "company_domain",
        "campaign",
        mode="before",
    )
    @classmethod
    def _one_value_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator(
        "channel",
        "source",
        "country",
        "territory",
        "region",
        "product",
        "language",
        "company_domain",
        "campaign",
    )
    @classmethod
    def _not_empty(cls, values: tuple[object, ...] | None) -> tuple[object, ...] | None:
        if values is not None and not values:
            raise ValueError("an empty list matches no lead: list values or leave the field out")
        return values

    @field_validator("country")
    @classmethod
    def _iso_country(cls, values: TextList) -> TextList:
        if values is None:
            return None
        codes = tuple(v.strip().upper() for v in values)
        bad = [c for c in codes if len(c) != 2 or not c.isalpha()]
        if bad:
            raise ValueError(f"expected ISO 3166-1 alpha-2 codes like 'DE', got {bad}")
        return codes

    @field_validator("attributes", mode="before")
    @classmethod
    def _attribute_lists(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    def is_empty(self) -> bool:
        """No condition at all: matches every lead (a catch-all rule)."""
        return self == Conditions()
