"""A pool's rotation state: the value strategies take and return, kept in `router.rotation`.

One record per pool (key: pool id), mirrored by `schemas/RotationState.avsc`. Everything a
decision depends on besides the config, the presence book and the request itself lives here, so
a decision sequence replayed from the same initial state reproduces itself exactly.

Capacity is counted per pool: `open_leads` holds the leads *this pool* assigned and nobody has
released, and a member's `day_count` the leads *this pool* gave them on their local `day`. A rep
in two pools has each pool's `max_open` and `daily_cap` checked against that pool's own counts
(the pools may live on different partitions, so no one handler can see both; see
docs/routing.md, "Capacity across pools").
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MemberStanding(_Value):
    rep_id: str
    credit: int = 0
    assigned: int = 0
    last_assigned_seq: int = -1
    day: str = ""
    day_count: int = 0

    def count_on(self, day: str) -> int:
        """Leads this pool gave the member on local date `day`."""
        return self.day_count if self.day == day else 0


class RotationState(_Value):
    pool_id: str
    decisions: int = 0
    members: tuple[MemberStanding, ...] = ()
    open_leads: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def empty(cls, pool_id: str) -> RotationState:
        return cls(pool_id=pool_id)

    def standing(self, rep_id: str) -> MemberStanding:
        """The member's standing; a rep the pool has never seen starts level."""
        for member in self.members:
            if member.rep_id == rep_id:
                return member
        return MemberStanding(rep_id=rep_id)

    def open_count(self, rep_id: str) -> int:
        return sum(1 for owner in self.open_leads.values() if owner == rep_id)

    def open_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for owner in self.open_leads.values():
            counts[owner] = counts.get(owner, 0) + 1
        return counts

    def release(self, lead_id: str) -> tuple[str | None, RotationState]:
        """Free a lead's capacity: (the rep who held it, or None if it was not open; new state)."""
        owner = self.open_leads.get(lead_id)
        if owner is None:
            return None, self
        remaining = {k: v for k, v in self.open_leads.items() if k != lead_id}
        return owner, self.model_copy(update={"open_leads": remaining})

    def deviation(self, total_weight: int) -> float:
        """Max |actual - ideal| share across members, in leads (credit / total weight)."""
        if total_weight <= 0 or not self.members:
            return 0.0
        return max(abs(m.credit) for m in self.members) / total_weight
