"""Webhook signature checks, pure: the secret, the request's parts and `now` come in.

Each returns None when the request is authentic, else a `SignatureProblem` saying what was
wrong (the HTTP front door answers 401 with it). Comparisons are constant-time.

- Forms and raw MIME posts: `X-Leadrouter-Signature: t=<unix seconds>,v1=<hex
  HMAC-SHA256(secret, "<t>.<body>")>`; several `v1=` entries may be sent while a secret
  rotates; `t` (ASCII digits) must be inside the window.
- Twilio: `X-Twilio-Signature` = base64 HMAC-SHA1(auth token, URL + every POST parameter's
  name and value, sorted by name), the URL exactly as Twilio requested it.
- Chat: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`.
- Mailgun: `signature` = hex HMAC-SHA256(signing key, timestamp + token), timestamp in window.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

DEFAULT_WINDOW_S = 300
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
"""ASCII digits only: `str.isdigit` also takes "²", and `int()` refuses past 4,300 digits."""


@dataclass(frozen=True, slots=True)
class SignatureProblem:
    header: str
    problem: str


def verify_form(
    secret: str, header: str | None, body: bytes, now_s: int, window_s: int = DEFAULT_WINDOW_S
) -> SignatureProblem | None:
    name = "X-Leadrouter-Signature"
    if not header:
        return SignatureProblem(name, "missing; a signature is required here")
    parts = [item.strip().partition("=") for item in header.split(",")]
    timestamps = [value for key, _, value in parts if key == "t"]
    signatures = [value.lower() for key, _, value in parts if key == "v1"]
    if len(timestamps) != 1 or not _UNIX_SECONDS.fullmatch(timestamps[0]) or not signatures:
        return SignatureProblem(name, "malformed; expected t=<unix seconds>,v1=<hex>")
    if abs(now_s - int(timestamps[0])) > window_s:
        return SignatureProblem(name, f"timestamp outside the {window_s} s window (expired)")
    expected = _hex_hmac(secret, timestamps[0].encode() + b"." + body, "sha256")
    if not any(hmac.compare_digest(expected, s.encode()) for s in signatures):
        return SignatureProblem(name, "does not match the body")
    return None


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's scheme: the URL, then each parameter's name and value in name order."""
    data = url + "".join(name + value for name, value in sorted(params, key=lambda p: p[0]))
    mac = hmac.new(auth_token.encode(), data.encode("utf-8"), "sha1").digest()
    return base64.b64encode(mac).decode()


def verify_twilio(
    auth_token: str, header: str | None, url: str, params: Iterable[tuple[str, str]]
) -> SignatureProblem | None:
    """`url` is the public URL Twilio posted to; with and without a default port both pass,
    as Twilio's own validator allows, since proxies add or drop it."""
    name = "X-Twilio-Signature"
    if not header:
        return SignatureProblem(name, "missing; an auth token is configured")
    pairs = list(params)
    for candidate in _port_variants(url):
        expected = twilio_signature(auth_token, candidate, pairs)
        if hmac.compare_digest(expected.encode(), header.strip().encode()):
            return None
    return SignatureProblem(name, "does not match the URL and parameters")


def verify_hub(secret: str, header: str | None, body: bytes) -> SignatureProblem | None:
    name = "X-Hub-Signature-256"
    if not header:
        return SignatureProblem(name, "missing; expected sha256=<hex>")
    scheme, _, signature = header.strip().partition("=")
    if scheme != "sha256" or not signature:
        return SignatureProblem(name, "malformed; expected sha256=<hex>")
    expected = _hex_hmac(secret, body, "sha256")
    if not hmac.compare_digest(expected, signature.lower().encode()):
        return SignatureProblem(name, "does not match the body")
    return None


def verify_mailgun(
    signing_key: str,
    timestamp: str | None,
    token: str | None,
    signature: str | None,
    *,
    now_s: int,
    window_s: int = DEFAULT_WINDOW_S,
) -> SignatureProblem | None:
    if not timestamp or not token or not signature:
        return SignatureProblem("signature", "timestamp, token and signature are all required")
    if not _UNIX_SECONDS.fullmatch(timestamp):
        return SignatureProblem("timestamp", "not unix seconds")
    if abs(now_s - int(timestamp)) > window_s:
        return SignatureProblem("timestamp", f"outside the {window_s} s window (expired)")
    expected = _hex_hmac(signing_key, (timestamp + token).encode(), "sha256")
    if not hmac.compare_digest(expected, signature.strip().lower().encode()):
        return SignatureProblem("signature", "does not match timestamp and token")
    return None


def _hex_hmac(secret: str, data: bytes, digest: str) -> bytes:
    return hmac.new(secret.encode(), data, digest).hexdigest().encode()


def _port_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if default is None or parts.hostname is None:
        return [url]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    bare = urlunsplit(parts._replace(netloc=f"{prefix}{host}"))
    ported = urlunsplit(parts._replace(netloc=f"{prefix}{host}:{parts.port or default}"))
    return list(dict.fromkeys([url, bare, ported]))
