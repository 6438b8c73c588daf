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

from itertools import compress, repeat
from math import lcm
from operator import floordiv, le, mul, neg, sub

from services.router.rotation import Columns


def best(
    eligible: tuple[bool, ...],
    *,
    credits: tuple[int, ...],
    weights: tuple[int, ...],
    charge: int,
    columns: Columns,
    least_loaded: bool,
) -> int:
    """The position (in the parallel tuples) of the eligible member to pick.

    Least loaded puts fewest open leads ahead of the order above. The due time
    `(charge - credit) / weight` is compared exactly as a whole number scaled by the eligible
    weights' least common multiple, not as a `Fraction`. Each key is a tuple zipped from
    columns computed by `map` (C speed: this is the decision's cost in a large pool), and the
    ineligible are dropped by `compress`.
    """
    positive = min(weights) > 0
    eligible_weights = set(compress(weights, eligible))
    scale = lcm(*eligible_weights if positive else (w for w in eligible_weights if w > 0))
    if positive:
        dues = map(mul, map(sub, repeat(charge), credits), map(floordiv, repeat(scale), weights))
    else:  # a zero weight is due only after everyone else, by how far it is from level
        dues = map(_due_at_zero_weight, credits, weights, repeat(charge), repeat(scale))
    ranks = (
        map(le, credits, repeat(0)),
        dues,
        map(neg, weights),
        columns.last_assigned_seq,
        columns.rep_ids,
        range(len(credits)),
    )
    # the open count leads the key only when it counts: one element less to build and compare
    keys = zip(columns.opens, *ranks, strict=True) if least_loaded else zip(*ranks, strict=True)
    chosen: int = min(compress(keys, eligible))[-1]
    return chosen


def _due_at_zero_weight(credit: int, weight: int, charge: int, scale: int) -> int:
    if weight > 0:
        return (charge - credit) * (scale // weight)
    return (charge + abs(credit) + 1) * scale
