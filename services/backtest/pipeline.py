"""One backtest run: leads through triage and assign in process, the services' own pure code.

    lead, at_ms -> identity_graph.person_and_changes (the lead's person, and the links it adds)
                -> triage_decision.triage (identity memory, owners, config in force at at_ms)
                -> decisions.decide in the request's pool, then in each fallback pool it
                   passes on to, until an Assignment (assigned or unassigned)

State is what the two services keep, held here as values in dicts: each person's identity
memory, the identity graph's records, owner facts, each pool's rotation state and who holds
each lead open. A run starts
from empty state, or forks another's. It differs from the live router in what the loop adds
around the code: owner facts and identity links reach triage at once (live, a commit later),
there are no SLA
reassignments (a closed lead is released, as the watcher would), and every decision sees
presence as of its lead's time.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from services.leads.events import Assignment, Lead, RoutingRequest
from services.leads.routing_config import VersionedConfig
from services.router.decisions import Decided, Origin, decide, prefer_repeat_owner
from services.router.identity_graph import IdentityLinks, Person, person_and_changes, sighting
from services.router.identity_state import IdentityState
from services.router.ownership import OwnerFact, assignment_owner_facts
from services.router.presence import PresenceView
from services.router.rotation import RotationState
from services.router.triage_decision import Duplicate, triage

K = TypeVar("K")
V = TypeVar("V")
Found = tuple[Person, dict[str, IdentityLinks]]
"""A lead's person, and the identity-graph records the lead changes."""

ORIGIN_TOPIC = "backtest"
"""The `input_topic` the run's decision traces name: they were read from no topic."""


@dataclass(frozen=True, slots=True)
class Routing:
    """What one run did with one lead: `assignment` None for a duplicate it dropped."""

    lead_id: str
    rule_id: str | None
    requested_pool: str
    assignment: Assignment | None
    score: int = 0
    pools: tuple[str, ...] = ()
    """The pools that decided it, in order (a fallback chain): their rotations it moved."""
    facts: tuple[OwnerFact, ...] = ()
    """The owner facts it taught the run."""

    @property
    def placed(self) -> tuple[str, str | None, str]:
        """(pool, rep, outcome): what a person compares between two runs."""
        a = self.assignment
        return ("", None, "duplicate") if a is None else (a.pool_id, a.rep_id, a.outcome.value)


@dataclass
class Run:
    """State of one run; `config_at` gives the config in force at a time."""

    config_at: Callable[[int], VersionedConfig]
    identities: dict[str, IdentityState] = field(default_factory=dict)
    owners: dict[str, OwnerFact] = field(default_factory=dict)
    rotations: dict[str, RotationState] = field(default_factory=dict)
    holders: dict[tuple[str, str], str] = field(default_factory=dict)
    decided: int = 0
    open_in: dict[str, str] = field(default_factory=dict)
    """Lead id -> the pool it is held open in (one at a time: a fallback holds nothing)."""
    links: dict[str, IdentityLinks] = field(default_factory=dict)
    """The identity graph: each identifier's record, as on router.identity-links."""

    def fork(self, config_at: Callable[[int], VersionedConfig]) -> Run:
        """A run that goes on from this one's state under other configs (state is values)."""
        return Run(config_at, dict(self.identities), dict(self.owners), dict(self.rotations),
                   dict(self.holders), self.decided, dict(self.open_in),
                   dict(self.links))  # fmt: skip

    def close(self, lead_id: str) -> None:
        """The lead was closed: its owner has one fewer open lead (the watcher's release)."""
        pool_id = self.open_in.pop(lead_id, None)
        if pool_id is None:
            return
        rep_id = self.holders.pop((pool_id, lead_id))
        self.rotations[pool_id] = self.rotations[pool_id].release(rep_id)

    def find(self, lead: Lead, at_ms: int) -> Found:
        """The lead's person in this run's identity graph, and the records the lead changes."""
        return person_and_changes(
            self.config_at(at_ms).config.identity, lead, self.links.get, sighting(lead)
        )

    def route(
        self, lead: Lead, at_ms: int, presence: PresenceView, found: Found | None = None
    ) -> Routing:
        """Triage then assign `lead` as if its record had been appended at `at_ms`; `found`:
        `find`'s answer when the caller has it already."""
        versioned = self.config_at(at_ms)
        person, changes = found or self.find(lead, at_ms)
        memory = self.identities.get(lead.identity_key)
        outcome = triage(versioned.config, memory, self.owners, lead, at_ms, person=person)
        if isinstance(outcome, Duplicate):
            return Routing(lead.lead_id, None, "", None)
        self.identities[lead.identity_key] = outcome.state
        self.links.update(changes)
        first = outcome.request
        pools: list[str] = []
        assignment = self._assign(versioned, first, presence, pools)
        facts = assignment_owner_facts(assignment)
        for fact in facts:
            self.owners[fact.subject] = fact
        return Routing(lead.lead_id, first.rule_id, first.pool_id, assignment, first.score,
                       tuple(pools), facts)  # fmt: skip

    def adopt(self, other: Run, lead: Lead, routing: Routing, found: Found) -> None:
        """Take `other`'s `routing` of `lead` as this run's own, writing what it wrote. Sound
        only where every entry the decision read holds the same value in both runs (`sharing`
        says where): the same pure code on the same values would have done the same."""
        if routing.assignment is None:
            return  # a duplicate writes nothing
        lead_id = lead.lead_id
        self.identities[lead.identity_key] = other.identities[lead.identity_key]
        self.links.update(found[1])
        for pool_id in routing.pools:
            self.rotations[pool_id] = other.rotations[pool_id]
            _copy_entry(other.holders, self.holders, (pool_id, lead_id))
        _copy_entry(other.open_in, self.open_in, lead_id)
        for fact in routing.facts:
            self.owners[fact.subject] = fact
        self.decided += len(routing.pools)

    def _assign(
        self,
        versioned: VersionedConfig,
        request: RoutingRequest,
        presence: PresenceView,
        pools: list[str],
    ) -> Assignment:
        while True:  # a fallback chain ends: a pool already tried is never tried again
            self.decided += 1
            pool_id = request.pool_id
            pools.append(pool_id)
            if request.repeat_of is not None:
                earlier = self.holders.get((pool_id, request.repeat_of))
                request = prefer_repeat_owner(request, earlier)
            state = self.rotations.get(pool_id) or RotationState.empty(pool_id)
            lead_key = (pool_id, request.lead_id)
            origin = Origin(ORIGIN_TOPIC, 0, self.decided, request.requested_at_ms)
            decision = decide(
                versioned, state, presence, request, origin, holder=self.holders.get(lead_key)
            )
            self.rotations[pool_id] = decision.state
            if decision.holder is None:
                if self.holders.pop(lead_key, None) is not None:
                    self.open_in.pop(request.lead_id, None)
            else:
                self.holders[lead_key] = decision.holder
                self.open_in[request.lead_id] = pool_id
            if isinstance(decision, Decided):
                return decision.assignment
            request = decision.request


def _copy_entry(source: dict[K, V], target: dict[K, V], key: K) -> None:
    """`target[key]` as `source` has it, absent included."""
    if key in source:
        target[key] = source[key]
    else:
        target.pop(key, None)


def fixed(versioned: VersionedConfig) -> Callable[[int], VersionedConfig]:
    """The candidate's `config_at`: one config at every time."""
    return lambda _at_ms: versioned


class ConfigTimeline:
    """The configs in force over time, from `routing.config`'s history.

    The router follows the newest valid version, so at `t` the one in force is the newest
    published at or before `t`. A lead older than every version is routed with the oldest
    (the router had none then: it would not have run); `predates` tells which those are.
    """

    def __init__(self, published: Mapping[int, tuple[int, VersionedConfig]]) -> None:
        """`published`: version -> (published_at_ms, config)."""
        if not published:
            raise ValueError("no routing config version is published: nothing to compare with")
        ordered = sorted(published.items())
        self._starts = [max(at for _, (at, _c) in ordered[: i + 1]) for i in range(len(ordered))]
        self._configs = [config for _, (_at, config) in ordered]

    def __call__(self, at_ms: int) -> VersionedConfig:
        return self._configs[max(0, bisect_right(self._starts, at_ms) - 1)]

    def predates(self, at_ms: int) -> bool:
        """Whether `at_ms` is before the first version was published."""
        return at_ms < self._starts[0]

    @property
    def newest(self) -> VersionedConfig:
        return self._configs[-1]

    @property
    def versions(self) -> list[int]:
        return [c.version for c in self._configs]
