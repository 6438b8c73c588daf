"""A pool's rotation state, and its open leads: the values kept in `router.rotation`.

Two kinds of record share the topic (both compacted, both in the pool's partition):

- key `<pool_id>`: the pool's `RotationState` (`schemas/RotationState.avsc`), what strategies
  take and return: every member's credit, counts and open leads;
- key `<pool_id>/<lead_id>`: an `OpenLead` (`schemas/OpenLead.avsc`) for each lead the pool
  assigned and nobody released yet, so a release knows whose count to lower and a second
  release of the same lead frees nothing. Pool ids cannot contain `/`, so the keys never clash.

Plain frozen dataclasses, because a decision rebuilds every member's standing and that must
stay cheap; `rotation_serde` maps them to and from Avro. Open leads are records of their own,
not a map inside the pool's record, so the pool's record (rewritten every transaction) stays
small however many leads are open.

Capacity is counted per pool: a member's `open` is the leads *this pool* gave them that are
still open, `day_count` the leads *this pool* gave them on their local `day`. A rep in two pools
has each pool's `max_open` and `daily_cap` checked against that pool's own counts (the pools may
live on different partitions, so no one handler can see both; see docs/routing.md, "Capacity
across pools").
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class MemberStanding:
    rep_id: str
    credit: int = 0
    assigned: int = 0
    last_assigned_seq: int = -1
    day: str = ""
    day_count: int = 0
    open: int = 0

    def count_on(self, day: str) -> int:
        """Leads this pool gave the member on local date `day`."""
        return self.day_count if self.day == day else 0


@dataclass(frozen=True, slots=True)
class RotationState:
    pool_id: str
    decisions: int = 0
    members: tuple[MemberStanding, ...] = ()

    @classmethod
    def empty(cls, pool_id: str) -> RotationState:
        return cls(pool_id=pool_id)

    def standing(self, rep_id: str) -> MemberStanding:
        """The member's standing; a rep the pool has never seen starts level."""
        return self.standings().get(rep_id) or MemberStanding(rep_id=rep_id)

    def standings(self) -> dict[str, MemberStanding]:
        """Every member's standing by rep id: build once per decision, not per lookup."""
        return {m.rep_id: m for m in self.members}

    def open_counts(self) -> dict[str, int]:
        return {m.rep_id: m.open for m in self.members}

    def release(self, rep_id: str) -> RotationState:
        """One fewer open lead for `rep_id` (never below zero; a rep no longer a member: as is)."""
        members = tuple(
            replace(m, open=max(0, m.open - 1)) if m.rep_id == rep_id else m for m in self.members
        )
        return replace(self, members=members)

    def deviation(self, total_weight: int) -> float:
        """Max |actual - ideal| share across members, in leads (credit / total weight)."""
        if total_weight <= 0 or not self.members:
            return 0.0
        return max(abs(m.credit) for m in self.members) / total_weight


@dataclass(frozen=True, slots=True)
class OpenLead:
    pool_id: str
    lead_id: str
    rep_id: str

    @property
    def key(self) -> str:
        return open_lead_key(self.pool_id, self.lead_id)


def open_lead_key(pool_id: str, lead_id: str) -> str:
    return f"{pool_id}/{lead_id}"


RotationRecord = RotationState | OpenLead
"""What `router.rotation` holds under either kind of key (`rotation_serde` encodes both)."""
