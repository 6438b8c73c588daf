"""CRM owner exports become the owner facts router/assign writes; bad rows are named by line."""

from __future__ import annotations

from services.cli.owner_rows import BadRow, facts_of, rows
from services.router.ownership import OwnerFact
from services.router.triage_decision import Routed, TriagePath, triage
from tests.unit.notifier.builders import T0, make_config
from tests.unit.sla_watcher.builders import make_lead

CSV = """email,domain,phone,rep
Jo.Doe@Acme.example,ACME.example,,ann
,,+49 30 1234567,bob
nobody-at-all,,,ann
x@y.example,,,zed
,,,bob
"""


def read(text: str, jsonl: bool = False) -> list[tuple[OwnerFact, ...] | BadRow]:
    config = make_config()
    return [
        row if isinstance(row, BadRow) else facts_of(row, line, config, "hubspot", T0)
        for line, row in rows(text, jsonl)
    ]


def test_rows_become_person_and_account_facts_normalized_as_ingest_does() -> None:
    first, second, *_ = read(CSV)
    assert first == (
        OwnerFact(
            subject="person:jo.doe@acme.example",
            rep_id="ann",
            pool_id="inside",
            lead_id="import:hubspot",
            assigned_at_ms=T0,
        ),
        OwnerFact(
            subject="account:acme.example",
            rep_id="ann",
            pool_id="inside",
            lead_id="import:hubspot",
            assigned_at_ms=T0,
        ),
    )
    assert second == (
        OwnerFact(
            subject="person:+49301234567",
            rep_id="bob",
            pool_id="inside",
            lead_id="import:hubspot",
            assigned_at_ms=T0,
        ),
    )


def test_bad_rows_are_named_by_their_line_and_field() -> None:
    problems = [str(r) for r in read(CSV) if isinstance(r, BadRow)]
    assert problems == [
        "line 4: email: not an email address (no local part or domain); expected an address "
        "like name@example.com",
        "line 5: rep: 'zed' is no rep of the routing config in force",
        "line 6: no email, phone or domain: nothing to own",
    ]


def test_json_lines_are_read_and_a_broken_line_is_named() -> None:
    text = '{"email": "a@b.example", "rep": "bob", "pool": "inside"}\n\n{"email": \n'
    good, bad = read(text, jsonl=True)
    assert isinstance(good, tuple) and good[0].subject == "person:a@b.example"
    assert isinstance(bad, BadRow) and bad.line == 3 and bad.problem.startswith("not JSON")


def test_an_imported_owner_keeps_the_persons_next_lead_in_continuity() -> None:
    (facts, *_) = read(CSV)
    assert isinstance(facts, tuple)
    owners = {fact.subject: fact for fact in facts}
    lead = make_lead("lead-9", identity_key="jo.doe@acme.example", received_at_ms=T0 + 60_000)
    outcome = triage(make_config(), None, owners, lead, T0 + 60_000)
    assert isinstance(outcome, Routed)
    assert outcome.path is TriagePath.PERSON
    assert outcome.request.preferred_owner == "ann"
    assert "import:hubspot" in outcome.request.reason
