"""Every error leadrouter raises on purpose sits on its branch of the one tree, drawn in
`services/streaming/errors.py`'s docstring."""

from __future__ import annotations

import pytest

from services.cli.base import CommandError
from services.demo.ports import PortError
from services.demo.stack import StackError
from services.ingest.problems import Refused
from services.ingest.publisher import BrokerUnavailable
from services.ingest.rejection import InvalidLead, LeadTooLarge
from services.leads.config_errors import ConfigInvalid
from services.streaming import errors
from services.streaming.avro_binary import Unsupported
from services.streaming.errors import (
    FatalError,
    LeadrouterError,
    PermanentError,
    SettingsInvalid,
    TransientError,
)
from services.streaming.isolation import OutputsRefused
from services.streaming.kafka_calls import Fenced, StopRequested
from services.streaming.local_broker import BrokerError


@pytest.mark.parametrize(
    ("error", "branch"),
    [
        (ConfigInvalid, PermanentError),
        (Refused, PermanentError),
        (CommandError, PermanentError),
        (InvalidLead, PermanentError),
        (BrokerUnavailable, TransientError),
        (SettingsInvalid, FatalError),
        (PortError, SettingsInvalid),
        (Unsupported, FatalError),
        (BrokerError, FatalError),
        (StackError, FatalError),
        (OutputsRefused, PermanentError),
        (LeadTooLarge, InvalidLead),
        (StopRequested, FatalError),
        (Fenced, FatalError),
    ],
)
def test_each_error_sits_on_its_branch(error: type[Exception], branch: type[Exception]) -> None:
    assert issubclass(error, branch)


def every_error(root: type[Exception]) -> set[type[Exception]]:
    found = set()
    for sub in root.__subclasses__():
        found |= {sub, *every_error(sub)}
    return found


def test_the_docstring_draws_every_error_of_the_tree() -> None:
    # The imports above load every module that defines one; a new error must be drawn too.
    drawn = errors.__doc__ or ""
    missing = sorted(e.__name__ for e in every_error(LeadrouterError) if e.__name__ not in drawn)
    assert missing == []


def test_no_branch_is_inside_another() -> None:
    branches = (PermanentError, TransientError, FatalError)
    assert [b for b in branches if any(issubclass(b, o) for o in branches if o is not b)] == []
