"""What an HTTP provider's answer means for a delivery: one reading for every HTTP channel.

2xx is sent. 429, 408, 425 and 5xx are worth retrying (after `Retry-After` when the provider
sends one, in seconds or as an HTTP date); any other 4xx is the request's fault and would fail
again the same way. A connection that fails or times out is retried: the provider may be down.
"""

from __future__ import annotations

import email.utils
import time

import httpx

from services.notifier.deliveries import Answer, Failed, Sent

RETRYABLE = frozenset({408, 425, 429})
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
"""A provider that does not answer in 10 s counts as down for this attempt."""


def answer_of(response: httpx.Response, provider_id: str | None = None) -> Answer:
    if response.is_success:
        return Sent(provider_id)
    code = response.status_code
    return Failed(
        retryable=code in RETRYABLE or code >= 500,
        detail=response.text[:500] or response.reason_phrase,
        status=code,
        retry_after_s=retry_after(response.headers.get("retry-after")),
    )


def unreachable(exc: httpx.HTTPError) -> Failed:
    return Failed(retryable=True, detail=f"{type(exc).__name__}: {exc}")


def retry_after(value: str | None, now_s: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now_s is None else now_s
    return max(0.0, when.timestamp() - now)
