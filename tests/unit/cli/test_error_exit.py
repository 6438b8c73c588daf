"""`leadrouter` turns every error of the tree into one line and an exit code, in `main` only."""

from __future__ import annotations

import pytest

from services.cli import config_cmd
from services.cli.__main__ import main
from services.leads.events import RoutingConfigRecord
from services.streaming.errors import TransientError
from services.streaming.settings import KafkaSettings


def broker_down(_settings: KafkaSettings) -> dict[int, RoutingConfigRecord]:
    raise TransientError("cannot reach Kafka at 127.0.0.1:1: timed out")


def test_a_transient_error_from_a_command_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(config_cmd, "read_published", broker_down)
    assert main(["config", "show"]) == 1
    assert (
        capsys.readouterr().err
        == "leadrouter config: cannot reach Kafka at 127.0.0.1:1: timed out\n"
    )


def test_a_refusal_shows_its_detail_without_the_metrics_label(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["assignments", "tail", "--limit", "0"]) == 1
    assert capsys.readouterr().err == "leadrouter assignments: --limit must be at least 1, got 0\n"


def test_a_bad_environment_variable_exits_2_like_a_bad_argument(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "TLS")
    assert main(["config", "show"]) == 2
    assert capsys.readouterr().err.startswith(
        "leadrouter config: bad settings: KAFKA_SECURITY_PROTOCOL='TLS': should be 'PLAINTEXT'"
    )
