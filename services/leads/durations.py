"""Durations written the way people write them in config: `90s`, `5m`, `1h30m`, `30d`.

A bare integer means seconds. The result is always whole milliseconds, because every time in
leadrouter's records is epoch milliseconds.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration_ms(value: object) -> int:
    """Milliseconds in `value` (`"1h30m"`, `"250ms"`, `300` seconds); ValueError if not one."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '5m' or '30s', got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"expected a duration of zero or more, got {value!r}")
        return round(value * 1000)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration like '5m' or '30s', got {value!r}")
    text = value.strip().replace(" ", "")
    parts = _PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(
            f"expected a duration like '90s', '5m', '1h30m' or '30d' "
            f"(units ms, s, m, h, d, w), got {value!r}"
        )
    return round(sum(float(n) * _UNIT_MS[u] for n, u in parts))


DurationMs = Annotated[int, BeforeValidator(parse_duration_ms)]
"""A config duration, held as whole milliseconds."""
