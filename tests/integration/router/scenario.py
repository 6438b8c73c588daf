"""A routing scenario the assign integration tests drive through a real router process.

Three pools with mixed weights and strategies, one with a fallback pool, reps with caps and
working hours, presence changes at fixed event times, releases interleaved with assigns, and
a second config version that re-weights one pool. `expected(...)` runs the same requests
through the pure decision code, pool by pool in log order, which is what the router must match.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import yaml

from services.leads.events import (
    Assignment,
    Channel,
    Lead,
    Outcome,
    PresenceStatus,
    RepPresence,
    RequestKind,
    RoutingRequest,
)
from services.leads.routing_config import VersionedConfig, parse_routing_config
from services.router.decisions import Decided, FallBack, Origin, decide
from services.router.presence import PresenceBook, PresenceView
from services.router.rotation import RotationState

T0 = 1_763_978_400_000  # Mon 2025-11-24 10:00 UTC
STEP_MS = 60_000  # one request a minute of event time: the stream spans days (daily caps)
MINUTE = 60_000
POOLS = ("emea", "amer", "apac")

DOCUMENT = {
    "reps": [
        {"id": "ann", "name": "Ann", "email": "ann@example.com"},
        {"id": "bob", "name": "Bob", "email": "bob@example.com", "daily_cap": 60},
        {
            "id": "cat",
            "name": "Cat",
            "email": "cat@example.com",
            "time_zone": "Europe/Berlin",
            "working_hours": {d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")},
        },
        {"id": "dan", "name": "Dan", "email": "dan@example.com", "max_open": 25},
        {"id": "eve", "name": "Eve", "email": "eve@example.com"},
        {"id": "fay", "name": "Fay", "email": "fay@example.com"},
        {"id": "gus", "name": "Gus", "email": "gus@example.com"},
        {"id": "hal", "name": "Hal", "email": "hal@example.com"},
    ],
    "pools": [
        {
            "id": "emea",
            "strategy": "weighted",
            "fairness": "catch_up",
            "members": [
                {"rep": "ann", "weight": 3},
                {"rep": "bob", "weight": 2},
                {"rep": "cat", "weight": 1},
            ],
        },
        {
            "id": "amer",
            "strategy": "least_loaded",
            "members": [{"rep": "dan", "weight": 1}, {"rep": "eve", "weight": 4}],
        },
        {
            "id": "apac",
            "strategy": "round_robin",
            "fairness": "pro_rata",
            "fallback": "overflow",
            "members": [{"rep": "fay"}, {"rep": "gus"}],
        },
        {"id": "overflow", "members": [{"rep": "hal"}]},
    ],
    "default_pool": "emea",
}


def document(version: int) -> str:
    """Version 2 re-weights emea; every other pool is the same in both versions."""
    doc = yaml.safe_load(yaml.safe_dump(DOCUMENT))
    if version == 2:
        doc["pools"][0]["members"] = [
            {"rep": "ann", "weight": 1},
            {"rep": "bob", "weight": 1},
            {"rep": "cat", "weight": 2},
        ]
    text: str = yaml.safe_dump(doc, sort_keys=False)
    return text


def presence_changes(count: int) -> list[RepPresence]:
    """Absences at fixed event times: apac empties twice (fallbacks), hal once (unassigned)."""
    span = count * STEP_MS

    def at(fraction: float) -> int:
        return T0 + int(span * fraction)

    away, offline, available = PresenceStatus.AWAY, PresenceStatus.OFFLINE, PresenceStatus.AVAILABLE
    changes = [
        ("ann", away, at(0.10), at(0.25)),  # lapses by itself: emea catch-up afterwards
        ("eve", offline, at(0.30), None),
        ("eve", available, at(0.45), None),
        ("fay", offline, at(0.20), None),
        ("gus", away, at(0.20), at(0.30)),
        ("fay", available, at(0.32), None),
        ("hal", offline, at(0.26), None),
        ("hal", available, at(0.29), None),
        ("fay", away, at(0.70), at(0.75)),
        ("gus", offline, at(0.70), None),
        ("gus", available, at(0.76), None),
    ]
    return [RepPresence(rep_id=r, status=s, changed_at_ms=t, until_ms=u) for r, s, t, u in changes]


def make_lead(i: int) -> Lead:
    return Lead(
        lead_id=f"lead-{i:05d}",
        identity_key=f"person-{i % 997}@example.com",
        channel=Channel.FORM,
        source="form:contact",
        source_message_id=f"msg-{i}",
        received_at_ms=T0 + i * STEP_MS,
        email=f"person-{i % 997}@example.com",
        company_domain=f"company-{i % 113}.example",
    )


def requests(count: int, seed: int = 7) -> list[RoutingRequest]:
    """`count` assigns over the three pools, and a release for most leads a few steps later."""
    rng = random.Random(seed)
    out: list[RoutingRequest] = []
    pending: list[tuple[int, RoutingRequest]] = []
    for i in range(count):
        at = T0 + i * STEP_MS
        pool = POOLS[rng.randrange(3)]
        lead = make_lead(i)
        out.append(
            RoutingRequest(
                request_id=f"req-{lead.lead_id}",
                kind=RequestKind.ASSIGN,
                lead_id=lead.lead_id,
                pool_id=pool,
                lead=lead,
                reason="scenario",
                received_at_ms=lead.received_at_ms,
                requested_at_ms=at,
            )
        )
        if pool != "apac" and rng.random() < 0.8:  # apac leads may have moved to overflow
            release_at = i + rng.randint(3, 40)
            pending.append((release_at, _release(lead.lead_id, pool, T0 + release_at * STEP_MS)))
        out += [r for due, r in pending if due == i]
        pending = [(due, r) for due, r in pending if due != i]
    return out


def _release(lead_id: str, pool: str, at: int) -> RoutingRequest:
    return RoutingRequest(
        request_id=f"rel-{lead_id}",
        kind=RequestKind.RELEASE,
        lead_id=lead_id,
        pool_id=pool,
        reason="closed",
        received_at_ms=at,
        requested_at_ms=at,
    )


@dataclass(frozen=True)
class Expected:
    assigned_per_rep: Counter[str]
    unassigned: int
    released: int
    states: dict[str, RotationState]
    open_leads: dict[tuple[str, str], str]
    """(pool, lead) -> the rep holding it."""


def expected(
    stream: list[RoutingRequest],
    presence: list[RepPresence],
    version_of: dict[str, int],
) -> Expected:
    """Decide `stream` with the pure code, pool by pool in log order, fallbacks queued behind.

    `version_of` maps a request id to the config version its recorded decision used (emea's
    weights differ between versions; the switch point is the router's, between batches).
    """
    configs = {
        v: VersionedConfig(v, f"v{v}", parse_routing_config(yaml.safe_load(document(v))))
        for v in (1, 2)
    }
    view = PresenceView(PresenceBook(presence).status_at)
    states: dict[str, RotationState] = {}
    holders: dict[tuple[str, str], str] = {}
    per_rep: Counter[str] = Counter()
    unassigned = released = 0
    origin = Origin("routing.requests", 0, 0, 0)
    queue = list(stream)
    overflow: list[RoutingRequest] = []
    while queue or overflow:
        request = queue.pop(0) if queue else overflow.pop(0)
        config = configs[version_of.get(request.request_id, 1)]
        state = states.get(request.pool_id) or RotationState.empty(request.pool_id)
        lead = (request.pool_id, request.lead_id)
        decision = decide(config, state, view, request, origin, holder=holders.get(lead))
        states[request.pool_id] = decision.state
        if decision.holder is None:
            holders.pop(lead, None)
        else:
            holders[lead] = decision.holder
        if isinstance(decision, FallBack):
            overflow.append(decision.request)
            continue
        assert isinstance(decision, Decided)
        outcome = decision.assignment.outcome
        if outcome is Outcome.ASSIGNED and decision.assignment.rep_id:
            per_rep[decision.assignment.rep_id] += 1
        unassigned += outcome is Outcome.UNASSIGNED
        released += outcome is Outcome.RELEASED
    return Expected(per_rep, unassigned, released, states, holders)


def tally(assignments: list[Assignment]) -> tuple[Counter[str], int, int]:
    per_rep: Counter[str] = Counter()
    for a in assignments:
        if a.outcome is Outcome.ASSIGNED and a.rep_id:
            per_rep[a.rep_id] += 1
    unassigned = sum(a.outcome is Outcome.UNASSIGNED for a in assignments)
    released = sum(a.outcome is Outcome.RELEASED for a in assignments)
    return per_rep, unassigned, released
