"""The projection counts every record once, however often a batch is applied, and a projection
built in one go equals one built record by record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from services.console.fairness import fairness
from services.console.projection import Projection, connect
from services.console.queries import LeadQuery, board, search, timeline
from services.leads.topics import Topic
from tests.unit.console.projection_builders import day_of_leads
from tests.unit.sla_watcher.builders import T0


def dump(db: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, sorted; timeline rows without their sequence number, which follows
    the order partitions happened to arrive in."""
    queries = {t: f"SELECT * FROM {t}" for t in ("leads", "presence", "config", "audit", "offsets")}
    queries["events"] = (
        'SELECT lead_id, kind, at_ms, pool_id, rep_id, outcome, topic, partition, "offset", body '
        "FROM events"
    )
    return {t: sorted(db.execute(q).fetchall(), key=repr) for t, q in queries.items()}


def test_applying_a_batch_twice_counts_each_record_once(tmp_path: Path) -> None:
    log = day_of_leads()
    projection = Projection(connect(tmp_path / "p.sqlite3"))

    first = projection.apply(log.items)
    again = projection.apply(log.items)
    overlapping = projection.apply(log.items[len(log.items) // 2 :])

    assert (first, again, overlapping) == (len(log.items), 0, 0)
    events = projection.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert events == 6 * 3 + 1  # inbound, request, assignment per lead; one activity
    assert projection.next_offsets()[(Topic.ASSIGNMENTS.value, 0)] == 3


def test_rebuild_in_one_batch_equals_applying_record_by_record(tmp_path: Path) -> None:
    log = day_of_leads()
    whole = Projection(connect(tmp_path / "whole.sqlite3"))
    whole.apply(log.items)
    incremental = Projection(connect(tmp_path / "inc.sqlite3"))
    for index in range(len(log.items)):
        incremental.apply(log.items[max(0, index - 2) : index + 1])  # overlapping windows

    assert dump(whole.db) == dump(incremental.db)


def test_search_finds_a_lead_by_each_index(tmp_path: Path) -> None:
    projection = Projection(connect(tmp_path / "p.sqlite3"))
    projection.apply(day_of_leads().items)

    def ids(**filters: object) -> list[str]:
        return [row["lead_id"] for row in search(projection.db, LeadQuery(**filters))]  # type: ignore[arg-type]

    assert ids(lead_id="lead-2") == ["lead-2"]
    assert ids(email="P3@acme.example") == ["lead-3"]
    assert ids(phone="+49300004") == ["lead-4"]
    assert sorted(ids(rep="ann")) == ["lead-0", "lead-3"]
    assert len(ids(pool="emea")) == 6
    assert ids(pool="apac") == []
    assert len(ids(since_ms=T0 - 1_000, until_ms=T0)) == 6
    assert ids(since_ms=T0) == []


def test_timeline_links_each_assignment_to_its_request_and_keeps_the_trace(tmp_path: Path) -> None:
    projection = Projection(connect(tmp_path / "p.sqlite3"))
    projection.apply(day_of_leads().items)

    found = timeline(projection.db, "lead-0")

    assert found is not None
    assert found["lead"]["email"] == "p0@acme.example"
    assert found["triage"]["rule_id"] == "dach" and found["triage"]["score"] == 40
    assert found["owner"] == {"pool_id": "emea", "rep_id": "ann", "open": True}
    [assignment] = found["assignments"]
    skipped = {c["rep_id"]: c["skip_reason"] for c in assignment["trace"]["candidates"]}
    assert skipped == {"ann": None, "bob": "away", "cy": None}
    assert [a["type"] for a in found["activity"]] == ["first_touch"]
    assert timeline(projection.db, "lead-404") is None


def test_board_shows_weights_presence_load_and_deviation_from_the_weighted_share(
    tmp_path: Path,
) -> None:
    projection = Projection(connect(tmp_path / "p.sqlite3"))
    projection.apply(day_of_leads().items)

    shown = board(projection.db, day_start_ms=T0, now_ms=T0 + 10)

    [pool] = shown["pools"]
    rows = {r["rep_id"]: r for r in pool["reps"]}
    assert shown["config_version"] == 1 and pool["today"] == 6
    assert (rows["ann"]["today"], rows["bob"]["today"], rows["cy"]["today"]) == (2, 0, 4)
    assert rows["bob"]["presence"] == "away" and rows["cy"]["weight"] == 2
    assert rows["cy"]["deviation"] == 1.0  # 4 against a share of 6 * 2/4
    assert rows["ann"]["open"] == 2


def test_fairness_compares_each_rep_with_its_weighted_share_of_the_period(tmp_path: Path) -> None:
    projection = Projection(connect(tmp_path / "p.sqlite3"))
    projection.apply(day_of_leads().items)

    report = fairness(projection.db, since_ms=T0, until_ms=T0 + 3)
    empty = fairness(projection.db, since_ms=T0 + 100, until_ms=T0 + 200)

    rows = {r["rep_id"]: r for r in report["pools"][0]["reps"]}
    assert report["pools"][0]["total"] == 3  # leads 0, 1, 2 were decided at T0 + 0..2
    assert (rows["ann"]["actual"], rows["cy"]["actual"]) == (1, 2)
    assert rows["cy"]["expected"] == 1.5 and rows["cy"]["difference"] == 0.5
    assert [r["actual"] for r in empty["pools"][0]["reps"]] == [0, 0, 0]
