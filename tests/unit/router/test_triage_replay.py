"""Replay covers triage: `leads.inbound` through the live handler again gives the recorded
requests byte for byte, with the config version and owners the recorded decisions name."""

from __future__ import annotations

from services.router.replay import Recorded, ReplayReport
from services.router.triage_replay import replay_triage, triage_requests
from tests.unit.backtest.history_builders import History, record
from tests.unit.router.decision_digest import versioned


def test_replayed_triage_requests_are_the_recorded_ones_byte_for_byte() -> None:
    recording = record(History.generate(800))
    written = triage_requests(recording.requests)
    recorded = Recorded(recording.assignments, {})
    report = ReplayReport()
    replay_triage(recording.inbound, {1: versioned(1), 2: versioned(2)}, recorded, written, report)
    assert len(report.outputs) == len(written) > 700
    assert report.differences == [] and report.unrecorded == []
    assert any(b"repeat of" in o.value for o in report.outputs)  # repeats replay too


def test_a_changed_config_shows_as_triage_differences() -> None:
    recording = record(History.generate(300))
    written = triage_requests(recording.requests)
    report = ReplayReport()
    replay_triage(recording.inbound, {1: versioned(2), 2: versioned(2)},
                  Recorded(recording.assignments, {}), written, report)  # fmt: skip
    assert report.differences
    assert {o.kind for o in report.differences} == {"triage"}


def test_replayed_triage_follows_the_identity_graph_byte_for_byte() -> None:
    recording = record(History.generate(800, phones=True))
    written = triage_requests(recording.requests)
    report = ReplayReport()
    replay_triage(recording.inbound, {1: versioned(1), 2: versioned(2)},
                  Recorded(recording.assignments, {}), written, report)  # fmt: skip
    assert len(report.outputs) == len(written) > 700
    assert report.differences == [] and report.unrecorded == []
    assert any(b"linked by lead" in o.value for o in report.outputs)
