"""CI lints before it tests, and lint reads every Python tree the repository ships."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lint_commands() -> list[str]:
    """What `make lint` would run, without running it (`make -n` prints the recipes)."""
    printed = subprocess.run(
        ["make", "-n", "lint"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return [line for line in printed.splitlines() if "/ruff " in line or "/mypy " in line]


def test_ci_runs_lint_then_the_tests() -> None:
    steps = (ROOT / ".ci" / "run").read_text().splitlines()
    assert [step for step in steps if step.startswith("make ")] == ["make lint", "make test"]


def test_ruff_checks_and_formats_bench_and_examples_too() -> None:
    ruff = [line.split() for line in lint_commands() if "/ruff " in line]
    assert [words[-4:] for words in ruff] == [["services", "tests", "bench", "examples"]] * 2
    assert [words[1:-4] for words in ruff] == [["check"], ["format", "--check"]]


def test_mypy_types_bench_and_examples_too() -> None:
    (mypy,) = [line.split() for line in lint_commands() if "/mypy " in line]
    assert mypy[1:] == ["services", "bench", "examples"]
