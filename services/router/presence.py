"""Reps' presence as of a request's time, folded from the `reps.presence` table.

Presence is joined by *event time*: a request made at `t` sees the latest presence whose
`changed_at_ms <= t`, not whatever happened to arrive before it was processed, so a replay of
the same logs sees the same presence. A status with `until_ms` lapses back to available at that
instant. Before its first known change (and with no record at all) a rep is available. A few
recent changes per rep are kept, so a request slightly older than the newest change still sees
the status of its own moment. Compaction keeps only a rep's newest record, so after a restart a
request older than that record sees the default; replay reports any decision this changes.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable

from services.leads.events import PresenceStatus, RepPresence

HISTORY_PER_REP = 16
"""Changes kept per rep: requests older than the oldest kept change see that oldest one."""


class PresenceBook:
    def __init__(self, records: Iterable[RepPresence] = ()) -> None:
        self._history: dict[str, list[tuple[int, PresenceStatus, int | None]]] = {}
        for record in records:
            self.record(record)

    def record(self, presence: RepPresence) -> None:
        """Add one change (idempotent: the same change twice is kept once)."""
        entry = (presence.changed_at_ms, presence.status, presence.until_ms)
        history = self._history.setdefault(presence.rep_id, [])
        if entry in history:
            return
        insort(history, entry, key=lambda e: e[0])
        del history[:-HISTORY_PER_REP]

    def on_change(self, _key: str, presence: RepPresence | None) -> None:
        """A `GlobalTable.on_change` listener; a tombstone keeps the history it already has."""
        if presence is not None:
            self.record(presence)

    def status_at(self, rep_id: str, at_ms: int) -> tuple[PresenceStatus, int | None]:
        """(status, until_ms) of `rep_id` at `at_ms`."""
        history = self._history.get(rep_id)
        if not history:
            return PresenceStatus.AVAILABLE, None
        current = None
        for entry in history:
            if entry[0] > at_ms:
                break
            current = entry
        if current is None:  # before any change we know of: the default, like a rep with none
            return PresenceStatus.AVAILABLE, None
        _, status, until = current
        if until is not None and at_ms >= until:
            return PresenceStatus.AVAILABLE, None
        return status, until
