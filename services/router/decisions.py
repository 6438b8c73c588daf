"""One pool's decision on one routing request: pure, from (config, state, presence, request).

A decision is a function of what the router had *read*, and says so: its outputs record the
config version and the `reps.presence` position it decided with (the trace of an Assignment, or
the `prior_*` fields of a fallback request), so replay can decide it again from the same inputs.

    release            -> Decided(released): the lead's capacity is freed (idempotent)
    assign / reassign  -> eligibility -> the pool's strategy
        somebody picked   -> Decided(assigned)
        nobody eligible   -> FallBack(a request for the pool's fallback pool), or, when the
                             chain is spent, Decided(unassigned, routed to the fallback queue)
        pool paused       -> the same as nobody eligible, without asking eligibility: the
                             pool's presence (`presence.pool_key`) is not available

Assign is keyed by pool, and a fallback pool may live on another partition, so a fallback is
never decided here: it goes back to `routing.requests` keyed by the fallback pool, carrying the
pools tried and the candidates they skipped, and that pool's decision emits the one Assignment
with the whole trace. A pool already tried ends the chain, so it always terminates.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.leads.events import (
    Assignment,
    Candidate,
    DecisionTrace,
    OperatorAct,
    Outcome,
    PresenceStatus,
    RequestKind,
    RoutingRequest,
)
from services.leads.routing_config import Pool, VersionedConfig
from services.router.eligibility import Ask, Verdict, assess, verdict
from services.router.fairness import FairnessPolicy
from services.router.presence import PresenceView, pool_key
from services.router.rotation import RotationState
from services.router.strategies import Picked, PickRequest, Strategy, StrategyKind


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the request was read, and when it was appended: the decision's time."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class Decided:
    assignment: Assignment
    state: RotationState
    holder: str | None
    """Who holds the lead open in this pool afterwards (None: nobody)."""
    verdicts: tuple[Verdict, ...] = ()


@dataclass(frozen=True, slots=True)
class FallBack:
    request: RoutingRequest
    state: RotationState
    verdicts: tuple[Verdict, ...] = ()

    @property
    def holder(self) -> str | None:
        return None


Decision = Decided | FallBack


def assignment_id(request: RoutingRequest) -> str:
    """Deterministic; one per request (a fallback chain keeps its request id)."""
    return f"asg:{request.request_id}"


def strategy_of(pool: Pool) -> Strategy:
    """The pool's strategy, made once per pool object of a config (an immutable value), with
    the pool's members lined up as `assess` gives their verdicts."""
    known = _strategies.get(id(pool))
    if known is not None and known[0] is pool:  # the pool itself, not one that reused its id
        return known[1]
    strategy = Strategy(
        StrategyKind(pool.strategy.value),
        FairnessPolicy(pool.fairness.value),
        pool.catch_up_limit,
    ).lined_up((m.rep, m.weight) for m in pool.members)  # as `assess` orders its verdicts
    if len(_strategies) >= _STRATEGIES_KEPT:
        _strategies.clear()  # configs come and go: never hold on to every pool ever seen
    _strategies[id(pool)] = (pool, strategy)
    return strategy


_strategies: dict[int, tuple[Pool, Strategy]] = {}
"""Per pool object: a backtest decides under two configs whose pools share their ids."""
_STRATEGIES_KEPT = 20_000


def prefer_repeat_owner(request: RoutingRequest, earlier_holder: str | None) -> RoutingRequest:
    """A repeat prefers whoever holds the lead it repeats open in this pool (`earlier_holder`).

    Triage learns owners from `router.owners`, which lags assign by a commit, so a quick repeat
    (a double-submitted form) can reach triage before the fact it needs. The repeat is routed
    to the earlier lead's pool, so that lead's open record is in the same pool's state.
    """
    if request.preferred_owner is not None or request.repeat_of is None or earlier_holder is None:
        return request
    return request.model_copy(update={"preferred_owner": earlier_holder})


def decide(
    versioned: VersionedConfig,
    state: RotationState,
    presence: PresenceView,
    request: RoutingRequest,
    origin: Origin,
    *,
    holder: str | None = None,
    operator: OperatorAct | None = None,
) -> Decision:
    """Decide `request` in its pool; `holder` is who holds the lead open there now, if anyone.
    `operator` (`OPERATOR_HEADER`): the request is an operator's, and its reason is named in
    the assignment's; on an override, `preferred_owner`, when a member, is picked whatever its
    verdict or the pool's pause, and charged as any pick."""
    config = versioned.config
    out = _Emitter(versioned, request, origin, presence.position)
    if request.kind is RequestKind.RELEASE:
        return _release(out, state, holder)
    if not config.has_pool(request.pool_id):
        reason = f"pool {request.pool_id!r} is not in routing config version {versioned.version}"
        return Decided(out.unassigned(None, (), reason), state, holder)
    pool = config.pool(request.pool_id)
    if request.kind is RequestKind.ASSIGN and holder is not None:
        reason = f"already assigned to {holder} in pool {pool.id}: a repeated request"
        return Decided(out.assigned(pool, (), holder, reason), state, holder)
    excluded = set(request.previous_owners)
    if request.kind is RequestKind.REASSIGN:
        if holder is not None:
            state = state.release(holder)
            excluded.add(holder)
        excluded |= {request.rep_id} if request.rep_id else set()
    paused = presence.status_at(pool_key(pool.id), request.requested_at_ms)[0] is not _AVAILABLE
    override = operator is OperatorAct.OVERRIDE
    if paused and not override:
        return _paused(out, pool, state, excluded)
    ask = Ask(
        at_ms=request.requested_at_ms,
        required_skills=frozenset(s.strip().lower() for s in request.required_skills),
        language=request.lead.language if request.lead else None,
        excluded=frozenset(excluded),
    )
    verdicts = assess(config, pool, state, presence.status_at, ask)
    overridden = None
    if override and request.preferred_owner is not None:
        verdicts, overridden = _forced(verdicts, request.preferred_owner)
    pick = PickRequest(request.lead_id, request.preferred_owner)
    decision, new_state = strategy_of(pool)(state, verdicts, pick)  # a verdict is a contender
    candidates = (*request.prior_candidates, *_candidates(pool, verdicts, dict(decision.credits)))
    if overridden is not None:
        candidates = _marked(candidates, pool.id, request.preferred_owner, overridden)
    if isinstance(decision, Picked):
        if not decision.by_preference:
            why = f"{pool.strategy.value} turn"
        elif operator is None and request.reason:
            why = f"preferred owner: {request.reason}"  # triage's why: the continuity it kept
        else:
            why = "preferred owner"
        if overridden is not None:
            why = f"override by {request.reason}"
        elif operator is not None:
            why = f"{why}; manual: {request.reason}"
        reason = f"assigned to {decision.rep_id} in pool {pool.id} ({why})"
        assignment = out.assigned(pool, candidates, decision.rep_id, reason)
        return Decided(assignment, new_state, decision.rep_id, verdicts)
    onward = out.onward(pool, candidates, excluded, "nobody eligible")
    if onward is not None:
        return FallBack(onward, state, verdicts)
    reason = f"nobody eligible in pools {', '.join(out.tried)}: {_skip_summary(candidates)}"
    return Decided(out.unassigned(pool, candidates, reason), state, None, verdicts)


_AVAILABLE = PresenceStatus.AVAILABLE


def _paused(out: _Emitter, pool: Pool, state: RotationState, excluded: set[str]) -> Decision:
    """A paused pool decides nothing: every member is skipped as `pool_paused`, and the lead
    goes on as when nobody is eligible (the fallback pool, else the fallback queue)."""
    request, config = out.request, out.versioned.config
    skip = f"pool_paused: pool {pool.id} is paused"
    mine = tuple(
        Candidate.trusted(rep_id=m.rep, pool_id=pool.id, skip_reason=skip, credit=None)
        for m in pool.members
    )
    candidates = (*request.prior_candidates, *mine)
    onward = out.onward(pool, candidates, excluded, "paused")
    if onward is not None:
        return FallBack(onward, state)
    reason = f"pool {pool.id} is paused: waiting in the fallback queue {config.fallback_queue}"
    return Decided(out.unassigned(pool, candidates, reason), state, None)


def _forced(verdicts: tuple[Verdict, ...], rep_id: str) -> tuple[tuple[Verdict, ...], str | None]:
    """`verdicts` with `rep_id`'s made eligible, and what its own verdict said (None: not a
    member, nothing forced)."""
    for i, v in enumerate(verdicts):
        if v.rep_id == rep_id:
            was = v.explain() or "eligible"
            return (*verdicts[:i], verdict(v.rep_id, v.weight, v.day), *verdicts[i + 1 :]), was
    return verdicts, None


def _marked(
    candidates: tuple[Candidate, ...], pool_id: str, rep_id: str | None, was: str
) -> tuple[Candidate, ...]:
    """The trace's line for the overridden rep says so, and what eligibility had said."""
    return tuple(
        c.model_copy(update={"skip_reason": f"override: {was}"})
        if (c.pool_id, c.rep_id) == (pool_id, rep_id)
        else c
        for c in candidates
    )


def _release(out: _Emitter, state: RotationState, owner: str | None) -> Decided:
    pool_id = out.request.pool_id
    new_state = state if owner is None else state.release(owner)
    if owner is None:
        reason = f"lead was not open in pool {pool_id}: nothing to free"
    else:
        reason = f"released: {owner} has one fewer open lead in pool {pool_id}"
    config = out.versioned.config
    pool = config.pool(pool_id) if config.has_pool(pool_id) else None
    rep = owner or out.request.rep_id
    trace = out.trace(pool, (), owner)
    return Decided(out.assignment(pool_id, rep, reason, trace, Outcome.RELEASED), new_state, None)


_made: dict[tuple[str, str, str | None, float | None], Candidate] = {}
"""Candidates already made: immutable values, and most repeat from one decision to the next
(an eligible member's line differs only by its credit, which takes few values)."""
_MADE_KEPT = 100_000


def _candidates(
    pool: Pool, verdicts: tuple[Verdict, ...], credits: dict[str, int]
) -> tuple[Candidate, ...]:
    """The trace's candidates, in member order. Built unvalidated (the values are the
    domain's own, of the declared types) and kept: one model per member per decision was a
    tenth of the decision."""
    if len(_made) > _MADE_KEPT:
        _made.clear()
    pool_id, made, trusted = pool.id, [], Candidate.trusted
    for v in verdicts:
        credit = credits.get(v.rep_id)
        key = (v.rep_id, pool_id, v.explain(), None if credit is None else float(credit))
        candidate = _made.get(key)
        if candidate is None:
            candidate = _made[key] = trusted(
                rep_id=key[0], pool_id=pool_id, skip_reason=key[2], credit=key[3]
            )
        made.append(candidate)
    return tuple(made)


@dataclass(frozen=True, slots=True)
class _Emitter:
    """Builds the Assignment and its trace for one request."""

    versioned: VersionedConfig
    request: RoutingRequest
    origin: Origin
    presence_position: tuple[int, ...]

    @property
    def tried(self) -> tuple[str, ...]:
        return (*self.request.pools_tried, self.request.pool_id)

    def onward(
        self, pool: Pool, candidates: tuple[Candidate, ...], excluded: set[str], why: str
    ) -> RoutingRequest | None:
        """The request for `pool`'s fallback pool, carrying what was tried; None when the
        chain is spent (no fallback, one already tried, or one the config lacks)."""
        request, config = self.request, self.versioned.config
        fallback = pool.fallback
        if fallback is None or fallback in self.tried or not config.has_pool(fallback):
            return None
        return request.model_copy(
            update={
                "pool_id": fallback,
                "pools_tried": self.tried,
                "prior_candidates": candidates,
                "previous_owners": (
                    *request.previous_owners,
                    *sorted(excluded - set(request.previous_owners)),
                ),
                "reason": f"fallback from pool {pool.id}: {why}",
                "prior_config_version": self.versioned.version,
                "prior_presence_position": self.presence_position,
            }
        )

    def assigned(
        self, pool: Pool, candidates: tuple[Candidate, ...], rep_id: str, reason: str
    ) -> Assignment:
        trace = self.trace(pool, candidates, rep_id)
        return self.assignment(pool.id, rep_id, reason, trace, Outcome.ASSIGNED)

    def unassigned(
        self, pool: Pool | None, candidates: tuple[Candidate, ...], reason: str
    ) -> Assignment:
        trace = self.trace(pool, candidates, None)
        queue = self.versioned.config.fallback_queue
        return self.assignment(queue, None, reason, trace, Outcome.UNASSIGNED)

    def assignment(
        self,
        pool_id: str,
        rep_id: str | None,
        reason: str,
        trace: DecisionTrace,
        outcome: Outcome,
    ) -> Assignment:
        request = self.request
        return Assignment.trusted(  # of the domain's own values: not validated again
            assignment_id=assignment_id(request),
            lead_id=request.lead_id,
            kind=request.kind,
            outcome=outcome,
            pool_id=pool_id,
            requested_pool_id=self.tried[0],
            rep_id=rep_id,
            reason=reason,
            attempt=request.attempt,
            previous_owners=request.previous_owners,
            is_repeat=request.is_repeat,
            received_at_ms=request.received_at_ms,
            decided_at_ms=self.origin.timestamp_ms,
            lead=request.lead,
            trace=trace,
        )

    def trace(
        self, pool: Pool | None, candidates: tuple[Candidate, ...], chosen: str | None
    ) -> DecisionTrace:
        return DecisionTrace.trusted(
            config_version=self.versioned.version,
            config_hash=self.versioned.content_hash,
            rule_id=self.request.rule_id,
            score=self.request.score,
            strategy=pool.strategy.value if pool else "",
            fairness_policy=pool.fairness.value if pool else "",
            pools_tried=self.tried,
            candidates=candidates,
            chosen_rep=chosen,
            input_topic=self.origin.topic,
            input_partition=self.origin.partition,
            input_offset=self.origin.offset,
            presence_position=self.presence_position,
        )


def _skip_summary(candidates: tuple[Candidate, ...]) -> str:
    """`3 away, 1 max_open`: the reasons nobody could take the lead, most common first."""
    counts: dict[str, int] = {}
    for candidate in candidates:
        code = (candidate.skip_reason or "eligible").split(":")[0]
        counts[code] = counts.get(code, 0) + 1
    if not counts:
        return "the pools have no members"
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{n} {code}" for code, n in ordered)
