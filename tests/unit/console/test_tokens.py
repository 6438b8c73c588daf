"""Tokens are known only by their hash; a session cookie is the principal it was signed for,
and nothing once changed, re-signed with another key, or expired."""

from __future__ import annotations

from services.console.settings import Role, TokenEntry
from services.console.tokens import (
    Principal,
    new_token,
    principal_for,
    read_session,
    sign_session,
    token_hash,
)

SECRET = b"k" * 32


def test_a_token_maps_to_its_configured_name_and_role_and_no_other_does() -> None:
    token = new_token()
    entries = [TokenEntry(name="olga", role=Role.OPERATOR, sha256=token_hash(token))]

    assert principal_for(token, entries) == Principal("olga", Role.OPERATOR)
    assert principal_for(new_token(), entries) is None
    assert token.startswith("lrc_") and token_hash(token) != token


def test_a_session_reads_back_until_it_expires() -> None:
    principal = Principal("vera", Role.VIEWER, csrf="c1")
    cookie = sign_session(principal, SECRET, expires_at_s=1_000)

    assert read_session(cookie, SECRET, now_s=999) == principal
    assert read_session(cookie, SECRET, now_s=1_001) is None


def test_a_changed_or_foreign_session_is_refused() -> None:
    cookie = sign_session(Principal("vera", Role.VIEWER, "c1"), SECRET, expires_at_s=1_000)
    forged_role = sign_session(Principal("vera", Role.ADMIN, "c1"), b"other key", 1_000)
    body, mac = cookie.split(".")

    assert read_session(forged_role, SECRET, now_s=0) is None
    assert read_session(f"{forged_role.split('.')[0]}.{mac}", SECRET, now_s=0) is None
    assert read_session(body, SECRET, now_s=0) is None
    assert read_session("not a cookie", SECRET, now_s=0) is None


def test_roles_include_the_ones_below_them() -> None:
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.OPERATOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.OPERATOR) and not Role.OPERATOR.allows(Role.ADMIN)
