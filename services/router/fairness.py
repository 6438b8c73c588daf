"""Fairness policies: how a pool treats a member who could not take a turn.

Each decision first *accrues* credit to members (smooth weighted round robin: an eligible member
gains its weight), then charges the chosen member the total accrued, so credits always sum to
zero and a member's credit divided by the total weight is how many leads it is below (positive)
or above (negative) its fair share. The policies differ only in what an *absent* member accrues
(absent: unavailable this turn, i.e. inactive, away or offline, off hours, on holiday, at a cap):

- `strict`: nothing. Skipped turns are lost; the member comes back with the standing it left
  with.
- `catch_up`: its weight, as if it had been eligible, up to `catch_up_limit` leads' worth of
  credit. Back from the absence it is furthest below target and takes leads until level; the
  limit bounds how long the others wait.
- `pro_rata`: whatever brings it level (credit 0). Absence counts as if it had been served its
  share: it returns with neither priority nor penalty, whatever it had before.

A member passed over for this lead only (skill, language, previous owner) accrues nothing under
every policy: the lead was not one it could have taken.
"""

from __future__ import annotations

from enum import StrEnum


class FairnessPolicy(StrEnum):
    STRICT = "strict"
    CATCH_UP = "catch_up"
    PRO_RATA = "pro_rata"


class Availability(StrEnum):
    ELIGIBLE = "eligible"
    ABSENT = "absent"
    """Unavailable this turn: what the fairness policy decides about."""
    PASSED_OVER = "passed_over"
    """Ineligible for this lead only; never compensated."""


DEFAULT_CATCH_UP_LIMIT = 3
"""Leads a returning member may be owed under `catch_up` when the pool sets no limit."""


def accrual(
    policy: FairnessPolicy,
    availability: Availability,
    *,
    weight: int,
    credit: int,
    total_weight: int,
    catch_up_limit: int,
) -> int:
    """The credit a member gains this turn (may be negative under `pro_rata`)."""
    if availability is Availability.ELIGIBLE:
        return weight
    if availability is Availability.PASSED_OVER or policy is FairnessPolicy.STRICT:
        return 0
    if policy is FairnessPolicy.PRO_RATA:
        return -credit
    ceiling = catch_up_limit * total_weight
    return max(0, min(weight, ceiling - credit))
