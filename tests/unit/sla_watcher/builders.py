"""Builders for the SLA watcher's tests: valid by default, one field changed per test."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from services.leads.events import (
    ActivityType,
    Assignment,
    Channel,
    DecisionTrace,
    Lead,
    LeadActivity,
    Outcome,
    RequestKind,
)
from services.sla_watcher.deadlines import EscalationTarget, SlaTerms, Window, WorkingWeek
from services.sla_watcher.transitions import OwnerContext

T0 = 1_780_000_000_000
"""2026-05-28T20:26:40Z: any fixed instant; tests count from here."""
MINUTE = 60_000
HOUR = 60 * MINUTE


def make_lead(lead_id: str = "lead-1", **fields: Any) -> Lead:
    values: dict[str, Any] = {
        "lead_id": lead_id,
        "identity_key": f"{lead_id}@acme.example",
        "channel": Channel.FORM,
        "source": "form:contact",
        "source_message_id": f"msg-{lead_id}",
        "received_at_ms": T0 - 1_000,
    }
    return Lead(**(values | fields))


def make_assignment(
    lead_id: str = "lead-1",
    rep_id: str | None = "ann",
    *,
    attempt: int = 1,
    assignment_id: str | None = None,
    decided_at_ms: int = T0,
    **fields: Any,
) -> Assignment:
    values: dict[str, Any] = {
        "assignment_id": assignment_id or f"{lead_id}#a{attempt}",
        "lead_id": lead_id,
        "kind": RequestKind.ASSIGN if attempt == 1 else RequestKind.REASSIGN,
        "outcome": Outcome.ASSIGNED if rep_id is not None else Outcome.UNASSIGNED,
        "pool_id": "inside",
        "requested_pool_id": "inside",
        "rep_id": rep_id,
        "reason": "round robin",
        "attempt": attempt,
        "received_at_ms": T0 - 1_000,
        "decided_at_ms": decided_at_ms,
        "lead": make_lead(lead_id),
        "trace": DecisionTrace(
            config_version=1,
            config_hash="h",
            strategy="round_robin",
            fairness_policy="strict",
            input_topic="routing.requests",
            input_partition=0,
            input_offset=0,
        ),
    }
    return Assignment(**(values | fields))


def make_activity(
    kind: ActivityType = ActivityType.FIRST_TOUCH,
    rep_id: str | None = "ann",
    *,
    lead_id: str = "lead-1",
    occurred_at_ms: int = T0 + MINUTE,
) -> LeadActivity:
    return LeadActivity(
        activity_id=f"{lead_id}:{kind.value}:{occurred_at_ms}",
        lead_id=lead_id,
        type=kind,
        rep_id=rep_id,
        occurred_at_ms=occurred_at_ms,
    )


def make_terms(**fields: Any) -> SlaTerms:
    values: dict[str, Any] = {
        "policy_id": "five-minutes",
        "first_touch_ms": 5 * MINUTE,
        "notify_fractions": (0.5,),
        "max_reassignments": 2,
    }
    return SlaTerms(**(values | fields))


def make_context(
    terms: SlaTerms | None = None,
    *,
    manager_id: str | None = "maria",
    fallback_pool_id: str | None = None,
    week: WorkingWeek | None = None,
    escalate_to: EscalationTarget | None = None,
) -> OwnerContext:
    terms = terms or make_terms()
    if escalate_to is not None:
        terms = replace(terms, escalate_to=escalate_to)
    return OwnerContext(terms, week, manager_id, fallback_pool_id)


def office_week(
    time_zone: str = "Europe/Berlin", holidays: frozenset[date] = frozenset()
) -> WorkingWeek:
    """Monday to Friday, 09:00 to 17:00 local."""
    return WorkingWeek(
        time_zone, tuple(Window(day, 9 * 3600, 17 * 3600) for day in range(5)), holidays
    )
