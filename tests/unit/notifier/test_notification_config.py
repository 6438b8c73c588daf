"""The `notifications` section: optional, validated, errors naming the path and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.leads.config_errors import ConfigInvalid
from services.leads.notification_config import QuietHours, quiet_until
from services.leads.routing_config import parse_routing_config
from services.router.config_document import describe, parse_config_text
from tests.unit.notifier.builders import config_doc, make_config

REPO = Path(__file__).resolve().parents[3]
HOUR = 3_600_000


def problems(notifications: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_routing_config(config_doc(notifications))
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("name", ["routing.example.yaml", "routing.demo.yaml"])
def test_configs_without_notifications_stay_valid(name: str) -> None:
    config = parse_config_text((REPO / "deploy" / "config" / name).read_text())
    assert config.notifications.contacts is not None


def test_a_full_section_is_accepted() -> None:
    config = make_config(
        {
            "console_url": "https://console.example/leads/{lead_id}",
            "contacts": {
                "ann": {
                    "quiet_hours": "21:00-07:00",
                    "points": [
                        {"channel": "email", "to": "ann@example.com"},
                        {"channel": "sms", "to": "+4915123456789"},
                        {"channel": "slack", "slack_channel": "C0123"},
                    ],
                },
                "inside": {"points": [{"channel": "teams", "webhook_url": "https://t.example/w"}]},
                "maria": {"points": [{"channel": "slack", "webhook_url": "https://h.example/s"}]},
            },
            "subscribers": [{"channel": "webhook", "url": "https://crm.example/hook"}],
            "templates": {"assigned": {"subject": "Lead {{ lead.display }}"}},
        }
    )
    contact = config.notifications.contacts["ann"]
    assert contact.quiet_hours == QuietHours(start_min=21 * 60, end_min=7 * 60)
    assert [p.channel for p in contact.points] == ["email", "sms", "slack"]


def test_contacts_of_nobody_are_named() -> None:
    found = problems({"contacts": {"zed": {"points": [{"channel": "email", "to": "z@x.io"}]}}})
    assert found == [
        "notifications.contacts.zed: 'zed' is no rep, manager or pool id: "
        "contacts are keyed by those"
    ]


@pytest.mark.parametrize(
    ("point", "message"),
    [
        ({"channel": "email", "to": "ann-at-example"}, "expected an email address"),
        ({"channel": "sms", "to": "0151 2345"}, "E.164"),
        ({"channel": "slack"}, "exactly one of webhook_url and slack_channel"),
        ({"channel": "webhook", "url": "ftp://x"}, "expected an http(s) URL"),
        ({"channel": "pager", "to": "x"}, "does not match any of the expected tags"),
    ],
)
def test_bad_contact_points_are_named_with_their_path(point: dict[str, str], message: str) -> None:
    (found,) = problems({"contacts": {"ann": {"points": [point]}}})
    assert found.startswith("notifications.contacts.ann.points[0]")
    assert message in found


def test_bad_quiet_hours_template_and_zone_are_refused() -> None:
    found = problems(
        {
            "contacts": {
                "ann": {"quiet_hours": "9pm-7am", "time_zone": "Mars/Olympus", "points": []}
            },
            "templates": {"escalated": {"text": "{% if %}"}},
        }
    )
    assert any("quiet_hours: expected quiet hours like '21:00-07:00'" in p for p in found)
    assert any("time_zone: unknown time zone 'Mars/Olympus'" in p for p in found)
    assert any(
        p.startswith("notifications.templates.escalated.text: template does not compile")
        for p in found
    )


def test_validate_names_the_line_of_a_bad_point() -> None:
    doc = config_doc({"contacts": {"ann": {"points": [{"channel": "email", "to": "nope"}]}}})
    text = yaml.safe_dump(doc, sort_keys=False)
    with pytest.raises(ConfigInvalid) as caught:
        parse_config_text(text)
    (problem,) = caught.value.problems
    assert problem.line is not None
    assert "nope" in text.splitlines()[problem.line - 1]
    assert "expected an email address" in describe(problem, "routing.yaml")


def test_quiet_hours_across_midnight_end_in_the_persons_morning() -> None:
    quiet = QuietHours(start_min=21 * 60, end_min=7 * 60)
    # 2026-01-15 22:30 in Berlin (UTC+1) is 21:30 UTC.
    at = 1_768_512_600_000
    ends = quiet_until(quiet, "Europe/Berlin", at)
    assert ends == at + 8 * HOUR + 30 * 60_000  # 07:00 Berlin the next morning
    assert quiet_until(quiet, "Europe/Berlin", at - 2 * HOUR) is None  # 20:30: not quiet
    assert quiet_until(None, "UTC", at) is None


def test_quiet_hours_end_at_local_time_across_a_dst_change() -> None:
    quiet = QuietHours(start_min=22 * 60, end_min=7 * 60)
    # 2026-03-28 23:00 CET (22:00 UTC); clocks go forward that night, so
    # 07:00 CEST next morning is 05:00 UTC, seven hours on rather than eight.
    at = 1_774_735_200_000
    ends = quiet_until(quiet, "Europe/Berlin", at)
    assert ends == 1_774_760_400_000
