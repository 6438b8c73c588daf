"""The web pages, rendered on the server from Jinja2 templates (autoescaped) beside this file.

No build step and nothing fetched at run time: one stylesheet and one small script, served from
`static/`. A page asked for without a session redirects to the login; every form that changes
something carries the session's CSRF token, checked before anything is written.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from services.console.auth import COOKIE, Gate
from services.console.problems import Refused
from services.console.queries import LeadQuery, search
from services.console.service import ConsoleService
from services.console.settings import Role
from services.console.tokens import Principal

HERE = Path(__file__).parent
LOGIN_COOKIE = "lr_login"
DAY_MS = 86_400_000
Page = Callable[[Request, Principal], Awaitable[Response]]


def iso(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return "-"
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True)
    )
    env.filters["iso"] = iso
    return env


class Pages:
    def __init__(self, service: ConsoleService, gate: Gate, secure_cookie: bool = False) -> None:
        self.service = service
        self.gate = gate
        self.env = templates()
        self.secure_cookie = secure_cookie

    def routes(self) -> list[Route | Mount]:
        viewer, operator, admin = Role.VIEWER, Role.OPERATOR, Role.ADMIN
        return [
            Route("/login", self._login_form, methods=["GET"]),
            Route("/login", self._login, methods=["POST"]),
            Route("/logout", self._page(viewer, self._logout, True), methods=["POST"]),
            Route("/", self._page(viewer, self._board), methods=["GET"]),
            Route("/board/rows", self._page(viewer, self._board_rows), methods=["GET"]),
            Route("/leads", self._page(viewer, self._search), methods=["GET"]),
            Route("/leads/{lead_id}", self._page(viewer, self._lead), methods=["GET"]),
            Route("/leads/{lead_id}/assign", self._page(operator, self._assign, True),
                  methods=["POST"]),
            Route("/reps/{rep_id}/presence", self._page(operator, self._presence, True),
                  methods=["POST"]),
            Route("/pools/{pool_id}/pause", self._page(operator, self._pause, True),
                  methods=["POST"]),
            Route("/pools/{pool_id}/resume", self._page(operator, self._resume, True),
                  methods=["POST"]),
            Route("/reps/{rep_id}/reassign", self._page(operator, self._reassign, True),
                  methods=["POST"]),
            Route("/sla", self._page(viewer, self._sla), methods=["GET"]),
            Route("/fairness", self._page(viewer, self._fairness), methods=["GET"]),
            Route("/config", self._page(viewer, self._config), methods=["GET"]),
            Route("/config", self._page(viewer, self._config, True), methods=["POST"]),
            Route("/config/publish", self._page(admin, self._publish, True), methods=["POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]  # fmt: skip

    def render(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(**values), status_code=status)

    def _page(
        self, role: Role, page: Page, changes_state: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                principal = self.gate.require(request, role)
                if changes_state:
                    form = await request.form()
                    sent = form.get("csrf")
                    self.gate.check_csrf(request, principal, sent if isinstance(sent, str) else "")
                return await page(request, principal)
            except Refused as exc:
                if exc.problem.status == 401:
                    return RedirectResponse("/login", status_code=303)
                who = self.gate.who(request)
                return self.render("error.html", exc.problem.status, who=who, problem=exc.problem)

        return endpoint

    async def _login_form(self, _request: Request) -> Response:
        return self._login_page(failed=False)

    def _login_page(self, *, failed: bool) -> Response:
        """The form, with a fresh nonce in a cookie and in the form: a login posted from another
        site (to sign a person in as someone else) lacks the cookie's value."""
        nonce = secrets.token_urlsafe(16)
        page = self.render("login.html", 401 if failed else 200, who=None, failed=failed,
                           nonce=nonce)  # fmt: skip
        page.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict",
                        secure=self.secure_cookie, max_age=3600)  # fmt: skip
        return page

    async def _login(self, request: Request) -> Response:
        form = await request.form()
        token, nonce = form.get("token"), form.get("nonce")
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not (isinstance(nonce, str) and expected and hmac.compare_digest(nonce, expected)):
            self.gate.deny("bad_csrf", "/login")
            return self._login_page(failed=True)
        session = self.gate.login(token if isinstance(token, str) else "")
        if session is None:
            return self._login_page(failed=True)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(LOGIN_COOKIE)
        response.set_cookie(COOKIE, session[1], httponly=True, samesite="strict",
                            secure=self.secure_cookie)  # fmt: skip
        return response

    async def _logout(self, _request: Request, _who: Principal) -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    async def _board(self, _request: Request, who: Principal) -> Response:
        board = await run_in_threadpool(self.service.board)
        return self.render("board.html", who=who, board=board,
                           can_act=who.role.allows(Role.OPERATOR))  # fmt: skip

    async def _board_rows(self, _request: Request, who: Principal) -> Response:
        board = await run_in_threadpool(self.service.board)
        return self.render("board_rows.html", who=who, board=board,
                           can_act=who.role.allows(Role.OPERATOR))  # fmt: skip

    async def _search(self, request: Request, who: Principal) -> Response:
        text = request.query_params.get("q", "").strip()
        if "@" in text:
            query = LeadQuery(email=text)
        elif text.startswith("+"):
            query = LeadQuery(phone=text)
        else:
            query = LeadQuery(lead_id=text or None)
        found = await run_in_threadpool(self.service.read, search, query)
        return self.render("leads.html", who=who, q=text, leads=found)

    async def _lead(self, request: Request, who: Principal) -> Response:
        lead = await run_in_threadpool(self.service.lead, request.path_params["lead_id"])
        members = await run_in_threadpool(self.service.pool_members, lead["owner"]["pool_id"])
        notice = request.query_params.get("notice", "")
        return self.render("lead.html", who=who, lead=lead, members=members, notice=notice,
                           can_act=who.role.allows(Role.OPERATOR))  # fmt: skip

    async def _assign(self, request: Request, who: Principal) -> Response:
        form = await request.form()
        lead_id = request.path_params["lead_id"]
        result = await run_in_threadpool(
            self.service.assign_to_rep, who, lead_id, str(form.get("rep_id", "")),
            str(form.get("reason", "")), form.get("override") == "true",
        )  # fmt: skip
        notice = "; ".join(["reassignment requested", *result["warnings"]])
        return RedirectResponse(f"/leads/{quote(lead_id)}?notice={quote(notice)}", 303)

    async def _presence(self, request: Request, who: Principal) -> Response:
        form = await request.form()
        await run_in_threadpool(
            self.service.set_presence, who, request.path_params["rep_id"],
            str(form.get("status", "")), str(form.get("reason", "")),
        )  # fmt: skip
        return RedirectResponse("/", 303)

    async def _pause(self, request: Request, who: Principal) -> Response:
        return await self._pool_paused(request, who, True)

    async def _resume(self, request: Request, who: Principal) -> Response:
        return await self._pool_paused(request, who, False)

    async def _pool_paused(self, request: Request, who: Principal, paused: bool) -> Response:
        form = await request.form()
        await run_in_threadpool(self.service.set_pool_paused, who, request.path_params["pool_id"],
                                paused, str(form.get("reason", "")))  # fmt: skip
        return RedirectResponse("/", 303)

    async def _reassign(self, request: Request, who: Principal) -> Response:
        form = await request.form()
        await run_in_threadpool(self.service.reassign_all, who, request.path_params["rep_id"],
                                str(form.get("reason", "")))  # fmt: skip
        return RedirectResponse("/", 303)

    async def _sla(self, _request: Request, who: Principal) -> Response:
        sla = await run_in_threadpool(self.service.sla)
        return self.render("sla.html", who=who, sla=sla)

    async def _fairness(self, request: Request, who: Principal) -> Response:
        asked = request.query_params.get("days", "7")
        days = int(asked) if asked.isdigit() and 1 <= int(asked) <= 366 else 7
        report = await run_in_threadpool(self.service.fairness, days * DAY_MS)
        return self.render("fairness.html", who=who, report=report, days=days)

    async def _config(self, request: Request, who: Principal) -> Response:
        review = None
        text = ""
        if request.method == "POST":
            text = _document(await request.form())
            review = await run_in_threadpool(self.service.review, text)
        return self.render("config.html", who=who, text=text, review=review,
                           can_publish=who.role.allows(Role.ADMIN))  # fmt: skip

    async def _publish(self, request: Request, who: Principal) -> Response:
        form = await request.form()
        result = await run_in_threadpool(
            self.service.publish, who, _document(form), str(form.get("reason", ""))
        )
        return self.render("config.html", who=who, text="", review=None, published=result,
                           can_publish=True)  # fmt: skip


def _document(form: FormData) -> str:
    """The pasted YAML with the CRLF line ends browsers send a textarea with made LF, so its
    hash and line diff match the same file published by `leadrouter config publish`."""
    return str(form.get("document", "")).replace("\r\n", "\n")
