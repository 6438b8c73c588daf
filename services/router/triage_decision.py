"""Triage, the pure part: one lead and what triage remembers -> a routing request, or nothing.

    exact duplicate (same lead_id seen for this identity)  -> Duplicate: nothing is emitted
    repeat (another lead from the person within the dedup window)
                                -> the earlier lead's pool, its owner preferred, marked repeat
    continuity (the person's owner within the person window, else the company domain's owner
                within the account window)      -> that owner preferred, in a pool they are in
    otherwise                                   -> score, first matching rule's pool (or default)

Owners come from `router.owners` (see `owner_facts`), passed in as a mapping. The person is
the lead's identifiers joined by the identity graph (`identity_graph.Person`); continuity looks
at the owner facts of every member and keeps the earliest usable one (the earlier owner wins a
merge), and the reason names the link that joined the owning identifier to the lead. Exact
duplicates are found in the memory of the lead's own identity key (a redelivery has the same
key); repeats there first, else among the owner facts of the person's other members (a lead
of theirs assigned within the dedup window). A lead whose person is its identity key alone is
decided exactly as before the graph. Nothing here reads a clock: every window is measured
between the lead's `received_at_ms` and times in the records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from services.leads.events import Lead, RequestKind, RoutingRequest, unvalidated
from services.leads.routing_config import RoutingConfig
from services.router.identity_graph import Person
from services.router.identity_state import IdentityState, SeenLead
from services.router.ownership import (
    PERSON_PREFIX,
    OwnerFact,
    account_subject,
    person_subject,
)
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
    *,
    person: Person | None = None,
) -> TriageOutcome:
    """Decide what to do with `lead`; `requested_at_ms` is the input record's timestamp;
    `person` the lead's person (None: its identity key alone)."""
    memory = state or IdentityState(identity_key=lead.identity_key)
    person = person or Person.alone(lead.identity_key)
    if memory.has_seen(lead.lead_id):
        return Duplicate(lead.lead_id)
    card = score_lead(config.scoring, lead, config.territories)
    match = route(config, lead, card.total)
    pool_id, rule_id, path = match.pool_id, match.rule_id, TriagePath.NEW
    reason = f"rule {rule_id}" if rule_id else f"no rule matched: default pool {pool_id}"
    preferred: str | None = None

    earlier, via = _repeat_of(config, memory, lead), ""
    if earlier is None and len(person.members) > 1:
        earlier, via = _linked_repeat(config, owners, lead, person)
    owner = _owner(config, memory, owners, lead, earlier, person=person)
    if earlier is not None:
        path, pool_id, rule_id = TriagePath.REPEAT, earlier.pool_id, earlier.rule_id
        reason = f"repeat of {earlier.lead_id} within the dedup window{via}"
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
        reason=f"{reason}{_person_note(person, owner)}; score {card.total}",
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


def _linked_repeat(
    config: RoutingConfig, owners: Mapping[str, OwnerFact], lead: Lead, person: Person
) -> tuple[SeenLead | None, str]:
    """A repeat across identifiers: the latest lead of another member of the person assigned
    within the dedup window before this one (from its owner fact, so measured from its
    assignment), and the link that joined it; (None, "") when there is none."""
    window = config.continuity.dedup_window_ms
    if window <= 0:
        return None, ""
    found = [
        fact
        for fact in _person_facts(owners, person)
        if fact.subject != person_subject(lead.identity_key)
        and 0 <= lead.received_at_ms - fact.assigned_at_ms <= window
        and config.has_pool(fact.pool_id)
    ]
    if not found:
        return None, ""
    fact = found[-1]  # earliest first: the last is the latest
    seen = unvalidated(
        SeenLead,
        {
            "lead_id": fact.lead_id,
            "received_at_ms": fact.assigned_at_ms,
            "pool_id": fact.pool_id,
            "rule_id": None,
        },
    )
    joined = person.joined.get(fact.subject.removeprefix(PERSON_PREFIX))
    return seen, "" if joined is None else f" (via {joined.explain()})"


def _owner(
    config: RoutingConfig,
    memory: IdentityState,
    owners: Mapping[str, OwnerFact],
    lead: Lead,
    earlier: SeenLead | None,
    *,
    person: Person,
) -> _Owner | None:
    """The owner continuity keeps, if any: usable only while they are still in their pool.
    Of the person's owner facts, the earliest usable one wins."""
    continuity = config.continuity
    facts = _person_facts(owners, person)
    account = owners.get(account_subject(lead.company_domain)) if lead.company_domain else None
    candidates: list[tuple[OwnerFact | None, int | None, TriagePath, str]] = []
    if earlier is not None:
        # the owner of a lead this person sent recently: no window applies
        for seen in facts:
            if memory.has_seen(seen.lead_id):
                candidates.append((seen, None, TriagePath.REPEAT, "owner of the earlier lead"))
    for known in facts:
        candidates.append((known, continuity.person_window_ms, TriagePath.PERSON, "person's owner"))
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
        because = f"{label} {fact.rep_id} from {fact.lead_id}"
        joined = person.joined.get(fact.subject.removeprefix(PERSON_PREFIX))
        if joined is not None and path is not TriagePath.ACCOUNT:
            because += f" (via {joined.explain()})"
        return _Owner(fact.rep_id, fact.pool_id, path, because)
    return None


def _person_facts(owners: Mapping[str, OwnerFact], person: Person) -> list[OwnerFact]:
    """The owner facts of the person's members, earliest first (time, then lead id)."""
    if len(person.members) == 1:
        fact = owners.get(person_subject(person.members[0]))
        return [] if fact is None else [fact]
    found = [owners.get(person_subject(member)) for member in person.members]
    return sorted((f for f in found if f is not None), key=lambda f: (f.assigned_at_ms, f.lead_id))


def _person_note(person: Person, owner: _Owner | None) -> str:
    """What the reason says about the identity graph: nothing for a lead alone."""
    note = ""
    if person.joined and (owner is None or "(via " not in owner.because):
        links = "; ".join(j.explain() for j in list(person.joined.values())[:3])
        note += f"; person {person.canonical}: {links}"
    if person.guarded:
        note += f"; not linked: {'; '.join(g.why for g in person.guarded[:3])}"
    return note
