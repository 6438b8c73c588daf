"""An assignment and its decision trace as lines a person reads (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.leads.events import Assignment, Candidate


def iso_ms(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def headline(assignment: Assignment) -> str:
    """One line: when, which lead, what happened, to whom, and the router's one-line reason."""
    owner = assignment.rep_id or "-"
    return (
        f"{iso_ms(assignment.decided_at_ms)}  {assignment.lead_id}  "
        f"{assignment.kind.value}->{assignment.outcome.value}  pool={assignment.pool_id} "
        f"rep={owner} attempt={assignment.attempt}  {assignment.reason}"
    )


def _candidate(candidate: Candidate) -> str:
    if candidate.skip_reason is None:
        credit = "" if candidate.credit is None else f" credit={candidate.credit:g}"
        return f"{candidate.rep_id} ok{credit}"
    return f"{candidate.rep_id} skipped ({candidate.skip_reason})"


def trace_lines(assignment: Assignment) -> list[str]:
    """The decision trace: config, rule, strategy, pools tried, and every candidate's standing."""
    trace = assignment.trace
    speed_ms = assignment.decided_at_ms - assignment.received_at_ms
    lines = [
        f"config v{trace.config_version} ({trace.config_hash[:12]})  rule={trace.rule_id or '-'} "
        f"score={trace.score}  strategy={trace.strategy} fairness={trace.fairness_policy}",
        f"pools tried: {' -> '.join(trace.pools_tried) or assignment.pool_id}  "
        f"requested={assignment.requested_pool_id}  speed-to-lead={speed_ms} ms"
        + (
            f"  previous owners: {', '.join(assignment.previous_owners)}"
            if assignment.previous_owners
            else ""
        ),
        f"input: {trace.input_topic}[{trace.input_partition}]@{trace.input_offset}",
    ]
    lines += [f"  {_candidate(c)}" for c in trace.candidates]
    return lines
