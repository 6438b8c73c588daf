"""The terminal table: one row per figure, with what was timed beside the number."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bench.report import Report


def _number(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f}"
    if unit in {"ms", "µs"}:
        return f"{value:,.1f}"
    if unit == "%":
        return f"{value:.0f}"
    return f"{value:,.0f}"


def print_table(report: Report, console: Console | None = None) -> None:
    table = Table(title=f"leadrouter benchmarks ({report.mode})", show_lines=True)
    table.add_column("part", style="bold")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    table.add_column("what was timed", overflow="fold", ratio=3)
    for figure in report.figures:
        extra = ", ".join(f"{k} {v:,.1f}" for k, v in figure.details.items() if k != "complete")
        timed = figure.timed + (f" [{extra}]" if extra else "")
        table.add_row(
            figure.part, figure.name, _number(figure.value, figure.unit), figure.unit, timed
        )
    out = console or Console(width=180)
    out.print(table)
    for note in report.notes:
        out.print(f"note: {note}")
