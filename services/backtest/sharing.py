"""Where the candidate run can take the baseline's decision instead of deciding again.

Both runs put every lead through the same pure code. The code's answer depends only on what
it reads: the config, the person's identity memory, the owner facts of the person's members
and account, the identity graph, and the rotation and holders of each pool it decides in. So
when, for one lead, all of that holds the same values in both runs, the candidate's routing
is the baseline's, and the candidate takes it with the entries it wrote (`Run.adopt`)
instead of running triage and assign a second time.

    per config pair  `apart(in_force, candidate)`: None when they differ beyond what is
                     tracked (reps, scoring, continuity, identity, membership: nothing is
                     shared), else the pools whose assign-time settings differ and whether
                     the rules differ
    per lead         shared when no entry it reads has come apart, none of its pools is an
                     apart pool, and (rules differing) both rule sets send it the same way
    after a lead     decided twice: each entry either run wrote is compared, and marked
                     apart or together again

A candidate that changes one pool decides that pool's leads twice and takes the rest. An
entry wrongly marked apart costs a second decision, never a wrong one; the test of this
module holds the shared backtest to the one that decides everything twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.backtest.pipeline import Found, Routing, Run
from services.leads.events import Lead
from services.leads.routing_config import RoutingConfig, VersionedConfig
from services.router.ownership import account_subject, person_subject
from services.router.rules import route

_ROUTE_FIELDS = frozenset({"rules", "default_pool"})
_IGNORED_FIELDS = frozenset({"description", "pools"})


@dataclass(frozen=True, slots=True)
class Apart:
    """How a config pair differs, when every difference is one sharing can follow."""

    pools: frozenset[str]
    """Pools whose settings differ (weights, strategy, caps, fallback, ...): never shared."""
    routes: bool
    """The rules (or the default pool) differ: a lead is shared only if both send it alike."""


def apart(in_force: RoutingConfig, candidate: RoutingConfig) -> Apart | None:
    """How `candidate` differs from `in_force`, or None when triage itself would read other
    values (reps, scoring, continuity, identity linking, a pool's members or skills)."""
    for name in type(in_force).model_fields:
        if name in _IGNORED_FIELDS or name in _ROUTE_FIELDS:
            continue
        if getattr(in_force, name) != getattr(candidate, name):
            return None
    if [p.id for p in in_force.pools] != [p.id for p in candidate.pools]:
        return None
    pools = set()
    for old, new in zip(in_force.pools, candidate.pools, strict=True):
        if old == new:
            continue
        if {m.rep for m in old.members} != {m.rep for m in new.members}:
            return None  # triage keeps an owner only while they are a member
        if old.required_skills != new.required_skills:
            return None  # triage puts the pool's skills into the request
        pools.add(old.id)
    routes = any(getattr(in_force, n) != getattr(candidate, n) for n in _ROUTE_FIELDS)
    return Apart(frozenset(pools), routes)


@dataclass
class Sharing:
    """The candidate's side of a backtest: which entries have come apart from the baseline."""

    candidate: VersionedConfig
    identities: set[str] = field(default_factory=set)
    """Identity keys whose memory differs."""
    subjects: set[str] = field(default_factory=set)
    """Owner-fact subjects whose fact differs."""
    pools: set[str] = field(default_factory=set)
    """Pools whose rotation, or a lead's holder in them, may differ (once apart, for good)."""
    graph_apart: bool = False
    """A lead was a duplicate in one run only, so its links reached one graph only."""
    shared: int = 0
    """Leads the candidate took from the baseline."""
    _apart: dict[int, Apart | None] = field(default_factory=dict)

    def takes(self, in_force: VersionedConfig, lead: Lead, found: Found, base: Routing) -> bool:
        """Whether the candidate's routing of `lead` is the baseline's `base`."""
        how = self._apart_from(in_force)
        if how is None or self.graph_apart or lead.identity_key in self.identities:
            return False
        if any(p in self.pools or p in how.pools for p in base.pools):
            return False
        subjects = self.subjects
        if subjects:
            if any(person_subject(m) in subjects for m in found[0].members):
                return False
            domain = lead.company_domain
            if domain and account_subject(domain) in subjects:
                return False
        if how.routes and base.assignment is not None:
            config = self.candidate.config
            if route(config, lead, base.score) != route(in_force.config, lead, base.score):
                return False
        return True

    def same_graph(self, in_force: VersionedConfig) -> bool:
        """Whether the candidate's identity graph is the baseline's, linked alike: then a
        lead's person there is the one the baseline found."""
        return self._apart_from(in_force) is not None and not self.graph_apart

    def settle(self, baseline: Run, trial: Run, lead: Lead, base: Routing, own: Routing) -> None:
        """After both runs decided `lead`: mark each entry either wrote apart or together."""
        if (base.assignment is None) != (own.assignment is None):
            self.graph_apart = True  # links are written by routed leads only
        key = lead.identity_key
        _mark(self.identities, key, baseline.identities.get(key) != trial.identities.get(key))
        for subject in {f.subject for f in (*base.facts, *own.facts)}:
            differ = baseline.owners.get(subject) != trial.owners.get(subject)
            _mark(self.subjects, subject, differ)
        lead_id = lead.lead_id
        for pool_id in {*base.pools, *own.pools}:
            if baseline.rotations.get(pool_id) != trial.rotations.get(pool_id) or (
                baseline.holders.get((pool_id, lead_id)) != trial.holders.get((pool_id, lead_id))
            ):
                self.pools.add(pool_id)
        held = baseline.open_in.get(lead_id), trial.open_in.get(lead_id)
        if held[0] != held[1]:
            self.pools.update(p for p in held if p is not None)

    def _apart_from(self, in_force: VersionedConfig) -> Apart | None:
        key = id(in_force)
        if key not in self._apart:
            self._apart[key] = apart(in_force.config, self.candidate.config)
        return self._apart[key]


def _mark(entries: set[str], key: str, differ: bool) -> None:
    if differ:
        entries.add(key)
    else:
        entries.discard(key)
