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
from dataclasses import dataclass, replace
from enum import StrEnum

from services.router.fairness import (
    DEFAULT_CATCH_UP_LIMIT,
    Availability,
    FairnessPolicy,
    accrual,
)
from services.router.rotation import MemberStanding, RotationState
from services.router.tie_break import rank


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
        """Pick one eligible contender, or none; the state is unchanged when nobody is picked."""
        ordered = sorted(contenders, key=lambda c: c.rep_id)
        weights = {c.rep_id: self._weight(c) for c in ordered}
        total = sum(weights.values())
        known = state.standings()
        standings = {
            c.rep_id: known.get(c.rep_id) or MemberStanding(rep_id=c.rep_id) for c in ordered
        }
        gains = {
            c.rep_id: accrual(
                self.fairness,
                c.availability,
                weight=weights[c.rep_id],
                credit=standings[c.rep_id].credit,
                total_weight=total,
                catch_up_limit=self.catch_up_limit,
            )
            for c in ordered
        }
        credits = {r: standings[r].credit + gains[r] for r in weights}
        shown = tuple(credits.items())
        eligible = [c for c in ordered if c.availability is Availability.ELIGIBLE]
        if not eligible:
            return NobodyEligible(shown), state
        charge = sum(gains.values())
        chosen, by_preference = self._choose(
            eligible=eligible,
            request=request,
            credits=credits,
            weights=weights,
            charge=charge,
            standings=standings,
        )
        members = tuple(
            _after(
                standing=standings[c.rep_id],
                credit=credits[c.rep_id],
                contender=c,
                chosen=c.rep_id == chosen,
                charge=charge,
                state=state,
            )
            for c in ordered
        )
        new_state = replace(state, decisions=state.decisions + 1, members=members)
        return Picked(chosen, by_preference, shown), new_state

    def _weight(self, contender: Contender) -> int:
        return 1 if self.kind is StrategyKind.ROUND_ROBIN else contender.weight

    def _choose(
        self,
        *,
        eligible: Sequence[Contender],
        request: PickRequest,
        credits: dict[str, int],
        weights: dict[str, int],
        charge: int,
        standings: dict[str, MemberStanding],
    ) -> tuple[str, bool]:
        if request.preferred_owner in {c.rep_id for c in eligible}:
            return str(request.preferred_owner), True
        least_loaded = self.kind is StrategyKind.LEAST_LOADED
        best = min(
            eligible,
            key=lambda c: (
                standings[c.rep_id].open if least_loaded else 0,
                *rank(credits[c.rep_id], weights[c.rep_id], charge, standings[c.rep_id]),
            ),
        )
        return best.rep_id, False


def _after(
    *,
    standing: MemberStanding,
    credit: int,
    contender: Contender,
    chosen: bool,
    charge: int,
    state: RotationState,
) -> MemberStanding:
    if not chosen:
        return standing if credit == standing.credit else replace(standing, credit=credit)
    return replace(
        standing,
        credit=credit - charge,
        assigned=standing.assigned + 1,
        last_assigned_seq=state.decisions,
        day=contender.day,
        day_count=standing.count_on(contender.day) + 1,
        open=standing.open + 1,
    )
