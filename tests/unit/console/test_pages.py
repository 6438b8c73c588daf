"""The pages are autoescaped: a lead's own text cannot become markup or script."""

from __future__ import annotations

from pathlib import Path

from services.console.pages import templates
from services.console.projection import Projection, connect
from services.console.queries import timeline
from services.console.settings import Role
from services.console.tokens import Principal
from services.leads.topics import Topic
from tests.unit.console.projection_builders import Log, request_for
from tests.unit.sla_watcher.builders import make_lead


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
