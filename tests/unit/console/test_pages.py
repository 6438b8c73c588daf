"""The pages: autoescaped (a lead's own text cannot become markup or script), and showing what
an operator may do (a paused pool offers resume)."""

from __future__ import annotations

from pathlib import Path

from services.console.pages import templates
from services.console.projection import Projection, connect
from services.console.queries import board, timeline
from services.console.settings import Role
from services.console.tokens import Principal
from services.leads.events import PresenceStatus, RepPresence
from services.leads.topics import Topic
from services.router.presence import pool_key
from tests.unit.console.projection_builders import Log, day_of_leads, request_for
from tests.unit.sla_watcher.builders import T0, make_lead


def test_a_lead_carrying_markup_renders_as_text(tmp_path: Path) -> None:
    hostile = make_lead("lead-x", first_name="<script>alert(1)</script>", company='"><b>x</b>')
    log = Log()
    log.add(Topic.INBOUND, hostile)
    log.add(Topic.ROUTING_REQUESTS, request_for(hostile, reason="<i>rule</i>"))
    projection = Projection(connect(tmp_path / "p.sqlite3"))
    projection.apply(log.items)
    lead = timeline(projection.db, "lead-x")

    page = templates().get_template("lead.html").render(
        who=Principal("olga", Role.OPERATOR, "csrf-1"), lead=lead, members=[], notice="",
        can_act=True,
    )  # fmt: skip

    assert "<script>alert(1)</script>" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;i&gt;rule&lt;/i&gt;" in page


def test_a_paused_pool_shows_paused_on_the_board_with_a_resume_button(tmp_path: Path) -> None:
    log = day_of_leads(count=1)
    pause = RepPresence(rep_id=pool_key("emea"), status=PresenceStatus.AWAY, changed_at_ms=T0)
    log.add(Topic.REPS_PRESENCE, pause)
    projection = Projection(connect(tmp_path / "p.sqlite3"))
    projection.apply(log.items)

    paused = board(projection.db, T0, T0 + 1)
    page = (
        templates()
        .get_template("board_rows.html")
        .render(who=Principal("olga", Role.OPERATOR, "csrf-1"), board=paused, can_act=True)
    )

    assert [p["paused"] for p in paused["pools"]] == [True]
    assert 'action="/pools/emea/resume"' in page and "/pools/emea/pause" not in page
    assert "@pool/emea" not in page  # the pool's key is not shown as a rep
