"""A bad environment variable stops every console script with one line naming it, and exit 2.

The real console scripts run, as an operator starts them; none of these reaches a broker
(`KAFKA_BOOTSTRAP_SERVERS` points at a closed port), because settings are read first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run_script(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = shutil.which(script, path=str(BIN)) or shutil.which(script)
    assert path is not None, f"{script} is not installed (make setup)"
    return subprocess.run(
        [path, *args],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", **env},
        capture_output=True,
        text=True,
        timeout=60,  # a script that accepted the value would wait for a broker: fail, not hang
        check=False,
    )


@pytest.mark.parametrize(
    ("script", "args", "variable", "value", "expected"),
    [
        (
            "leadrouter-router", (), "ROUTER_METRICS_PORT", "nine",
            "ROUTER_METRICS_PORT='nine': should be a valid integer",
        ),
        (
            "leadrouter-router", (), "KAFKA_SECURITY_PROTOCOL", "TLS",
            "KAFKA_SECURITY_PROTOCOL='TLS': should be 'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT' or "
            "'SASL_SSL'",
        ),
        (
            "leadrouter-sla-watcher", (), "SLA_GRACE_MS", "-5",
            "SLA_GRACE_MS='-5': should be greater than or equal to 0",
        ),
        (
            "leadrouter-ingest", ("--no-smtp", "--no-raw"), "INGEST_HTTP_WORKERS", "0",
            "INGEST_HTTP_WORKERS='0': should be greater than or equal to 1",
        ),
        (
            "leadrouter-ingest", ("--no-smtp", "--no-raw"), "INGEST_FORMS", "{contact",
            "INGEST_FORMS: should be JSON",
        ),
        (
            "leadrouter", ("topics", "check"), "KAFKA_SECURITY_PROTOCOL", "TLS",
            "leadrouter topics: bad settings: KAFKA_SECURITY_PROTOCOL='TLS': should be",
        ),
    ],
)  # fmt: skip
def test_a_bad_variable_is_named_with_what_was_expected_and_exits_2(
    script: str, args: tuple[str, ...], variable: str, value: str, expected: str
) -> None:
    result = run_script(script, *args, env={variable: value})
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
