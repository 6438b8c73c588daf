"""A pool's rotation state, and its open leads: the values kept in `router.rotation`.

Two kinds of record share the topic (both compacted, both in the pool's partition):

- key `<pool_id>`: the pool's `RotationState` (`schemas/RotationState.avsc`), what strategies
  take and return: every member's credit, counts and open leads;
- key `<pool_id>/<lead_id>`: an `OpenLead` (`schemas/OpenLead.avsc`) for each lead the pool
  assigned and nobody released yet, so a release knows whose count to lower and a second
  release of the same lead frees nothing. Pool ids cannot contain `/`, so the keys never clash.

Plain frozen values, not pydantic models: a decision builds a new state each time. The state
keeps its members' standings as columns (one tuple per field), because a decision moves every
eligible member's credit but nothing else of anyone but the chosen member; `MemberStanding` is
one member's row, as the Avro record and the tests read it. `rotation_serde` maps them to and
from Avro. Open leads are records of their own,
not a map inside the pool's record, so the pool's record (rewritten every transaction) stays
small however many leads are open.

Capacity is counted per pool: a member's `open` is the leads *this pool* gave them that are
still open, `day_count` the leads *this pool* gave them on their local `day`. A rep in two pools
has each pool's `max_open` and `daily_cap` checked against that pool's own counts (the pools may
live on different partitions, so no one handler can see both; see docs/routing.md, "Capacity
across pools").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar


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
class Columns:
    """A pool's standings as one tuple per field, member `i` at position `i` of each.

    A decision moves every eligible member's credit but only the chosen member's other
    fields, so the strategy builds one tuple of credits and copies five others with one
    element replaced, at C speed, instead of a `MemberStanding` per member (which was most
    of a decision's cost in a large pool). `index` (rep id -> position) is shared by every
    `Columns` of the same members.
    """

    rep_ids: tuple[str, ...]
    credits: tuple[int, ...]
    assigned: tuple[int, ...]
    last_assigned_seq: tuple[int, ...]
    days: tuple[str, ...]
    day_counts: tuple[int, ...]
    opens: tuple[int, ...]
    index: dict[str, int] = field(compare=False, repr=False)

    @classmethod
    def of(cls, members: Iterable[MemberStanding]) -> Columns:
        rows = [
            (m.rep_id, m.credit, m.assigned, m.last_assigned_seq, m.day, m.day_count, m.open)
            for m in members
        ]
        return cls.of_rows(rows)

    @classmethod
    def of_rows(cls, rows: list[tuple[Any, ...]]) -> Columns:
        """From one (rep_id, credit, assigned, last_assigned_seq, day, day_count, open) per
        member."""
        if not rows:
            return cls((), (), (), (), (), (), (), {})
        rep_ids, credits, assigned, last, days, counts, opens = map(tuple, zip(*rows, strict=True))
        index = {rep: i for i, rep in enumerate(rep_ids)}
        return cls(rep_ids, credits, assigned, last, days, counts, opens, index)

    def standing(self, i: int) -> MemberStanding:
        return MemberStanding(
            self.rep_ids[i],
            self.credits[i],
            self.assigned[i],
            self.last_assigned_seq[i],
            self.days[i],
            self.day_counts[i],
            self.opens[i],
        )

    def select(self, rep_ids: tuple[str, ...]) -> Columns:
        """These members, in this order: a member not here yet starts level."""
        index = self.index
        return Columns.of(
            MemberStanding(rep) if (i := index.get(rep)) is None else self.standing(i)
            for rep in rep_ids
        )

    def picked(self, i: int, credits: tuple[int, ...], seq: int, day: str) -> Columns:
        """After member `i` took decision `seq` on its local `day`; `credits`: everyone's."""
        # each column copied whole at C speed, then one item set (not a call per column:
        # in a small pool the calls were most of this)
        assigned, last, days = list(self.assigned), list(self.last_assigned_seq), list(self.days)
        counts, opens = list(self.day_counts), list(self.opens)
        counts[i] = (counts[i] if days[i] == day else 0) + 1
        assigned[i] += 1
        last[i] = seq
        days[i] = day
        opens[i] += 1
        # built through its slots' setters: the frozen `__init__` (a call of `object.__setattr__`
        # per field) cost twice as much; with `RotationState.of_columns` built the same way,
        # 7.5 k of the 87 k instructions of a decision in a 10-member pool
        new = _new(Columns)
        set_ids, set_credits, set_assigned, set_last, set_days, set_counts, set_opens, set_index = (
            _COLUMN_SETTERS
        )
        set_ids(new, self.rep_ids)
        set_credits(new, credits)
        set_assigned(new, tuple(assigned))
        set_last(new, tuple(last))
        set_days(new, tuple(days))
        set_counts(new, tuple(counts))
        set_opens(new, tuple(opens))
        set_index(new, self.index)
        return new


def slot_setters(cls: type, names: Iterable[str]) -> tuple[Callable[[Any, Any], None], ...]:
    """The setters of `cls`'s slots `names`, which write a frozen dataclass's field without
    going through `object.__setattr__` (only for an instance being built)."""
    return tuple(cls.__dict__[name].__set__ for name in names)


_new = object.__new__
_COLUMN_SETTERS = slot_setters(Columns, (f.name for f in fields(Columns)))


def _with(values: tuple[T, ...], i: int, value: T) -> tuple[T, ...]:
    changed = list(values)  # copied whole at C speed, then one item set
    changed[i] = value
    return tuple(changed)


@dataclass(frozen=True, slots=True, init=False)
class RotationState:
    """A pool's rotation: decisions so far, and every member's standing (as `columns`).

    Built from standings (`RotationState(pool_id, decisions, members)`) or, by the strategy,
    from columns (`of_columns`); `members` gives the standings back, in member order.
    """

    pool_id: str
    decisions: int
    columns: Columns

    def __init__(
        self, pool_id: str, decisions: int = 0, members: Iterable[MemberStanding] = ()
    ) -> None:
        _set(self, "pool_id", pool_id)
        _set(self, "decisions", decisions)
        _set(self, "columns", Columns.of(members))

    @classmethod
    def of_columns(cls, pool_id: str, decisions: int, columns: Columns) -> RotationState:
        state = _new(cls)
        set_pool_id, set_decisions, set_columns = _STATE_SETTERS
        set_pool_id(state, pool_id)
        set_decisions(state, decisions)
        set_columns(state, columns)
        return state

    @classmethod
    def empty(cls, pool_id: str) -> RotationState:
        return cls(pool_id=pool_id)

    @property
    def members(self) -> tuple[MemberStanding, ...]:
        columns = self.columns
        return tuple(columns.standing(i) for i in range(len(columns.rep_ids)))

    def standing(self, rep_id: str) -> MemberStanding:
        """The member's standing; a rep the pool has never seen starts level."""
        i = self.columns.index.get(rep_id)
        return MemberStanding(rep_id=rep_id) if i is None else self.columns.standing(i)

    def standings(self) -> dict[str, MemberStanding]:
        """Every member's standing by rep id."""
        return {m.rep_id: m for m in self.members}

    def open_counts(self) -> dict[str, int]:
        return dict(zip(self.columns.rep_ids, self.columns.opens, strict=True))

    def release(self, rep_id: str) -> RotationState:
        """One fewer open lead for `rep_id` (never below zero; a rep no longer a member: as is)."""
        columns = self.columns
        i = columns.index.get(rep_id)
        if i is None:
            return self
        opens = _with(columns.opens, i, max(0, columns.opens[i] - 1))
        return RotationState.of_columns(self.pool_id, self.decisions, replace(columns, opens=opens))

    def deviation(self, total_weight: int) -> float:
        """Max |actual - ideal| share across members, in leads (credit / total weight)."""
        credits = self.columns.credits
        if total_weight <= 0 or not credits:
            return 0.0
        return max(map(abs, credits)) / total_weight


_set = object.__setattr__
_STATE_SETTERS = slot_setters(RotationState, ("pool_id", "decisions", "columns"))
T = TypeVar("T")


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
