"""The console as one ASGI app: the admin API and the web pages over one `ConsoleService`,
unknown paths and wrong methods answered in problem+json."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from services.console.api import AdminApi
from services.console.auth import Gate
from services.console.pages import Pages
from services.console.problems import routing_problem
from services.console.service import ConsoleService


def console_app(service: ConsoleService, gate: Gate, *, secure_cookie: bool = False) -> Starlette:
    routes = [*AdminApi(service, gate).routes(), *Pages(service, gate, secure_cookie).routes()]
    return Starlette(routes=routes, exception_handlers={HTTPException: routing_problem})
