"""Reps' presence as a decision sees it: the `reps.presence` records read so far, joined by time.

A decision reads presence at a *position* of the table, the offset per partition below which
every record has been read, and records that position in its trace. What it sees is a function
of the records below the position and the request's time, nothing else:

- each rep's changes are joined by *event time*: a request made at `t` sees the change with the
  greatest `changed_at_ms <= t` among those read (ties broken by status, then `until_ms`), so a
  change stamped in the future (`reps set --at`) takes effect at its stamp;
- a change read only after a request was decided never touches that decision, however early
  its stamp: its offset is at or above the decision's position;
- a status with `until_ms` lapses back to available at that instant; before a rep's first known
  change (and with no record at all) a rep is available;
- the newest `HISTORY_PER_REP` changes per rep (by `changed_at_ms`) are kept; a tombstone, or a
  record that does not decode, changes nothing.

All of this depends on the *set* of records below the position, not the order they were read
in, so the live router (`PresenceBook`, fed as the table refreshes) and replay (`PresenceLog`,
the whole topic read back) agree on every status at every position.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable
from dataclasses import dataclass

from services.leads.events import PresenceStatus, RepPresence
from services.router.eligibility import PresenceAt

HISTORY_PER_REP = 16
"""Changes kept per rep: requests older than the oldest kept change see that oldest one."""

POOL_KEY_PREFIX = "@pool/"
"""A pool's pause rides on `reps.presence` as the presence of `@pool/<pool id>`: away while
paused, available once resumed. One table, one position: a decision's recorded
`presence_position` pins the pause state it saw too, so replay needs nothing more. `@` and `/`
are not allowed in a config id, so no rep id is ever a pool's key."""


def pool_key(pool_id: str) -> str:
    """The `reps.presence` key (and `rep_id`) that carries `pool_id`'s pause."""
    return POOL_KEY_PREFIX + pool_id


Position = tuple[int, ...]
"""Per partition of `reps.presence` (index = partition number), the offset below which every
record was read. `()` means "not recorded": the whole log (decisions made before positions were
traced)."""

_Change = tuple[int, PresenceStatus, bool, int]
"""(changed_at_ms, status, has until, until_ms or 0): a change as a sortable value (a StrEnum
orders as its text)."""


def _change(presence: RepPresence) -> _Change:
    until = presence.until_ms
    return (presence.changed_at_ms, presence.status, until is not None, until or 0)


class PresenceBook:
    """Each rep's newest changes among those read so far (the live router's, fed by the table)."""

    def __init__(self, records: Iterable[RepPresence] = ()) -> None:
        self._history: dict[str, list[_Change]] = {}
        for record in records:
            self.record(record)

    def record(self, presence: RepPresence) -> None:
        """Add one change (idempotent: the same change twice is kept once)."""
        history = self._history.setdefault(presence.rep_id, [])
        _add(history, _change(presence))

    def on_change(self, _key: str, presence: RepPresence | None) -> None:
        """A `GlobalTable.on_change` listener; a tombstone keeps the history it already has."""
        if presence is not None:
            self.record(presence)

    def status_at(self, rep_id: str, at_ms: int) -> tuple[PresenceStatus, int | None]:
        """(status, until_ms) of `rep_id` at `at_ms`."""
        return _status(self._history.get(rep_id, ()), at_ms)


@dataclass(frozen=True, slots=True)
class PresenceView:
    """What one decision knows of presence, and the table position it knew it at."""

    status_at: PresenceAt
    position: Position = ()


class PresenceLog:
    """The whole `reps.presence` log read back, to see presence at any position (replay).

    `records` are (partition, offset, decoded value or None) in offset order per partition.
    """

    def __init__(self, records: Iterable[tuple[int, int, RepPresence | None]]) -> None:
        self._by_rep: dict[str, list[tuple[int, int, _Change]]] = {}
        for partition, offset, presence in records:
            if presence is not None:
                self._by_rep.setdefault(presence.rep_id, []).append(
                    (partition, offset, _change(presence))
                )
        self._seen: dict[tuple[str, Position], list[_Change]] = {}

    def view(self, position: Position) -> PresenceView:
        def status_at(rep_id: str, at_ms: int) -> tuple[PresenceStatus, int | None]:
            return self._status_at(rep_id, at_ms, position)

        return PresenceView(status_at, position)

    def _status_at(
        self, rep_id: str, at_ms: int, position: Position
    ) -> tuple[PresenceStatus, int | None]:
        history = self._seen.get((rep_id, position))
        if history is None:  # once per rep and position: positions change once per batch
            history = []
            for partition, offset, change in self._by_rep.get(rep_id, ()):
                if _read(partition, offset, position):
                    _add(history, change)
            self._seen[(rep_id, position)] = history
        return _status(history, at_ms)


def _read(partition: int, offset: int, position: Position) -> bool:
    if not position:
        return True
    return partition < len(position) and offset < position[partition]


def _add(history: list[_Change], change: _Change) -> None:
    if change in history:
        return
    insort(history, change)
    del history[:-HISTORY_PER_REP]


def _status(history: Iterable[_Change], at_ms: int) -> tuple[PresenceStatus, int | None]:
    current = None
    for change in history:
        if change[0] > at_ms:
            break
        current = change
    if current is None:  # before any change we know of: the default, like a rep with none
        return PresenceStatus.AVAILABLE, None
    _, status, has_until, until = current
    if has_until and at_ms >= until:
        return PresenceStatus.AVAILABLE, None
    return status, until if has_until else None
