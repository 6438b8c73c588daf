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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import repeat
from operator import add, attrgetter, countOf, is_, itemgetter

from services.router.fairness import (
    DEFAULT_CATCH_UP_LIMIT,
    Availability,
    FairnessPolicy,
    accrual,
)
from services.router.rotation import RotationState, slot_setters
from services.router.tie_break import Ranks, best


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
class Lineup:
    """A pool's members as the strategy reads them: in rep-id order (the order of the state's
    columns), with their weights, and where each sits in the contenders' order.

    Made once per pool config (`Strategy.lined_up`), so a decision reads nothing of its
    contenders but their availability: no sort, no weights pass per decision.
    """

    rep_ids: tuple[str, ...]
    weights: tuple[int, ...]
    total: int
    ranks: Ranks
    """The members' static rank columns (`tie_break.Ranks`)."""
    arrange: Callable[[Sequence[Contender]], Sequence[Contender]] | None = field(compare=False)
    """The contenders (in the members' order) in rep-id order; None: they come in it."""

    @classmethod
    def of(cls, members: Iterable[tuple[str, int]], *, even: bool = False) -> Lineup:
        """From (rep id, weight) in the order the contenders will come; `even`: every weight 1
        (round robin)."""
        rows = list(members)
        order = sorted(range(len(rows)), key=lambda i: rows[i][0])  # stable, as the sort was
        rep_ids = tuple(rows[i][0] for i in order)
        weights = (1,) * len(rows) if even else tuple(rows[i][1] for i in order)
        # `None` when the members are in rep-id order already (also one member, whose
        # itemgetter would not return a tuple)
        arrange = None if order == sorted(order) else itemgetter(*order)
        return cls(rep_ids, weights, sum(weights), Ranks.of(weights), arrange)


@dataclass(frozen=True, slots=True)
class Strategy:
    kind: StrategyKind
    fairness: FairnessPolicy = FairnessPolicy.STRICT
    catch_up_limit: int = DEFAULT_CATCH_UP_LIMIT
    lineup: Lineup | None = field(default=None, compare=False, repr=False)
    """The pool's members, when the strategy is made for one pool (`lined_up`): the
    contenders then come in their order, one per member."""

    def lined_up(self, members: Iterable[tuple[str, int]]) -> Strategy:
        """This strategy for one pool: `members` as (rep id, weight), in the order the
        contenders will come."""
        even = self.kind is StrategyKind.ROUND_ROBIN
        return replace(self, lineup=Lineup.of(members, even=even))

    def __call__(
        self, state: RotationState, contenders: Sequence[Contender], request: PickRequest
    ) -> tuple[Decision, RotationState]:
        """Pick one eligible contender, or none; the state is unchanged when nobody is picked.

        The contenders are taken in rep-id order, as the state's columns (`Columns`) when the
        pool's members are the state's: by the strategy's `lineup` when it has one (and the
        contenders are as many), else sorted here. Credits are accrued once into one tuple
        (when everyone is eligible, one `map`), the trace's credits (`Picked.credits`) are
        those very values, and the pick is one `min` over the eligible members' keys
        (`tie_break.best`); only the chosen member's counts change.
        """
        lineup = self.lineup
        if lineup is None or len(contenders) != len(lineup.rep_ids):
            even = self.kind is StrategyKind.ROUND_ROBIN
            members = zip(map(_REP_ID, contenders), map(_WEIGHT, contenders), strict=True)
            lineup = Lineup.of(members, even=even)
        arrange = lineup.arrange
        ordered = contenders if arrange is None else arrange(contenders)
        rep_ids, weights = lineup.rep_ids, lineup.weights
        columns = state.columns
        if columns.rep_ids != rep_ids:  # members joined or left since the last decision
            columns = columns.select(rep_ids)
        eligible: tuple[bool, ...] | None = None
        if rep_ids and countOf(map(_AVAILABILITY, ordered), _ELIGIBLE) == len(rep_ids):
            # the common case, without a call: everybody gains their weight
            credits, charge = tuple(map(add, columns.credits, weights)), lineup.total
        else:
            availability = tuple(map(_AVAILABILITY, ordered))
            credits, charge, eligible = self._accrue(availability, columns.credits, lineup)
        # zips of these parallel columns leave out `strict=`: of one length by construction,
        # and a keyword argument costs `zip` a parse on every call
        shown = tuple(zip(rep_ids, credits))  # noqa: B905
        if eligible is not None and not any(eligible):
            return NobodyEligible(shown), state
        preferred = columns.index.get(request.preferred_owner or "")
        if preferred is not None and (eligible is None or eligible[preferred]):
            chosen, by_preference = preferred, True
        else:
            chosen, by_preference = (
                best(
                    eligible,
                    credits=credits,
                    weights=weights,
                    ranks=lineup.ranks,
                    charge=charge,
                    columns=columns,
                    least_loaded=self.kind is _LEAST_LOADED,
                ),
                False,
            )
        charged = list(credits)
        charged[chosen] -= charge
        picked = columns.picked(chosen, tuple(charged), state.decisions, ordered[chosen].day)
        new_state = RotationState.of_columns(state.pool_id, state.decisions + 1, picked)
        picked_one = _new(Picked)  # as `Columns.picked` builds its value: by the slots' setters
        set_rep_id, set_by_preference, set_credits = _PICKED_SETTERS
        set_rep_id(picked_one, rep_ids[chosen])
        set_by_preference(picked_one, by_preference)
        set_credits(picked_one, shown)
        return picked_one, new_state

    def _accrue(
        self,
        availability: tuple[Availability, ...],
        credits: tuple[int, ...],
        lineup: Lineup,
    ) -> tuple[tuple[int, ...], int, tuple[bool, ...]]:
        """(every member's credit after accrual, the turn's charge, whether each is eligible)."""
        weights, total = lineup.weights, lineup.total
        eligible = tuple(map(is_, availability, repeat(_ELIGIBLE)))
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


_new = object.__new__
_PICKED_SETTERS = slot_setters(Picked, ("rep_id", "by_preference", "credits"))
_ELIGIBLE = Availability.ELIGIBLE
_LEAST_LOADED = StrategyKind.LEAST_LOADED  # an enum member read from its class costs a lookup
_REP_ID = attrgetter("rep_id")
_WEIGHT = attrgetter("weight")
_AVAILABILITY = attrgetter("availability")
