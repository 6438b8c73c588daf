"""`leadrouter config validate`: no broker, problems compiler-style, a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli.__main__ import main

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "config" / "routing.example.yaml"


def test_a_valid_file_passes_with_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "validate", str(EXAMPLE)]) == 0
    assert "valid: 11 reps, 5 pools, 5 rules, 2 SLA policies; sha256 " in capsys.readouterr().out


def test_an_invalid_file_prints_each_problem_with_its_line_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "routing.yaml"
    bad.write_text(EXAMPLE.read_text().replace("- {rep: marcus, weight: 2}", "- {rep: marco}"))
    assert main(["config", "validate", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    line = 1 + EXAMPLE.read_text().splitlines().index("      - {rep: marcus, weight: 2}")
    assert err[0].startswith(f"{bad}:{line}: pools[2].members[1].rep: unknown rep 'marco'")
    assert err[-1] == f"leadrouter config: {bad}: 1 problem(s), nothing done"


def test_a_missing_file_is_one_line_not_a_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "validate", str(tmp_path / "nope.yaml")]) == 1
    assert capsys.readouterr().err.startswith("leadrouter config: cannot read ")
