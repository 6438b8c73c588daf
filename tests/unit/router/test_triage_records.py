"""Triage's own records: the .avsc files and their models agree, and values round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from services.router.identity_state import IdentityState, SeenLead
from services.router.owner_facts import OwnerFact, owner_fact_records, owner_facts
from services.router.triage import identity_serde
from services.streaming.codec import AvroCodec

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def avro_fields(name: str) -> list[str]:
    return [f["name"] for f in json.loads((SCHEMAS / f"{name}.avsc").read_text())["fields"]]


@pytest.mark.parametrize("model", [OwnerFact, IdentityState])
def test_schema_fields_match_the_model_in_order(model: type[BaseModel]) -> None:
    assert avro_fields(model.__name__) == list(model.model_fields)


def test_seen_lead_fields_match_the_nested_record() -> None:
    schema = json.loads((SCHEMAS / "IdentityState.avsc").read_text())
    nested = schema["fields"][1]["type"]["items"]
    assert [f["name"] for f in nested["fields"]] == list(SeenLead.model_fields)


def test_identity_state_round_trips() -> None:
    state = IdentityState(
        identity_key="+4915112345678",
        seen=(
            SeenLead(lead_id="a", received_at_ms=1, pool_id="p", rule_id="r"),
            SeenLead(lead_id="b", received_at_ms=2, pool_id="q"),
        ),
    )
    serde = identity_serde()
    assert serde.decode(serde.encode(state)) == state


def test_owner_facts_cover_person_and_account_and_round_trip() -> None:
    facts = owner_facts(
        identity_key="jane@acme.example",
        company_domain="ACME.example",
        rep_id="ann",
        pool_id="general",
        lead_id="lead-1",
        assigned_at_ms=5,
    )
    records = owner_fact_records("router.owners", facts)
    assert [r.key for r in records] == [b"person:jane@acme.example", b"account:acme.example"]
    codec = AvroCodec(OwnerFact)
    assert [codec.decode(r.value or b"") for r in records] == list(facts)
    assert all(r.headers == () for r in records)  # state, not events: no CloudEvents headers


def test_a_lead_without_a_company_domain_sets_only_the_person_fact() -> None:
    facts = owner_facts(
        identity_key="x",
        company_domain=None,
        rep_id="ann",
        pool_id="p",
        lead_id="l",
        assigned_at_ms=1,
    )
    assert [f.subject for f in facts] == ["person:x"]
