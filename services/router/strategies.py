"""Assignment strategies: pure functions `(state, contenders, request) -> (decision, new state)`.

- `round_robin`: smooth weighted round robin with every weight 1.
- `weighted`: smooth weighted round robin with the members' weights. With constant eligibility,
  after any n decisions every member's count is within 1 of n * weight / total weight.
- `least_loaded`: fewest open leads in the pool; ties by the standard tie-break.

Every strategy keeps the round-robin credits (see `fairness`), so "furthest below target" means
the same thing everywhere and switching a pool's strategy keeps its members' standing. A
preferred owner (continuity) who is eligible wins outright, and is charged like any pick.
Nothing here reads a clock, a random source or a salted hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter

from services.router.fairness import (
    DEFAULT_CATCH_UP_LIMIT,
    Availability,
    FairnessPolicy,
    accrual,
)
from services.router.rotation import MemberStanding, RotationState
from services.router.tie_break import best


class StrategyKind(StrEnum):
    ROUND_ROBIN = "round_robin"
    WEIGHTED = "weighted"
    LEAST_LOADED = "least_loaded"


@dataclass(frozen=True, slots=True)
class Contender:
    """A pool member as the strategy sees it for one request."""

    rep_id: str
    weight: int
    availability: Availability
    day: str = ""
    """The member's local date at the request's time: what its daily count is counted on."""


@dataclass(frozen=True, slots=True)
class PickRequest:
    lead_id: str
    preferred_owner: str | None = None


@dataclass(frozen=True, slots=True)
class Picked:
    rep_id: str
    by_preference: bool
    credits: tuple[tuple[str, int], ...]
    """Every contender's credit after this turn's accrual, before the charge: its standing."""


@dataclass(frozen=True, slots=True)
class NobodyEligible:
    credits: tuple[tuple[str, int], ...]


Decision = Picked | NobodyEligible


@dataclass(frozen=True, slots=True)
class Strategy:
    kind: StrategyKind
    fairness: FairnessPolicy = FairnessPolicy.STRICT
    catch_up_limit: int = DEFAULT_CATCH_UP_LIMIT

    def __call__(
        self, state: RotationState, contenders: Sequence[Contender], request: PickRequest
    ) -> tuple[Decision, RotationState]:
        """Pick one eligible contender, or none; the state is unchanged when nobody is picked.

        Credits are accrued once, in flat lists parallel to the contenders, and the trace's
        credits (`Picked.credits`) are those very values, not a second walk; the pick is one
        `min` over the eligible members' keys (`tie_break.best`).
        """
        ordered = sorted(contenders, key=attrgetter("rep_id"))
        known = state.standings()
        standings = [known.get(c.rep_id) or MemberStanding(rep_id=c.rep_id) for c in ordered]
        round_robin = self.kind is StrategyKind.ROUND_ROBIN
        weights = [1] * len(ordered) if round_robin else [c.weight for c in ordered]
        credits, charge, eligible = self._accrue(ordered, standings, weights)
        shown = tuple(zip([c.rep_id for c in ordered], credits, strict=True))
        if not eligible:
            return NobodyEligible(shown), state
        chosen = self._preferred(ordered, eligible, request.preferred_owner)
        by_preference = chosen is not None
        if chosen is None:
            chosen = best(
                eligible,
                credits=credits,
                weights=weights,
                charge=charge,
                standings=standings,
                least_loaded=self.kind is StrategyKind.LEAST_LOADED,
            )
        members = [  # the constructor inline: a call per member showed in profiles
            s
            if c == s.credit
            else MemberStanding(
                s.rep_id, c, s.assigned, s.last_assigned_seq, s.day, s.day_count, s.open
            )
            for s, c in zip(standings, credits, strict=True)
        ]
        members[chosen] = _charged(
            standings[chosen], credits[chosen], ordered[chosen], charge, state
        )
        new_state = RotationState(state.pool_id, state.decisions + 1, tuple(members))
        return Picked(ordered[chosen].rep_id, by_preference, shown), new_state

    def _accrue(
        self,
        ordered: Sequence[Contender],
        standings: Sequence[MemberStanding],
        weights: Sequence[int],
    ) -> tuple[list[int], int, list[int]]:
        """(every member's credit after accrual, the turn's charge, indexes of the eligible)."""
        eligible = [i for i, c in enumerate(ordered) if c.availability is Availability.ELIGIBLE]
        credits = [s.credit for s in standings]
        if len(eligible) == len(ordered):  # the common case: everybody gains their weight
            return [c + w for c, w in zip(credits, weights, strict=True)], sum(weights), eligible
        total = sum(weights)
        charge = 0
        for i, contender in enumerate(ordered):
            gain = accrual(
                self.fairness,
                contender.availability,
                weight=weights[i],
                credit=credits[i],
                total_weight=total,
                catch_up_limit=self.catch_up_limit,
            )
            credits[i] += gain
            charge += gain
        return credits, charge, eligible

    @staticmethod
    def _preferred(
        ordered: Sequence[Contender], eligible: Sequence[int], preferred: str | None
    ) -> int | None:
        if preferred is None:
            return None
        return next((i for i in eligible if ordered[i].rep_id == preferred), None)


def _charged(
    standing: MemberStanding, credit: int, contender: Contender, charge: int, state: RotationState
) -> MemberStanding:
    """The chosen member after its turn: charged the turn's credit, one more lead counted."""
    return MemberStanding(
        rep_id=standing.rep_id,
        credit=credit - charge,
        assigned=standing.assigned + 1,
        last_assigned_seq=state.decisions,
        day=contender.day,
        day_count=standing.count_on(contender.day) + 1,
        open=standing.open + 1,
    )
