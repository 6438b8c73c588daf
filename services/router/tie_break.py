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

from collections.abc import Sequence
from math import lcm

from services.router.rotation import MemberStanding


def best(
    eligible: Sequence[int],
    *,
    credits: Sequence[int],
    weights: Sequence[int],
    charge: int,
    standings: Sequence[MemberStanding],
    least_loaded: bool,
) -> int:
    """The index (into the parallel sequences) of the eligible member to pick.

    Least loaded puts fewest open leads ahead of the order above. The due time
    `(charge - credit) / weight` is compared exactly as a whole number scaled by the weights'
    least common multiple, not as a `Fraction`: one key is built per member per decision, in
    one comprehension, so its cost is the decision's cost.
    """
    scale = lcm(*(w for i in eligible if (w := weights[i]) > 0))
    keys = [
        (
            s.open if least_loaded else 0,
            (c := credits[i]) <= 0,
            (charge - c) * (scale // w) if (w := weights[i]) > 0 else (charge + abs(c) + 1) * scale,
            -w,
            s.last_assigned_seq,
            s.rep_id,
            i,
        )
        for i, s in zip(eligible, map(standings.__getitem__, eligible), strict=True)
    ]
    return min(keys)[-1]
