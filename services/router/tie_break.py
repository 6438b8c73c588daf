"""The one tie-break order every strategy uses, so equal standings always resolve the same way.

Order: furthest below target, then higher weight, then least recently assigned (a member never
assigned comes first), then rep id. Rep ids are unique within a pool, so the order is total and
no decision depends on input order or on a salted hash.

"Furthest below target" is measured as how soon the member's ideal share runs a whole lead
ahead of its count: members already owed a lead (credit > 0) come first, earliest due first,
where a member with credit `c` and weight `w` is due in `(charge - c) / w` turns (`charge`: the
credit one lead costs this turn). Ranking by that due time rather than by raw credit is what
keeps every member within one lead of its weighted share at every prefix; raw-credit smooth
round robin can drift past one lead when a few heavy members share a pool with light ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress, repeat
from math import lcm
from operator import floordiv, le, mul, neg, sub

from services.router.rotation import Columns


@dataclass(frozen=True, slots=True)
class Ranks:
    """What of a pool's keys depends on its weights only, worked out once per pool config."""

    negated: tuple[int, ...]
    """Each member's weight negated: higher weight first."""
    steps: tuple[int, ...] | None
    """`scale // weight` for each member, `scale` the weights' least common multiple: the due
    time's factor when everyone is eligible (None: a weight is zero)."""

    @classmethod
    def of(cls, weights: tuple[int, ...]) -> Ranks:
        negated = tuple(map(neg, weights))
        if not weights or min(weights) <= 0:
            return cls(negated, None)
        scale = lcm(*set(weights))
        return cls(negated, tuple(map(floordiv, repeat(scale), weights)))


def best(
    eligible: tuple[bool, ...] | None,
    *,
    credits: tuple[int, ...],
    weights: tuple[int, ...],
    ranks: Ranks,
    charge: int,
    columns: Columns,
    least_loaded: bool,
) -> int:
    """The position (in the parallel tuples) of the eligible member to pick (`eligible`: None
    when all are).

    Least loaded puts fewest open leads ahead of the order above. The due time
    `(charge - credit) / weight` is compared exactly as a whole number scaled by the eligible
    weights' least common multiple, not as a `Fraction`. Each key is a tuple zipped from
    columns computed by `map` (C speed: this is the decision's cost in a large pool), and the
    ineligible are dropped by `compress`. Rep ids are unique, so a key never ties past its rep
    id, which gives the position back.
    """
    steps = ranks.steps if eligible is None else None
    if steps is not None:  # everyone eligible, every weight positive: the scale is the pool's
        dues = map(mul, map(sub, repeat(charge), credits), steps)
    else:
        if eligible is None:
            eligible = (True,) * len(credits)
        positive = min(weights) > 0
        eligible_weights = set(compress(weights, eligible))
        scale = lcm(*eligible_weights if positive else (w for w in eligible_weights if w > 0))
        if positive:
            dues = map(
                mul, map(sub, repeat(charge), credits), map(floordiv, repeat(scale), weights)
            )
        else:  # a zero weight is due only after everyone else, by how far it is from level
            dues = map(_due_at_zero_weight, credits, weights, repeat(charge), repeat(scale))
    level, seqs, rep_ids = map(le, credits, repeat(0)), columns.last_assigned_seq, columns.rep_ids
    # the open count leads the key only when it counts: one element less to build and compare
    # (no `strict=`: the columns are of one length, and the keyword costs a parse per call)
    if least_loaded:
        zipped = zip(columns.opens, level, dues, ranks.negated, seqs, rep_ids)  # noqa: B905
    else:
        zipped = zip(level, dues, ranks.negated, seqs, rep_ids)  # noqa: B905
    winner = min(zipped if eligible is None else compress(zipped, eligible))
    return columns.index[winner[-1]]


def _due_at_zero_weight(credit: int, weight: int, charge: int, scale: int) -> int:
    if weight > 0:
        return (charge - credit) * (scale // weight)
    return (charge + abs(credit) + 1) * scale
