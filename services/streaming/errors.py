"""The one exception tree of leadrouter's streaming edge.

    LeadrouterError
    ├── PermanentError        bad input: retrying cannot help; dead-letter it or answer 4xx
    │   ├── DecodeError       bytes that are not a record of the expected schema
    │   └── InvalidRecord     a well-formed record the domain refuses (names the field)
    ├── TransientError        the broker or network: abort, never commit, retry
    └── FatalError            this process must stop: fenced by a newer instance, bad setup

Library errors are wrapped with `raise ... from exc` so the cause stays attached.
"""

from __future__ import annotations


class LeadrouterError(Exception):
    """Base of every error leadrouter raises on purpose."""


class PermanentError(LeadrouterError):
    """The input is bad; `reason` is a bounded label for metrics and dead letters."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class DecodeError(PermanentError):
    def __init__(self, detail: str) -> None:
        super().__init__("undecodable", detail)


class InvalidRecord(PermanentError):
    pass


class TransientError(LeadrouterError):
    """The broker or network failed; the work is retried from the last commit."""


class FatalError(LeadrouterError):
    """The process cannot go on (fenced, misconfigured, co-partitioning broken)."""
