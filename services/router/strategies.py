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
from itertools import repeat
from operator import add, attrgetter, is_

from services.router.fairness import (
    DEFAULT_CATCH_UP_LIMIT,
    Availability,
    FairnessPolicy,
    accrual,
)
from services.router.rotation import RotationState
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

        The contenders are taken in rep-id order, as the state's columns (`Columns`) when the
        pool's members are the state's. Credits are accrued once into one tuple (when everyone
        is eligible, one `map`), the trace's credits (`Picked.credits`) are those very values,
        and the pick is one `min` over the eligible members' keys (`tie_break.best`); only the
        chosen member's counts change.
        """
        ordered = sorted(contenders, key=_REP_ID)
        rep_ids = tuple(map(_REP_ID, ordered))
        columns = state.columns
        if columns.rep_ids != rep_ids:  # members joined or left since the last decision
            columns = columns.select(rep_ids)
        if self.kind is StrategyKind.ROUND_ROBIN:
            weights: tuple[int, ...] = (1,) * len(ordered)
        else:
            weights = tuple(map(_WEIGHT, ordered))
        availability = tuple(map(_AVAILABILITY, ordered))
        credits, charge, eligible = self._accrue(availability, columns.credits, weights)
        shown = tuple(zip(rep_ids, credits, strict=True))
        if not any(eligible):
            return NobodyEligible(shown), state
        preferred = columns.index.get(request.preferred_owner or "")
        if preferred is not None and eligible[preferred]:
            chosen, by_preference = preferred, True
        else:
            chosen, by_preference = (
                best(
                    eligible,
                    credits=credits,
                    weights=weights,
                    charge=charge,
                    columns=columns,
                    least_loaded=self.kind is StrategyKind.LEAST_LOADED,
                ),
                False,
            )
        charged = list(credits)
        charged[chosen] -= charge
        picked = columns.picked(chosen, tuple(charged), state.decisions, ordered[chosen].day)
        new_state = RotationState.of_columns(state.pool_id, state.decisions + 1, picked)
        return Picked(rep_ids[chosen], by_preference, shown), new_state

    def _accrue(
        self,
        availability: tuple[Availability, ...],
        credits: tuple[int, ...],
        weights: tuple[int, ...],
    ) -> tuple[tuple[int, ...], int, tuple[bool, ...]]:
        """(every member's credit after accrual, the turn's charge, whether each is eligible)."""
        eligible = tuple(map(is_, availability, repeat(Availability.ELIGIBLE)))
        if all(eligible):  # the common case: everybody gains their weight
            return tuple(map(add, credits, weights)), sum(weights), eligible
        total = sum(weights)
        accrued, charge = [], 0
        for credit, weight, available in zip(credits, weights, availability, strict=True):
            gain = accrual(
                self.fairness,
                available,
                weight=weight,
                credit=credit,
                total_weight=total,
                catch_up_limit=self.catch_up_limit,
            )
            accrued.append(credit + gain)
            charge += gain
        return tuple(accrued), charge, eligible


_REP_ID = attrgetter("rep_id")
_WEIGHT = attrgetter("weight")
_AVAILABILITY = attrgetter("availability")
