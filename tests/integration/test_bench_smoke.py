"""`python -m bench` end to end at a tiny size: it runs, and its JSON says what a reader needs.

No timing is asserted here (speeds are what `make bench` reports); only that every figure is
there, positive, and comes with the machine it was measured on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCALE = 0.01

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_quick_passthrough_restore_and_sla_write_a_complete_report(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "bench", "--quick", "--parts", "passthrough,restore,sla"]
    command += ["--scale", str(SCALE), "--bootstrap", kafka_bootstrap, "--out", str(tmp_path)]
    result = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]

    [report_file] = tmp_path.glob("bench-quick-*.json")
    assert list(tmp_path.glob("bench-quick-*.png"))
    report = json.loads(report_file.read_text())
    assert report["mode"] == "quick"
    assert report["machine"]["cpu_count"] >= 1
    assert {"python", "confluent-kafka", "fastavro", "kafka_broker"} <= set(
        report["machine"]["versions"]
    )
    figures = {(f["part"], f["name"]): f for f in report["figures"]}
    expected = {
        ("passthrough", "raw transactional passthrough"),
        ("passthrough", "TransactionalLoop passthrough"),
        ("restore", "restore pools' rotation state"),
        ("restore", "restore pending SLA timers"),
        ("ratio", "loop passthrough ÷ raw passthrough"),
        ("sla", "SLA timers started"),
        ("sla", "SLA escalations fired"),
        ("ratio", "SLA timers started ÷ raw passthrough"),
        ("ratio", "SLA escalations fired ÷ raw passthrough"),
    }
    assert expected <= set(figures)
    for figure in report["figures"]:
        assert figure["value"] > 0, figure
        assert figure["timed"], figure
    sizes = report["sizes"]
    assert (
        figures[("passthrough", "raw transactional passthrough")]["count"]
        == sizes["passthrough_records"]
    )
    assert figures[("restore", "restore pools' rotation state")]["count"] > sizes["pools"]
    assert figures[("restore", "restore pending SLA timers")]["count"] == sizes["timers"]
    assert figures[("sla", "SLA timers started")]["count"] == sizes["timers"]
    assert figures[("sla", "SLA escalations fired")]["count"] == sizes["timers"]
