"""Bearer tokens and the signed session cookie (pure: the caller passes secrets and times).

A token is 32 random bytes (URL-safe text, prefixed `lrc_`); only its sha256 is configured. A
salted slow hash is not needed: the token is random, not a password a person chose, so a hash
leak cannot be reversed by guessing. A session is `base64(json).hmac-sha256`, holding the
name, role, CSRF token and expiry; any change to it breaks the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from services.console.settings import Role, TokenEntry

PREFIX = "lrc_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the token's name (the actor of actions) and its role."""

    name: str
    role: Role
    csrf: str = ""


def principal_for(token: str, entries: Iterable[TokenEntry]) -> Principal | None:
    digest = token_hash(token.strip())
    for entry in entries:
        if hmac.compare_digest(entry.sha256, digest):
            return Principal(entry.name, entry.role)
    return None


def sign_session(principal: Principal, secret: bytes, expires_at_s: int) -> str:
    payload = json.dumps(
        {"name": principal.name, "role": principal.role.value, "csrf": principal.csrf,
         "exp": expires_at_s},
        separators=(",", ":"),
    ).encode()  # fmt: skip
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_mac(body, secret)}"


def read_session(cookie: str, secret: bytes, now_s: float) -> Principal | None:
    """The session's principal, or None when the cookie is forged, malformed or expired."""
    body, _, mac = cookie.partition(".")
    if not mac or not hmac.compare_digest(mac, _mac(body, secret)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if float(data["exp"]) < now_s:
            return None
        return Principal(str(data["name"]), Role(data["role"]), str(data["csrf"]))
    except (ValueError, KeyError, TypeError):
        return None


def _mac(body: str, secret: bytes) -> str:
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
