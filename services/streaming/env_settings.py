"""Settings read from environment variables, refused with a sentence a person can act on.

Every service's settings class derives from `EnvSettings`. Building one reads and validates the
environment; a bad value raises `SettingsInvalid` whose problems each name the variable, the
value it held (never for a secret, never for a part of a nested value) and what was expected,
e.g. `ROUTER_METRICS_PORT='nine': should be a valid integer, unable to parse string as an
integer`. Each service's main logs that one line and exits 2, as the CLI does: no traceback.
"""

from __future__ import annotations

import re
from typing import Any, get_args

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsError

from services.streaming.errors import SettingsInvalid

# pydantic-settings names the field only inside its message when a complex value (JSON) fails
# to parse before validation starts.
_UNPARSABLE_FIELD = re.compile(r'error parsing value for field "(\w+)"')


class EnvSettings(BaseSettings):
    """Base of every settings class: construction raises `SettingsInvalid`, never pydantic's
    own errors, whether a value came from the environment or from a keyword argument."""

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsInvalid(settings_problems(type(self), exc)) from None
        except SettingsError as exc:
            raise SettingsInvalid((unparsable_problem(type(self), exc),)) from None


def variable(settings: type[BaseSettings], field: str) -> str:
    """The environment variable a field is read from (`metrics_port` -> `ROUTER_METRICS_PORT`)."""
    return f"{settings.model_config.get('env_prefix', '')}{field}".upper()


def settings_problems(settings: type[BaseSettings], exc: ValidationError) -> tuple[str, ...]:
    """One line per error: the variable (then the path inside a nested value), and the value
    when it is a whole variable's and not a secret, then pydantic's expectation."""
    problems = []
    for error in exc.errors():
        field, *inside = (str(part) for part in error["loc"])
        where = ".".join([variable(settings, field), *inside])
        if not inside and not _is_secret(settings, field):
            where += f"={error['input']!r}"
        problems.append(f"{where}: {_expectation(error['msg'])}")
    return tuple(problems)


def unparsable_problem(settings: type[BaseSettings], exc: SettingsError) -> str:
    found = _UNPARSABLE_FIELD.search(str(exc))
    where = variable(settings, found.group(1)) if found else settings.__name__
    cause = f" ({exc.__cause__})" if exc.__cause__ is not None else ""
    return f"{where}: should be JSON{cause}"


def _expectation(message: str) -> str:
    # "Input should be a valid integer" reads, after the variable's name, as "should be ...".
    return message.removeprefix("Input ")


def _is_secret(settings: type[BaseSettings], field: str) -> bool:
    info = settings.model_fields.get(field)
    return info is not None and _mentions_secret(info.annotation)


def _mentions_secret(annotation: object) -> bool:
    return annotation is SecretStr or any(_mentions_secret(arg) for arg in get_args(annotation))
