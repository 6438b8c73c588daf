"""A projector killed with SIGKILL mid-way and started again ends with exactly the projection a
rebuild from the topics gives: no record lost, none counted twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.cli.__main__ import main
from services.console.projection import Projection, connect
from services.console.projector import Projector, catch_up
from services.streaming.settings import KafkaSettings
from tests.unit.console.projection_builders import day_of_leads
from tests.unit.console.test_projection import dump

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]


def sync_process(settings: KafkaSettings, db: Path, output: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.topic_prefix,
        "CONSOLE_DB": str(db),
        "CONSOLE_BATCH_RECORDS": "1",  # one SQLite transaction per record: many places to die
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "console", "sync"],
        cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip


def applied(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as reader:
            return int(reader.execute("SELECT COALESCE(SUM(next_offset), 0) FROM offsets")
                       .fetchone()[0])  # fmt: skip
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_a_projector_killed_mid_way_resumes_without_double_counting(
    topics: KafkaSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.console.produce import produce

    total = produce(topics, day_of_leads(count=500).items)
    db = tmp_path / "killed.sqlite3"

    first = sync_process(topics, db, subprocess.DEVNULL)
    while applied(db) < total // 4 and first.poll() is None:
        time.sleep(0.01)  # the kill must land while records are still coming in
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    at_kill = applied(db)
    assert 0 < at_kill < total, f"the kill did not land mid-way ({at_kill} of {total})"
    second = sync_process(topics, db, subprocess.PIPE)
    output = second.communicate(timeout=120)[0].decode()
    assert second.returncode == 0, output

    rebuilt = Projection(connect(tmp_path / "rebuilt.sqlite3"))
    projector = Projector(topics, rebuilt)
    try:
        assert catch_up(projector) == total
    finally:
        projector.close()
    resumed = connect(db)
    try:
        assert dump(resumed) == dump(rebuilt.db)
        assert resumed.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 500 * 3 + 1
    finally:
        resumed.close()

    for name, value in (
        ("KAFKA_BOOTSTRAP_SERVERS", topics.bootstrap_servers),
        ("KAFKA_TOPIC_PREFIX", topics.topic_prefix),
        ("CONSOLE_DB", str(db)),
    ):
        monkeypatch.setenv(name, value)  # fmt: skip
    assert main(["console", "rebuild"]) == 0  # `leadrouter console rebuild`: from scratch
    again = connect(db)
    try:
        assert dump(again) == dump(rebuilt.db)
    finally:
        again.close()
        rebuilt.db.close()
