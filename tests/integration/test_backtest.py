"""`leadrouter backtest` against the real broker: leads from `leads.inbound`, the config history
from `routing.config`, presence from `reps.presence`; and the same leads from export files."""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
import pytest
import yaml
from confluent_kafka import Producer

from services.backtest.history import Skipped, file_leads
from services.cli.__main__ import main
from services.leads.events import ActivityType, Lead, LeadActivity, PresenceStatus, RepPresence
from services.leads.topics import Topic
from services.router.config_source import publish_config, read_published
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from tests.integration.router.router_io import publish_presence, read_decisions
from tests.integration.router.router_process import RouterProcess
from tests.unit.router.config_builders import make_doc, make_lead, make_pool, make_rep

pytestmark = pytest.mark.integration

T0 = 1_795_413_600_000
COUNTRIES = ["DE", "AT", "US", "AT", "DE", "FR", "AT", "DE"]


def _doc(dach: list[str]) -> dict[str, Any]:
    reps = [make_rep("ann"), make_rep("bob"), make_rep("cy")]
    pools = [
        make_pool("general", ("ann",)),
        make_pool("dach", ("bob",), fallback="spare"),
        make_pool("spare", ("cy",)),
    ]
    rules = [{"id": "dach", "when": {"country": dach}, "pool": "dach"}]
    return make_doc(reps=reps, pools=pools, rules=rules)


def _leads() -> list[Lead]:
    return [
        make_lead(f"L{n}", identity_key=f"p{n}@x.example", email=f"p{n}@x.example",
                  country=c, company_domain=None, received_at_ms=T0 + n * 60_000)
        for n, c in enumerate(COUNTRIES)
    ]  # fmt: skip


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def leadrouter(
    topics: KafkaSettings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Done]:
    """`leadrouter ARGS` in this process against the test's broker and topic prefix."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", topics.bootstrap_servers)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", topics.topic_prefix)

    def run(*args: str, stdin: str = "") -> Done:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(args))
        out = capsys.readouterr()
        return Done(code, out.out, out.err)

    return run


def _produce(settings: KafkaSettings, leads: list[Lead], *, at_record_time: bool = True) -> None:
    """Append `leads`, stamped with their receive time (or with the time of appending)."""
    codec = AvroCodec(Lead)
    producer = Producer(settings.producer())
    for lead in leads:
        producer.produce(
            settings.topic(Topic.INBOUND),
            key=lead.identity_key.encode(),
            value=codec.encode(lead),
            timestamp=lead.received_at_ms + 3 if at_record_time else 0,  # 0: now
        )
    assert producer.flush(30) == 0


def test_backtest_reads_the_broker_and_names_the_leads_the_candidate_moves(
    topics: KafkaSettings, tmp_path: Path, leadrouter: Callable[..., Done]
) -> None:
    publish_config(topics, yaml.safe_dump(_doc(["DE"])), published_by="test", now_ms=1)
    bob_away = RepPresence(
        rep_id="bob", status=PresenceStatus.AWAY, changed_at_ms=T0 + 7 * 60_000 - 1
    )
    publish_presence(topics, [bob_away])  # recorded now: after every lead, so it changes none
    _produce(topics, _leads())
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(yaml.safe_dump(_doc(["DE", "AT"])))
    out, page = tmp_path / "report.json", tmp_path / "report.html"
    done = leadrouter("backtest", str(candidate), "--json", str(out), "--html", str(page))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "leads that would move:     3" in done.stdout
    data = json.loads(out.read_text())
    assert [m["lead_id"] for m in data["moved"]] == ["L1", "L3", "L6"]
    assert data["baseline_versions"] == [1]
    assert data["presence_changes_replayed"] == 0
    assert data["baseline"]["pools"] == {"dach": 3, "general": 5}
    assert "<svg" in page.read_text()

    since = leadrouter("backtest", str(candidate), "--since", "2026-11-23T06:02:00", "--json",
                str(out))  # fmt: skip
    assert since.returncode == 0, since.stdout + since.stderr
    assert [m["lead_id"] for m in json.loads(out.read_text())["moved"]] == ["L3", "L6"]

    export = tmp_path / "leads.jsonl"
    export.write_text("".join(lead.model_dump_json() + "\n" for lead in _leads()))
    from_file = leadrouter("backtest", str(candidate), "--input", str(export), "--json", str(out))
    assert from_file.returncode == 0, from_file.stdout + from_file.stderr
    assert [m["lead_id"] for m in json.loads(out.read_text())["moved"]] == ["L1", "L3", "L6"]


def test_backtest_refuses_an_invalid_candidate_naming_the_problem(
    tmp_path: Path, leadrouter: Callable[..., Done]
) -> None:
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(yaml.safe_dump({**_doc(["DE"]), "default_pool": "nowhere"}))
    done = leadrouter("backtest", str(candidate))
    assert done.returncode == 1
    assert "not a valid routing config" in done.stderr and "nowhere" in done.stderr


def test_avro_container_export_reads_as_the_same_leads(tmp_path: Path) -> None:
    schema = AvroCodec(Lead).schema
    path = tmp_path / "leads.avro"
    with path.open("wb") as handle:
        fastavro.writer(handle, schema, [lead.model_dump() for lead in _leads()])
    skipped = Skipped()
    read = [item.lead for item in file_leads(path, skipped)]
    assert read == _leads() and skipped.count == 0


def test_config_publish_with_backtest_prints_the_summary_and_asks_first(
    topics: KafkaSettings, tmp_path: Path, leadrouter: Callable[..., Done]
) -> None:
    publish_config(topics, yaml.safe_dump(_doc(["DE"])), published_by="test", now_ms=1)
    _produce(topics, _leads())
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(yaml.safe_dump(_doc(["DE", "AT"])))
    declined = leadrouter("config", "publish", str(candidate), "--backtest", "3650d", stdin="n\n")
    assert declined.returncode == 1, declined.stdout + declined.stderr
    assert "leads that would move:     3" in declined.stdout
    assert "not published" in declined.stdout
    assert sorted(read_published(topics)) == [1]

    accepted = leadrouter("config", "publish", str(candidate), "--backtest", "3650d", "--yes")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "leads that would move:     3" in accepted.stdout
    assert sorted(read_published(topics)) == [1, 2]


def test_live_router_decisions_are_reproduced_by_replay_and_by_the_in_force_backtest(
    topics: KafkaSettings, tmp_path: Path, leadrouter: Callable[..., Done]
) -> None:
    doc = _doc(["DE", "AT"])
    doc["pools"][0]["members"] = [{"rep": "ann"}, {"rep": "cy", "weight": 2}]
    doc["pools"][0]["strategy"] = "weighted"
    # live, owner facts reach triage a commit late: continuity off keeps this comparison exact
    doc["continuity"] = {"person_window": 0, "company_domain_window": 0, "dedup_window": 0}
    now_ms = time.time_ns() // 1_000_000  # appended now, so assign decides when triage did
    publish_config(topics, yaml.safe_dump(doc), published_by="test", now_ms=1)
    leads = [
        make_lead(f"R{n}", identity_key=f"p{n % 9}@x.example", email=f"p{n % 9}@x.example",
                  country=COUNTRIES[n % len(COUNTRIES)], company_domain=f"c{n % 4}.example",
                  received_at_ms=now_ms - 60_000 + n * 1000)
        for n in range(40)
    ]  # fmt: skip
    _produce(topics, leads, at_record_time=False)
    router = RouterProcess(topics, tmp_path, stage="all")
    router.start()
    try:
        decisions = read_decisions(topics, wanted=len(leads), deadline_s=60)
    finally:
        router.stop()
    assert len(decisions) == len(leads), router.logs()

    replayed = leadrouter("replay", "--from-beginning", "--into", topics.topic("replayed"))
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert f"of them triage requests:        {len(leads)} ({len(leads)} identical)" in (
        replayed.stdout
    )

    touch = AvroCodec(LeadActivity)
    producer = Producer(topics.producer())
    for d in decisions[:5]:  # touched 3 minutes after the decision, by the owner
        event = LeadActivity(activity_id=f"t-{d.lead_id}", lead_id=d.lead_id,
                             type=ActivityType.FIRST_TOUCH, rep_id=d.rep_id,
                             occurred_at_ms=d.decided_at_ms + 180_000)  # fmt: skip
        producer.produce(topics.topic(Topic.ACTIVITY), key=d.lead_id, value=touch.encode(event))
    assert producer.flush(30) == 0

    in_force = tmp_path / "in_force.yaml"
    in_force.write_text(yaml.safe_dump(doc))
    out = tmp_path / "report.json"
    done = leadrouter("backtest", str(in_force), "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(out.read_text())
    assert data["moved"] == []
    live = Counter(f"{d.pool_id}/{d.rep_id}" for d in decisions if d.rep_id)
    backtested = {f"{r['pool']}/{r['rep']}": r["leads"] for r in data["baseline"]["reps"]}
    assert {k: v for k, v in backtested.items() if v} == dict(live)
    # no pool has an SLA policy: every lead is counted apart, none guessed
    assert data["baseline"]["projected_sla_breaches"]["no_policy"] == len(leads)
