"""Settings refuse a bad value with the variable, the value (never a secret's) and the want."""

from __future__ import annotations

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.streaming.env_settings import EnvSettings
from services.streaming.errors import FatalError, SettingsInvalid


class SampleSettings(EnvSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLE_", frozen=True)

    port: int = 1
    token: SecretStr | None = None
    tags: dict[str, int] = Field(default_factory=dict)


def refusal(**env: str) -> SettingsInvalid:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with pytest.raises(SettingsInvalid) as caught:
            SampleSettings()
    return caught.value


def test_a_bad_value_names_the_variable_the_value_and_what_was_expected() -> None:
    assert refusal(SAMPLE_PORT="nine").problems == (
        "SAMPLE_PORT='nine': should be a valid integer, unable to parse string as an integer",
    )


def test_every_bad_variable_is_named_not_only_the_first() -> None:
    problems = refusal(SAMPLE_PORT="nine", SAMPLE_TAGS='{"a": "x"}').problems
    assert [p.split(":")[0] for p in problems] == ["SAMPLE_PORT='nine'", "SAMPLE_TAGS.a"]


def test_a_part_of_a_json_value_is_named_by_its_path_without_echoing_it() -> None:
    assert refusal(SAMPLE_TAGS='{"a": "x"}').problems == (
        "SAMPLE_TAGS.a: should be a valid integer, unable to parse string as an integer",
    )


def test_a_value_that_is_not_json_is_named_with_the_parse_error() -> None:
    (problem,) = refusal(SAMPLE_TAGS="{a").problems
    assert problem.startswith("SAMPLE_TAGS: should be JSON (Expecting property name")


def test_a_refused_secret_is_named_but_its_value_never_shown() -> None:
    with pytest.raises(SettingsInvalid) as caught:
        SampleSettings(token=12345)  # a secret must be a string
    assert caught.value.problems == ("SAMPLE_TOKEN: should be a valid string",)
    assert "12345" not in str(caught.value)


def test_bad_settings_stop_the_process_as_a_fatal_error() -> None:
    assert isinstance(refusal(SAMPLE_PORT="x"), FatalError)
