"""Who is asking, and may they: bearer tokens for the API, a signed session cookie for pages.

A request carries either `Authorization: Bearer <token>` (scripts) or the `lr_session` cookie a
token login set (browsers). A state-changing request on a cookie must also carry the session's
CSRF token (form field `csrf` or header `X-CSRF-Token`): another site can make a browser send
the cookie, but cannot read the token. Every refusal is counted by reason, and logged without
the token or any lead's data.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from starlette.requests import Request

from services.console.problems import Refused
from services.console.settings import ConsoleSettings, Role
from services.console.tokens import Principal, principal_for, read_session, sign_session
from services.console.web_metrics import ConsoleMetrics
from services.streaming.records import Clock

log = logging.getLogger(__name__)

COOKIE = "lr_session"


class Gate:
    def __init__(self, settings: ConsoleSettings, metrics: ConsoleMetrics, clock: Clock) -> None:
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        configured = settings.session_secret
        self.secret = (
            configured.get_secret_value().encode() if configured else secrets.token_bytes(32)
        )

    def login(self, token: str) -> tuple[Principal, str] | None:
        """The principal of a valid token and its session cookie's value, with a new CSRF token."""
        found = principal_for(token, self.settings.tokens)
        if found is None:
            self.deny("bad_token", "login")
            return None
        principal = Principal(found.name, found.role, secrets.token_urlsafe(24))
        expires = int(self.clock.now_ms() / 1000 + self.settings.session_hours * 3600)
        return principal, sign_session(principal, self.secret, expires)

    def who(self, request: Request) -> Principal | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return principal_for(header[7:], self.settings.tokens)
        cookie = request.cookies.get(COOKIE)
        if cookie:
            return read_session(cookie, self.secret, self.clock.now_ms() / 1000)
        return None

    def require(self, request: Request, role: Role) -> Principal:
        """The caller, when authenticated with at least `role`; Refused (401/403) otherwise."""
        principal = self.who(request)
        if principal is None:
            has_credentials = "authorization" in request.headers or COOKIE in request.cookies
            reason = "bad_token" if has_credentials else "no_credentials"
            self.deny(reason, request.url.path)
            raise Refused(401, reason, "Authorization", "Authorization: a valid bearer token "
                          "or a console session is required")  # fmt: skip
        if not principal.role.allows(role):
            self.deny("forbidden", request.url.path)
            raise Refused(403, "forbidden", "role", f"role: {principal.role.value} may not do "
                          f"this; it needs {role.value}")  # fmt: skip
        return principal

    def check_csrf(self, request: Request, principal: Principal, sent: str | None) -> None:
        """A cookie session's state change must echo its CSRF token; bearer calls need none."""
        if request.headers.get("authorization", "").lower().startswith("bearer "):
            return
        sent = sent or request.headers.get("x-csrf-token")
        if not sent or not hmac.compare_digest(sent, principal.csrf):
            self.deny("bad_csrf", request.url.path)
            raise Refused(403, "bad_csrf", "csrf", "csrf: missing or wrong; reload the page")

    def deny(self, reason: str, path: str) -> None:
        self.metrics.denied.labels(reason=reason).inc()
        log.info("denied %s: %s", path, reason)
