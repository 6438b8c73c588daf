"""Triage, the pure part: one lead and what triage remembers -> a routing request, or nothing.

    exact duplicate (same lead_id seen for this identity)  -> Duplicate: nothing is emitted
    repeat (another lead from the person within the dedup window)
                                -> the earlier lead's pool, its owner preferred, marked repeat
    continuity (the person's owner within the person window, else the company domain's owner
                within the account window)      -> that owner preferred, in a pool they are in
    otherwise                                   -> score, first matching rule's pool (or default)

Owners come from `router.owners` (see `owner_facts`), passed in as a mapping. Nothing here reads
a clock: every window is measured between the lead's `received_at_ms` and times in the records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from services.leads.events import Lead, RequestKind, RoutingRequest, unvalidated
from services.leads.routing_config import RoutingConfig
from services.router.identity_state import IdentityState, SeenLead
from services.router.ownership import OwnerFact, account_subject, person_subject
from services.router.rules import route
from services.router.scoring import score_lead


class TriagePath(StrEnum):
    """How a lead reached its pool: a metric label and the start of the request's reason."""

    NEW = "new"
    REPEAT = "repeat"
    PERSON = "person_owner"
    ACCOUNT = "account_owner"


@dataclass(frozen=True, slots=True)
class Duplicate:
    lead_id: str


@dataclass(frozen=True, slots=True)
class Routed:
    request: RoutingRequest
    state: IdentityState
    path: TriagePath


TriageOutcome = Duplicate | Routed


def assign_request_id(lead_id: str) -> str:
    """Deterministic: one assign request per lead, the same on every replay."""
    return f"{lead_id}:assign"


@dataclass(frozen=True, slots=True)
class _Owner:
    rep_id: str
    pool_id: str
    path: TriagePath
    because: str


def triage(
    config: RoutingConfig,
    state: IdentityState | None,
    owners: Mapping[str, OwnerFact],
    lead: Lead,
    requested_at_ms: int,
) -> TriageOutcome:
    """Decide what to do with `lead`; `requested_at_ms` is the input record's timestamp."""
    memory = state or IdentityState(identity_key=lead.identity_key)
    if memory.has_seen(lead.lead_id):
        return Duplicate(lead.lead_id)
    card = score_lead(config.scoring, lead, config.territories)
    match = route(config, lead, card.total)
    pool_id, rule_id, path = match.pool_id, match.rule_id, TriagePath.NEW
    reason = f"rule {rule_id}" if rule_id else f"no rule matched: default pool {pool_id}"
    preferred: str | None = None

    earlier = _repeat_of(config, memory, lead)
    owner = _owner(config, memory, owners, lead, earlier)
    if earlier is not None:
        path, pool_id, rule_id = TriagePath.REPEAT, earlier.pool_id, earlier.rule_id
        reason = f"repeat of {earlier.lead_id} within the dedup window"
        if owner is not None:
            preferred = owner.rep_id
            if owner.rep_id not in _members(config, pool_id):
                pool_id = owner.pool_id  # the earlier lead was taken by a fallback pool
            reason += f": its owner {owner.rep_id} in pool {pool_id}"
    elif owner is not None:
        path, preferred = owner.path, owner.rep_id
        if owner.rep_id not in _members(config, pool_id):
            pool_id = owner.pool_id  # keep the owner: route into the pool they serve
        reason = f"{owner.because}, in pool {pool_id} ({reason})"
    skills = set(config.pool(pool_id).required_skills)
    if rule_id is not None and rule_id == match.rule_id and pool_id == match.pool_id:
        skills |= set(match.required_skills)
    request = RoutingRequest.trusted(  # the domain's own values, of the declared types
        request_id=assign_request_id(lead.lead_id),
        kind=RequestKind.ASSIGN,
        lead_id=lead.lead_id,
        pool_id=pool_id,
        lead=lead,
        rep_id=None,
        preferred_owner=preferred,
        previous_owners=(),
        required_skills=tuple(sorted(skills)),
        attempt=1,
        rule_id=rule_id,
        score=card.total,
        is_repeat=path is TriagePath.REPEAT,
        reason=f"{reason}; score {card.total}",
        received_at_ms=lead.received_at_ms,
        requested_at_ms=requested_at_ms,
        pools_tried=(),
        prior_candidates=(),
        repeat_of=earlier.lead_id if earlier is not None else None,
        prior_config_version=None,
        prior_presence_position=(),
    )
    seen = unvalidated(  # the lead's own values, of the declared types
        SeenLead,
        {
            "lead_id": lead.lead_id,
            "received_at_ms": lead.received_at_ms,
            "pool_id": pool_id,
            "rule_id": rule_id,
        },
    )
    return Routed(request, memory.remember(seen), path)


def _members(config: RoutingConfig, pool_id: str) -> set[str]:
    return {m.rep for m in config.pool(pool_id).members}


def _repeat_of(config: RoutingConfig, memory: IdentityState, lead: Lead) -> SeenLead | None:
    """The person's latest lead when it is within the dedup window and its pool still exists."""
    latest = memory.latest()
    window = config.continuity.dedup_window_ms
    if latest is None or window <= 0 or not config.has_pool(latest.pool_id):
        return None
    return latest if abs(lead.received_at_ms - latest.received_at_ms) <= window else None


def _owner(
    config: RoutingConfig,
    memory: IdentityState,
    owners: Mapping[str, OwnerFact],
    lead: Lead,
    earlier: SeenLead | None,
) -> _Owner | None:
    """The owner continuity keeps, if any: usable only while they are still in their pool."""
    continuity = config.continuity
    person = owners.get(person_subject(lead.identity_key))
    account = owners.get(account_subject(lead.company_domain)) if lead.company_domain else None
    candidates: list[tuple[OwnerFact | None, int | None, TriagePath, str]] = []
    if earlier is not None and person is not None and memory.has_seen(person.lead_id):
        # the owner of a lead this person sent recently: no window applies
        candidates.append((person, None, TriagePath.REPEAT, "owner of the earlier lead"))
    candidates.append((person, continuity.person_window_ms, TriagePath.PERSON, "person's owner"))
    candidates.append(
        (account, continuity.company_domain_window_ms, TriagePath.ACCOUNT, "account's owner")
    )
    for fact, window, path, label in candidates:
        if fact is None or window == 0 or not config.has_pool(fact.pool_id):
            continue  # a zero window turns that kind of continuity off
        if fact.rep_id not in _members(config, fact.pool_id):
            continue
        if window is not None and not 0 <= lead.received_at_ms - fact.assigned_at_ms <= window:
            continue  # too old, or decided after this lead arrived (a replay sees the future)
        return _Owner(fact.rep_id, fact.pool_id, path, f"{label} {fact.rep_id} from {fact.lead_id}")
    return None
