"""`leadrouter top`'s screen: the board and the services' status as rich renderables (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text

from services.console.assignment_text import iso_ms
from services.console.board import BoardSnapshot, PoolRow
from services.console.service_metrics import (
    NOTIFICATIONS_PENDING,
    NOTIFICATIONS_SENT,
    SLA_BREACHES,
    SLA_ESCALATIONS,
    SLA_OPEN_TIMERS,
    ServiceStatus,
)


def _ms(value: int | None) -> str:
    return "-" if value is None else f"{value} ms"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def status_line(board: BoardSnapshot, services: Sequence[ServiceStatus], config: str = "") -> Text:
    line = Text(f"leadrouter top   decisions: {board.decisions}   ", style="bold")
    if config:
        line.append(f"{config}   ")
    for service in services:
        style = "green" if service.up else "red"
        mark = "up" if service.up else f"down ({service.error})"
        line.append(f"{service.name} {mark}", style=style)
        if service.lag is not None:
            line.append(f" lag {service.lag:g}")
        line.append("   ")
    notified = notifications_text(services)
    if notified:
        line.append(notified)
    return line


def notifications_text(services: Sequence[ServiceStatus]) -> str:
    """`notified: email 12, webhook 3 (pending 2)` from the notifier's metrics, or ''."""
    for service in services:
        sent = service.by_label(NOTIFICATIONS_SENT, "channel")
        pending = service.total(NOTIFICATIONS_PENDING)
        if sent or pending is not None:
            by_channel = ", ".join(f"{c} {n:g}" for c, n in sorted(sent.items())) or "none"
            return f"notified: {by_channel} (pending {_number(pending)})"
    return ""


@dataclass(frozen=True, slots=True)
class SlaTotals:
    pending: float | None
    breaches: dict[str, float]
    escalations: dict[str, float]


def sla_totals(services: Sequence[ServiceStatus]) -> SlaTotals:
    """From whichever service exports the SLA metrics (the SLA watcher)."""
    for service in services:
        pending = service.total(SLA_OPEN_TIMERS)
        breaches = service.by_label(SLA_BREACHES, "pool", exclude=("step", "notify"))
        if pending is not None or breaches:
            return SlaTotals(pending, breaches, service.by_label(SLA_ESCALATIONS, "level"))
    return SlaTotals(None, {}, {})


def pools_table(pools: Sequence[PoolRow], services: Sequence[ServiceStatus]) -> Table:
    sla = sla_totals(services)
    breaches = sla.breaches
    escalations = ", ".join(f"{level} {n:g}" for level, n in sorted(sla.escalations.items()))
    title = (
        f"pools   SLA timers pending: {_number(sla.pending)}   escalations: {escalations or '-'}"
    )
    table = Table(title=title, title_justify="left")
    for column in ("pool", "assigned", "reassigned", "unassigned", "released"):
        table.add_column(column, justify="left" if column == "pool" else "right")
    table.add_column("SLA breached", justify="right")
    table.add_column("speed p50", justify="right")
    table.add_column("speed p99", justify="right")
    table.add_column("skipped by reason")
    for pool in pools:
        skipped = ", ".join(f"{reason} {count}" for reason, count in pool.skipped) or "-"
        table.add_row(
            pool.pool_id,
            str(pool.assigned),
            str(pool.reassigned),
            str(pool.unassigned),
            str(pool.released),
            _number(breaches.get(pool.pool_id, 0.0 if breaches else None)),
            _ms(pool.speed_p50_ms),
            _ms(pool.speed_p99_ms),
            skipped,
        )
    return table


def reps_table(pools: Sequence[PoolRow]) -> Table:
    table = Table(
        title="reps (deviation: assigned minus weighted fair share)", title_justify="left"
    )
    for column in ("pool", "rep", "assigned", "open", "deviation"):
        table.add_column(column, justify="left" if column in ("pool", "rep") else "right")
    for pool in pools:
        for rep in pool.reps:
            style = "yellow" if abs(rep.deviation) > 1.0 else ""
            table.add_row(
                rep.pool_id,
                rep.rep_id,
                str(rep.assigned),
                str(rep.open),
                f"{rep.deviation:+.1f}",
                style=style,
            )
    return table


def decisions_table(board: BoardSnapshot) -> Table:
    table = Table(title="latest decisions", title_justify="left")
    for column in ("time", "lead", "decision", "pool", "rep", "reason"):
        table.add_column(column, overflow="ellipsis", no_wrap=column != "reason")
    for decision in board.latest:
        table.add_row(
            iso_ms(decision.decided_at_ms)[11:23],
            decision.lead_id[:16],
            f"{decision.kind}->{decision.outcome} #{decision.attempt}",
            decision.pool_id,
            decision.rep_id or "-",
            decision.reason,
        )
    return table


def render(
    board: BoardSnapshot,
    services: Sequence[ServiceStatus],
    alerts: Sequence[str] = (),
    config: str = "",
) -> Group:
    """The whole screen; `alerts` are lines shown in red under the status (a service exited),
    `config` names the routing config in force."""
    return Group(
        status_line(board, services, config),
        *(Text(line, style="bold red") for line in alerts),
        pools_table(board.pools, services),
        reps_table(board.pools),
        decisions_table(board),
    )
