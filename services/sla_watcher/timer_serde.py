"""`sla.timers` records: the `SlaTimer` serde, and a record's standing read without decoding it.

A record of the current schema starts, right after the single-object header, with
`wakes_at_ms`, `status` and `updated_at_ms`: all that a tick, the open-timers gauge and the
purge ask of an entry. The timer store reads those three when it restores a partition and
decodes the rest only when the lead is touched or due, so a restart costs a fetch and three
varints per timer. A record an older schema wrote keeps them elsewhere (or lacks one), so it is
decoded whole, once, at restore.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from services.sla_watcher.timer_state import SlaTimer, TimerStatus
from services.streaming.avro_primitives import read_long
from services.streaming.codec import AvroCodec
from services.streaming.errors import DecodeError

_STATUSES = tuple(TimerStatus)
"""In the schema's symbol order (a unit test holds the enum to it): a status by its index."""
_NULL = 0
"""The branch index of `null` in `["null", "long"]`."""


@dataclass(frozen=True, slots=True)
class Standing:
    """What the store keeps in its index for every entry, decoded or not."""

    wakes_at_ms: int | None
    status: TimerStatus
    updated_at_ms: int

    @classmethod
    def of(cls, timer: SlaTimer) -> Standing:
        return cls(timer.wakes_at(), timer.status, timer.updated_at_ms)

    @property
    def running(self) -> bool:
        """The first-touch clock is running (what the open-timers gauge counts)."""
        return self.status is TimerStatus.RUNNING and self.wakes_at_ms is not None


class TimerSerde:
    def __init__(self) -> None:
        self.codec = AvroCodec(SlaTimer)

    def encode(self, timer: SlaTimer) -> bytes:
        return self.codec.encode(timer)

    def decode(self, data: bytes) -> SlaTimer:
        """Any known version of the record; DecodeError naming what was wrong otherwise."""
        fields = self.codec.decode_fields(data)
        del fields["wakes_at_ms"]  # derived: the model computes it from the other fields
        try:
            return SlaTimer.model_validate(fields)
        except ValidationError as exc:
            raise DecodeError(f"not a valid SlaTimer: {str(exc)[:300]}") from exc

    def standing(self, data: bytes) -> Standing | None:
        """The record's leading fields when the current schema wrote it, else None (decode it).

        Raises DecodeError when the bytes end or hold an unknown status where those fields are.
        """
        header = self.codec.header
        if not data.startswith(header):
            return None
        try:
            pos = len(header)
            wakes_at_ms: int | None = None
            if data[pos] == _NULL:
                pos += 1
            else:
                wakes_at_ms, pos = read_long(data, pos + 1)
            status, pos = read_long(data, pos)
            updated_at_ms, _ = read_long(data, pos)
            if not 0 <= status < len(_STATUSES):
                raise ValueError(f"status index {status}, expected 0..{len(_STATUSES) - 1}")
            return Standing(wakes_at_ms, _STATUSES[status], updated_at_ms)
        except (IndexError, ValueError) as exc:
            raise DecodeError(f"not a valid SlaTimer: its leading fields: {exc}") from exc
