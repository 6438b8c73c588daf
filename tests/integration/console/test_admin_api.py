"""The admin API on the real broker: roles, CSRF and problem+json; a refused request writes
nothing, an operator's reassignment writes its request and its audit entry together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.console.auth import COOKIE
from services.console.openapi import document
from services.console.settings import Role
from services.leads.events import OPERATOR_HEADER, AdminAudit, RepPresence, RoutingRequest
from services.leads.topics import Topic
from services.streaming.settings import KafkaSettings
from tests.integration.console.running import (
    TOKENS,
    Console,
    build_console,
    log_in,
    read_all,
    read_messages,
    written,
)
from tests.unit.console.projection_builders import day_of_leads

pytestmark = [pytest.mark.integration]
PROBLEM = "application/problem+json"


@pytest.fixture
def console(topics: KafkaSettings, tmp_path: Path) -> Iterator[Console]:
    built = build_console(topics, tmp_path / "console.sqlite3")
    built.projection.apply(day_of_leads().items)
    try:
        yield built
    finally:
        built.close()


def bearer(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def test_reads_need_a_token_and_refusals_are_problem_documents_counted_in_metrics(
    console: Console,
) -> None:
    client = console.client()

    anonymous = client.get("/api/v1/leads")
    forged = client.get("/api/v1/leads", headers={"Authorization": "Bearer lrc_nope"})
    unknown = client.get("/api/v1/nowhere", headers=bearer(Role.VIEWER))

    assert (anonymous.status_code, forged.status_code, unknown.status_code) == (401, 401, 404)
    assert anonymous.headers["content-type"] == PROBLEM
    assert anonymous.json()["reason"] == "no_credentials"
    assert unknown.json()["field"] == "path"
    denied = "leadrouter_console_denied_requests_total"
    assert console.registry.get_sample_value(denied, {"reason": "no_credentials"}) == 1
    assert console.registry.get_sample_value(denied, {"reason": "bad_token"}) == 1


def test_a_viewer_searches_and_reads_a_timeline(console: Console) -> None:
    client = console.client(**bearer(Role.VIEWER))

    by_email = client.get("/api/v1/leads", params={"email": "p2@acme.example"}).json()
    timeline = client.get("/api/v1/leads/lead-0").json()
    missing = client.get("/api/v1/leads/lead-404")
    bad_time = client.get("/api/v1/leads", params={"since": "yesterday"})

    assert [lead["lead_id"] for lead in by_email["leads"]] == ["lead-2"]
    assert timeline["owner"]["rep_id"] == "ann" and len(timeline["assignments"]) == 1
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert bad_time.status_code == 400 and bad_time.json()["field"] == "since"


def test_a_viewer_cannot_reassign_or_publish_and_nothing_is_written(
    console: Console, topics: KafkaSettings
) -> None:
    client = console.client(**bearer(Role.VIEWER))
    before = written(topics)

    assign = client.post("/api/v1/leads/lead-0/assign", json={"rep_id": "cy"})
    publish = client.post("/api/v1/config/publish", json={"document": "reps: []"})

    assert (assign.status_code, publish.status_code) == (403, 403)
    assert assign.headers["content-type"] == PROBLEM and assign.json()["reason"] == "forbidden"
    assert written(topics) == before


def test_a_session_post_with_a_wrong_csrf_token_writes_nothing(
    console: Console, topics: KafkaSettings
) -> None:
    client = console.client()
    cross_site = client.post("/login", data={"token": TOKENS[Role.OPERATOR], "nonce": "x"})
    assert cross_site.status_code == 401 and COOKIE not in cross_site.cookies
    login = log_in(client, TOKENS[Role.OPERATOR])
    assert login.status_code == 303 and COOKIE in login.cookies
    before = written(topics)

    forged = client.post("/leads/lead-0/assign", data={"rep_id": "cy", "csrf": "guessed"})
    api = client.post("/api/v1/leads/lead-0/assign", json={"rep_id": "cy"})

    assert (forged.status_code, api.status_code) == (403, 403)
    assert api.json()["reason"] == "bad_csrf"
    assert written(topics) == before


def test_an_operator_reassigns_to_a_named_rep_through_routing_requests_and_audit(
    console: Console, topics: KafkaSettings
) -> None:
    client = console.client(**bearer(Role.OPERATOR))

    answer = client.post(
        "/api/v1/leads/lead-0/assign", json={"rep_id": "bob", "reason": "speaks Finnish"}
    )
    outsider = client.post("/api/v1/leads/lead-0/assign", json={"rep_id": "zed"})

    assert answer.status_code == 200, answer.text
    assert answer.json()["warnings"] == [
        "bob is away: the router will pass them over",
        "the last decision skipped bob: away",
    ]
    assert outsider.status_code == 422 and outsider.json()["field"] == "rep_id"
    [request] = read_all(topics, Topic.ROUTING_REQUESTS, RoutingRequest)
    assert (request.kind.value, request.preferred_owner, request.rep_id) == (
        "reassign",
        "bob",
        "ann",
    )
    assert request.reason == "console: olga: speaks Finnish" and request.attempt == 2
    [audit] = read_all(topics, Topic.ADMIN_AUDIT, AdminAudit)
    assert (audit.actor, audit.action.value, audit.target) == ("olga", "assign_to_rep", "lead-0")
    assert audit.request_ids == (request.request_id,)


def test_config_validation_names_the_yaml_line_and_openapi_lists_every_route(
    console: Console,
) -> None:
    client = console.client(**bearer(Role.VIEWER))

    review = client.post("/api/v1/config/validate", json={"document": "reps:\n  - id: 7\n"}).json()
    spec = client.get("/api/v1/openapi.json").json()

    assert review["valid"] is False and review["problems"][0]["line"] is not None
    assert review["problems"][0]["text"].startswith("candidate.yaml:")
    api_paths = {r.path for r in console.app.routes if getattr(r, "path", "").startswith("/api")}
    assert set(spec["paths"]) == api_paths - {"/api/v1/openapi.json"}
    assert spec == document()


def test_an_operator_moves_every_open_lead_of_a_rep_and_sets_presence_in_one_audit_each(
    console: Console, topics: KafkaSettings
) -> None:
    client = console.client(**bearer(Role.OPERATOR))

    moved = client.post("/api/v1/reps/cy/reassign", json={"reason": "left the company"})
    away = client.post(
        "/api/v1/reps/cy/presence",
        json={"status": "offline", "reason": "gone", "until": "2999-01-01T00:00:00Z"},
    )
    wrong = client.post("/api/v1/reps/cy/presence", json={"status": "asleep"})
    lapsed = client.post("/api/v1/reps/cy/presence", json={"status": "away", "until": "1"})

    assert (moved.status_code, away.status_code) == (200, 200), moved.text + away.text
    assert wrong.status_code == 422 and wrong.json()["field"] == "status"
    assert lapsed.status_code == 422 and lapsed.json()["field"] == "until"
    requests = read_all(topics, Topic.ROUTING_REQUESTS, RoutingRequest)
    assert sorted(r.lead_id for r in requests) == ["lead-1", "lead-2", "lead-4", "lead-5"]
    assert {(r.rep_id, r.preferred_owner, r.kind.value) for r in requests} == {
        ("cy", None, "reassign")
    }
    [presence] = read_all(topics, Topic.REPS_PRESENCE, RepPresence)
    assert (presence.rep_id, presence.status.value) == ("cy", "offline")
    assert presence.until_ms == 32_472_144_000_000
    audits = {a.action.value: a for a in read_all(topics, Topic.ADMIN_AUDIT, AdminAudit)}
    assert audits["reassign_rep_leads"].request_ids == tuple(r.request_id for r in requests)
    assert audits["set_presence"].detail == {"status": "offline"}


def test_an_operator_pauses_and_resumes_a_pool_and_a_viewer_cannot(
    console: Console, topics: KafkaSettings
) -> None:
    operator = console.client(**bearer(Role.OPERATOR))
    viewer = console.client(**bearer(Role.VIEWER))
    before = written(topics)
    denied = viewer.post("/api/v1/pools/emea/pause", json={"reason": "audit"})
    assert denied.status_code == 403 and written(topics) == before

    paused = operator.post("/api/v1/pools/emea/pause", json={"reason": "team offsite"})
    unknown = operator.post("/api/v1/pools/nowhere/pause", json={})
    resumed = operator.post("/api/v1/pools/emea/resume", json={"reason": "back"})

    assert (paused.status_code, resumed.status_code) == (200, 200), paused.text + resumed.text
    assert unknown.status_code == 422 and unknown.json()["field"] == "pool_id"
    states = read_all(topics, Topic.REPS_PRESENCE, RepPresence)
    assert [(p.rep_id, p.status.value) for p in states] == [
        ("@pool/emea", "away"),
        ("@pool/emea", "available"),
    ]
    audits = read_all(topics, Topic.ADMIN_AUDIT, AdminAudit)
    assert [(a.actor, a.action.value, a.target, a.reason) for a in audits] == [
        ("olga", "pause_pool", "emea", "team offsite"),
        ("olga", "resume_pool", "emea", "back"),
    ]


def test_an_operator_overrides_eligibility_and_the_request_says_so(
    console: Console, topics: KafkaSettings
) -> None:
    client = console.client(**bearer(Role.OPERATOR))

    answer = client.post(
        "/api/v1/leads/lead-0/assign",
        json={"rep_id": "bob", "reason": "speaks Finnish", "override": True},
    )
    wrong = client.post("/api/v1/leads/lead-0/assign", json={"rep_id": "bob", "override": "yes"})

    assert answer.status_code == 200, answer.text
    assert answer.json()["warnings"][0] == "bob is away: overridden: the router assigns them anyway"
    assert wrong.status_code == 422 and wrong.json()["field"] == "override"
    [message] = read_messages(topics, Topic.ROUTING_REQUESTS)
    assert (OPERATOR_HEADER, b"override") in (message.headers() or [])
    [audit] = read_all(topics, Topic.ADMIN_AUDIT, AdminAudit)
    assert audit.detail == {"rep_id": "bob", "pool_id": "emea", "override": "true"}
