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

from fractions import Fraction

from services.router.rotation import MemberStanding

Rank = tuple[bool, Fraction, int, int, str]


def rank(credit: int, weight: int, charge: int, standing: MemberStanding) -> Rank:
    """Sort key: the smallest key is the member to pick."""
    due_in = Fraction(charge - credit, weight) if weight > 0 else Fraction(charge + abs(credit) + 1)
    return (credit <= 0, due_in, -weight, standing.last_assigned_seq, standing.rep_id)
