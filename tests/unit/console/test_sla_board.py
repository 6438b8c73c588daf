"""The SLA board: a touched lead is in time, a lead the watcher reassigned is a breach, and an
untouched open lead is a timer due at its assignment plus the policy's first-touch budget."""

from __future__ import annotations

from pathlib import Path

from services.console.projection import Projection, connect
from services.console.sla_board import sla_board
from services.leads.events import Escalation, EscalationStep
from services.leads.topics import Topic
from tests.unit.console.projection_builders import day_of_leads
from tests.unit.sla_watcher.builders import MINUTE, T0


def breach(lead_id: str, rep_id: str) -> Escalation:
    return Escalation(
        escalation_id=f"{lead_id}:breach", lead_id=lead_id, assignment_id=f"{lead_id}:1:assigned",
        pool_id="emea", policy_id="quick", step=EscalationStep.REASSIGN, rep_id=rep_id,
        attempt=1, reason="no first touch in 10m", due_at_ms=T0 + 10 * MINUTE,
        fired_at_ms=T0 + 10 * MINUTE,
    )  # fmt: skip


def test_touched_in_time_is_met_reassigned_is_breached_and_the_rest_are_timers(
    tmp_path: Path,
) -> None:
    log = day_of_leads(count=3)  # lead-0 (ann) touched; lead-1 (cy), lead-2 (cy) not
    log.add(Topic.ESCALATIONS, breach("lead-1", "cy"))
    projection = Projection(connect(tmp_path / "p.sqlite3"))
    projection.apply(log.items)

    board = sla_board(projection.db, day_start_ms=T0 - 1, now_ms=T0 + 11 * MINUTE)

    assert [t["lead_id"] for t in board["timers"]] == ["lead-2"]
    assert board["timers"][0]["due_ms"] == T0 + 2 + 10 * MINUTE
    assert board["timers"][0]["overdue"] is True
    assert board["breaches_today"] == 1 and board["breaches_by_pool"] == {"emea": 1}
    by_rep = {
        (c["rep_id"]): (c["met"], c["breached"], c["compliance"]) for c in board["compliance"]
    }
    assert by_rep == {"ann": (1, 0, 1.0), "cy": (0, 1, 0.0)}
