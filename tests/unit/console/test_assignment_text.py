from __future__ import annotations

from services.console.assignment_text import headline, iso_ms, trace_lines
from tests.unit.console.builders import candidate, make_assignment


def test_headline_names_lead_decision_owner_and_reason() -> None:
    line = headline(make_assignment("lead-9", "ann", decided_at_ms=1_700_000_000_123))
    assert line == (
        "2023-11-14T22:13:20.123Z  lead-9  assign->assigned  pool=emea rep=ann attempt=1  "
        "round robin turn"
    )


def test_trace_lists_every_candidate_with_its_standing() -> None:
    assignment = make_assignment(
        "lead-9", "bob", candidates=(candidate("ann", "away: until 10:00"), candidate("bob"))
    )
    lines = trace_lines(assignment)
    assert lines[0] == (
        "config v3 (0123456789ab)  rule=dach score=40  strategy=weighted fairness=strict"
    )
    assert "speed-to-lead=50 ms" in lines[1]
    assert lines[2] == "input: routing.requests[2]@17"
    assert lines[3:] == ["  ann skipped (away: until 10:00)", "  bob ok"]


def test_times_are_utc_with_milliseconds() -> None:
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"
