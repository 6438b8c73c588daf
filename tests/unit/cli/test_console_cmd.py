"""`leadrouter console token` prints a token once and the CONSOLE_TOKENS entry that admits it."""

from __future__ import annotations

import json

import pytest

from services.cli.__main__ import main
from services.console.settings import Role, TokenEntry
from services.console.tokens import Principal, principal_for


def test_a_printed_token_is_admitted_by_the_printed_entry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["console", "token", "alice", "--role", "operator"]) == 0

    shown, entry_line = capsys.readouterr().out.splitlines()
    token = shown.rsplit(" ", 1)[1]
    entry = TokenEntry(**json.loads(entry_line.removeprefix("add to CONSOLE_TOKENS: ")))
    assert principal_for(token, [entry]) == Principal("alice", Role.OPERATOR)
    assert token not in entry_line
