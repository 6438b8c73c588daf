"""Config documents as text: line numbers, YAML pitfalls, hashing, the shipped example."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from services.leads.config_errors import ConfigInvalid
from services.router.config_document import content_hash, describe, parse_config_text

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "config" / "routing.example.yaml"

DOCUMENT = """\
reps:
  - id: ann
    name: Ann
    email: ann@example.com
  - id: bob
    name: Bob
    email: bob@example.com
pools:
  - id: general
    members:
      - rep: ann
      - rep: zed
default_pool: general
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config_text(text)
    return [describe(p, "routing.yaml") for p in caught.value.problems]


def test_the_shipped_example_is_valid_and_realistic() -> None:
    config = parse_config_text(EXAMPLE.read_text())
    assert len(config.reps) >= 10 and len(config.pools) >= 3 and len(config.sla_policies) >= 2
    assert {r.time_zone for r in config.reps} >= {"Europe/Berlin", "America/New_York"}


def test_problems_carry_the_line_of_the_offending_value() -> None:
    assert problems(DOCUMENT) == [
        "routing.yaml:12: pools[0].members[1].rep: unknown rep 'zed' (known: ann, bob)"
    ]


def test_a_missing_field_points_at_its_parent() -> None:
    text = DOCUMENT.replace("    email: bob@example.com\n", "").replace("zed", "bob")
    assert problems(text) == ["routing.yaml:5: reps[1].email: required field is missing"]


def test_duplicate_keys_are_errors_not_silently_overwritten() -> None:
    text = DOCUMENT.replace("zed", "bob") + "default_pool: other\n"
    assert problems(text) == [
        "routing.yaml:14: default_pool: duplicate key (first given on line 13)"
    ]


def test_norway_is_a_country_not_false() -> None:
    text = DOCUMENT.replace("zed", "bob") + (
        "rules:\n  - id: nordics\n    when: {country: [SE, NO]}\n    pool: general\n"
    )
    assert parse_config_text(text).rules[0].when.country == ("SE", "NO")


def test_yaml_syntax_errors_name_the_line() -> None:
    [problem] = problems("reps:\n  - id: [ann\n")
    assert problem.startswith("routing.yaml:3: (document): not valid YAML")


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_an_empty_document_is_refused(text: str) -> None:
    assert problems(text) == ["routing.yaml:1: (document): the document is empty"]


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    [problem] = problems("- just\n- a list\n")
    assert problem.startswith("routing.yaml:1: (document): Input should be a valid dictionary")


def test_anchors_and_merges_work_and_keep_lines() -> None:
    text = (
        DOCUMENT.replace("zed", "bob")
        .replace("  - id: ann\n", "  - &base\n    id: ann\n    time_zone: Europe/Paris\n")
        .replace("  - id: bob\n    name: Bob\n", "  - <<: *base\n    id: bob\n    name: Bob\n")
    )
    config = parse_config_text(text)
    assert config.rep("bob").time_zone == "Europe/Paris"
    broken = text.replace("time_zone: Europe/Paris", "time_zone: Europe/Pariss")
    assert [p.split(": ")[0] for p in problems(broken)] == ["routing.yaml:4", "routing.yaml:4"]


def test_the_hash_is_sha256_of_the_exact_text() -> None:
    assert content_hash("a: 1\n") == hashlib.sha256(b"a: 1\n").hexdigest()
    assert content_hash("a: 1\n") != content_hash("a: 1\n\n")
