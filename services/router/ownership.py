"""Ownership: who owns a person or an account now, the bridge from assign back to triage.

Triage is keyed by identity, but owners are decided later by assign (keyed by pool) and published
on `leads.assignments` (keyed by lead id), so no partition of triage ever sees an owner. Assign
therefore also writes, in the same transaction as each `Assignment` whose outcome is `assigned`
(first assignment, repeat or reassignment alike), one `OwnerFact` per subject of the lead to the
compacted topic `router.owners`:

    key `person:<lead.identity_key>`       always
    key `account:<lead.company_domain>`    when the lead has a company domain

value: `OwnerFact(subject=<the key>, rep_id, pool_id, lead_id, assigned_at_ms=decided_at_ms)`,
encoded with `AvroCodec(OwnerFact)`, no CloudEvents headers (it is state, not an event), key as
UTF-8 text. `owner_facts(...)` below builds the facts and `owner_facts.owner_fact_records` the
records; assign calls both.

Releases do not remove a fact: a customer who comes back after a closed deal goes to the same
rep while the continuity window lasts. Triage reads the topic whole as a `GlobalTable`, refreshed
between its transactions, so a fact written a moment ago may not be visible yet: see
docs/routing.md, "Continuity and the owner table".
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from services.leads.events import Assignment, Outcome, unvalidated

PERSON_PREFIX = "person:"
ACCOUNT_PREFIX = "account:"


class OwnerFact(BaseModel):
    """Mirrors schemas/OwnerFact.avsc field for field."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    subject: str
    rep_id: str
    pool_id: str
    lead_id: str
    assigned_at_ms: int


def person_subject(identity_key: str) -> str:
    return f"{PERSON_PREFIX}{identity_key}"


def account_subject(company_domain: str) -> str:
    """Domains compare case-insensitively, so the subject is lower case."""
    return f"{ACCOUNT_PREFIX}{company_domain.strip().lower()}"


def owner_facts(
    *,
    identity_key: str,
    company_domain: str | None,
    rep_id: str,
    pool_id: str,
    lead_id: str,
    assigned_at_ms: int,
) -> tuple[OwnerFact, ...]:
    """The facts one assigned lead establishes: its person, and its account if it has one."""
    subjects = [person_subject(identity_key)]
    if company_domain and company_domain.strip():
        subjects.append(account_subject(company_domain))
    return tuple(  # assign's own values, of the declared types: built unvalidated
        unvalidated(
            OwnerFact,
            {
                "subject": s,
                "rep_id": rep_id,
                "pool_id": pool_id,
                "lead_id": lead_id,
                "assigned_at_ms": assigned_at_ms,
            },
        )
        for s in subjects
    )


def assignment_owner_facts(assignment: Assignment) -> tuple[OwnerFact, ...]:
    """The facts an Assignment establishes: its lead's person and account, when it assigned the
    lead to a rep; none for an unassigned or released lead."""
    lead = assignment.lead
    if assignment.outcome is not Outcome.ASSIGNED or not assignment.rep_id or lead is None:
        return ()
    return owner_facts(
        identity_key=lead.identity_key,
        company_domain=lead.company_domain,
        rep_id=assignment.rep_id,
        pool_id=assignment.pool_id,
        lead_id=assignment.lead_id,
        assigned_at_ms=assignment.decided_at_ms,
    )
