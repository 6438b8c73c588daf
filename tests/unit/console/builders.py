"""Small builders for the console's tests."""

from __future__ import annotations

from services.leads.events import Assignment, Candidate, DecisionTrace, Outcome, RequestKind


def make_assignment(
    lead_id: str = "lead-1",
    rep_id: str | None = "ann",
    *,
    pool_id: str = "emea",
    attempt: int = 1,
    outcome: Outcome = Outcome.ASSIGNED,
    kind: RequestKind = RequestKind.ASSIGN,
    received_at_ms: int = 1_000,
    decided_at_ms: int = 1_050,
    candidates: tuple[Candidate, ...] = (),
    reason: str = "round robin turn",
) -> Assignment:
    return Assignment(
        assignment_id=f"{lead_id}:{attempt}:{outcome.value}",
        lead_id=lead_id,
        kind=kind,
        outcome=outcome,
        pool_id=pool_id,
        requested_pool_id=pool_id,
        rep_id=rep_id if outcome is Outcome.ASSIGNED else None,
        reason=reason,
        attempt=attempt,
        received_at_ms=received_at_ms,
        decided_at_ms=decided_at_ms,
        trace=DecisionTrace(
            config_version=3,
            config_hash="0123456789abcdef0123",
            rule_id="dach",
            score=40,
            strategy="weighted",
            fairness_policy="strict",
            pools_tried=(pool_id,),
            candidates=candidates,
            chosen_rep=rep_id,
            input_topic="routing.requests",
            input_partition=2,
            input_offset=17,
        ),
    )


def candidate(rep_id: str, skip_reason: str | None = None, pool_id: str = "emea") -> Candidate:
    return Candidate(rep_id=rep_id, pool_id=pool_id, skip_reason=skip_reason)
