from __future__ import annotations

from rich.console import Console

from services.console.board import Board
from services.console.service_metrics import Sample, ServiceStatus
from services.console.top_view import render
from tests.unit.console.builders import candidate, make_assignment


def sla_watcher() -> ServiceStatus:
    samples = (
        Sample("leadrouter_sla_open_timers", (("partition", "0"),), 7.0),
        Sample("leadrouter_sla_breaches_total", (("pool", "emea"), ("step", "reassign")), 2.0),
        Sample("leadrouter_sla_breaches_total", (("pool", "emea"), ("step", "notify")), 9.0),
        Sample("leadrouter_sla_escalations_total", (("level", "manager"),), 1.0),
    )
    return ServiceStatus("sla_watcher", "http://x", True, 3.0, samples)


def screen(board: Board, services: list[ServiceStatus]) -> str:
    console = Console(record=True, width=160)
    console.print(render(board.snapshot(), services))
    return console.export_text()


def test_the_view_shows_decisions_sla_numbers_and_the_reason_of_each_decision() -> None:
    board = Board()
    board.record(
        make_assignment("lead-1", "bob", candidates=(candidate("ann", "away: back 10:00"),))
    )
    router_down = ServiceStatus("router", "http://y", False, None, (), error="ConnectError")

    text = screen(board, [sla_watcher(), router_down])

    assert "decisions: 1" in text
    assert "sla_watcher up lag 3" in text
    assert "router down (ConnectError)" in text
    assert "SLA timers pending: 7   escalations: manager 1" in text
    emea = next(line for line in text.splitlines() if line.startswith("│ emea "))
    cells = [cell.strip() for cell in emea.strip("│").split("│")]
    # pool, assigned, reassigned, unassigned, released, breached (notify is not a breach), ...
    assert cells == ["emea", "1", "0", "0", "0", "2", "50 ms", "50 ms", "away 1"]
    assert "round robin turn" in text


def test_a_service_that_exited_is_called_out_with_its_log() -> None:
    console = Console(record=True, width=120)
    console.print(
        render(Board().snapshot(), [], ["router exited with 1; see .run/logs/router.log"])
    )
    assert "router exited with 1; see .run/logs/router.log" in console.export_text()
