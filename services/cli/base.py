"""What every CLI command group shares: how it registers, how it fails, and how a long-running
command is told to stop.

A command group is a module with `register(subparsers)`; each subcommand sets `func`, a
callable taking the parsed namespace and returning an exit code. A command raises errors of the
one tree (`services.streaming.errors`) and converts none of them: `main` turns each into its
one line and exit code, never a trace. `CommandError` is for what the command itself refuses.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

from services.streaming.errors import PermanentError

Subparsers = Any  # argparse's _SubParsersAction is private; its shape is all that matters here
Command = Callable[[argparse.Namespace], int]


class CommandError(PermanentError):
    """A one-line reason the command refused its arguments or the state it found."""

    def __init__(self, detail: str) -> None:
        super().__init__("command_refused", detail)


class CommandGroup(Protocol):
    def register(self, subparsers: Subparsers) -> None: ...


def stop_on_signal_or_after(stop: threading.Event, seconds: float | None) -> None:
    """Set `stop` on SIGINT or SIGTERM, and after `seconds` when given, so a watching command
    winds down through its own cleanup instead of dying mid-write."""

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if seconds is not None:
        timer = threading.Timer(seconds, stop.set)
        timer.daemon = True  # Ctrl-C before it fires must not wait for it
        timer.start()
