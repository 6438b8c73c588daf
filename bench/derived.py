"""Figures computed from other figures of the same run (ratios against the ceiling)."""

from __future__ import annotations

from bench.report import Figure, Report

CEILING = ("passthrough", "raw transactional passthrough")


def add_ratios(report: Report) -> None:
    """Router ÷ passthrough, for each router mode measured in this run."""
    ceiling = report.value(*CEILING)
    loop = report.value("passthrough", "TransactionalLoop passthrough")
    if ceiling and loop:
        report.add(_ratio("loop passthrough ÷ raw passthrough", loop, ceiling))
    io = report.value("passthrough", "the router's Kafka I/O on the fused loop, no logic")
    if ceiling and io:
        report.add(_ratio("router's Kafka I/O ÷ raw passthrough", io, ceiling))
    for name in ("router exactly-once", "router at-least-once"):
        router = report.value("router", name)
        if ceiling and router:
            report.add(_ratio(f"{name} ÷ raw passthrough", router, ceiling))
        if io and router:
            report.add(_ratio(f"{name} ÷ the router's Kafka I/O", router, io))


def _ratio(name: str, numerator: float, denominator: float) -> Figure:
    return Figure(
        part="ratio",
        name=name,
        value=100 * numerator / denominator,
        unit="%",
        timed="the two throughputs above, measured in this run on the same broker",
    )
