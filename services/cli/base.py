"""What every CLI command group shares: how it registers, and how it fails.

A command group is a module with `register(subparsers)`; each subcommand sets `func`, a
callable taking the parsed namespace and returning an exit code. A failure a person can act on
is raised as `CommandError`: the CLI prints its one line and exits non-zero, never a trace.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Protocol

Subparsers = Any  # argparse's _SubParsersAction is private; its shape is all that matters here
Command = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A one-line reason the command failed."""


class CommandGroup(Protocol):
    def register(self, subparsers: Subparsers) -> None: ...
