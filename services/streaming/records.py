"""The values the processing loop hands to a handler and takes back."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class InputRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class OutputRecord:
    """A record to produce in the current transaction. `partition=None` lets the key decide."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    partition: int | None = None


class Clock(Protocol):
    """Time as a parameter: the system clock in services, a hand-moved one in tests."""

    def now_ms(self) -> int: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass(frozen=True)  # no slots: `Serde[int](...)` sets __orig_class__ on the instance
class Serde(Generic[T]):
    """How a state store turns its values into bytes and back."""

    encode: Callable[[T], bytes]
    decode: Callable[[bytes], T]
