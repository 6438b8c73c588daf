"""The one error every normalizer raises: `InvalidLead`, a permanent error naming the field.

Normalizers are total over their input type: for any bytes, string or field list they either
return a `Lead` or raise `InvalidLead` (hypothesis holds them to it). The shell turns it into a
problem+json 4xx (HTTP), an SMTP 5xx or a dead letter (raw topics), with `reason` as the
bounded metrics label. `LeadTooLarge` is the one kind a sender must shrink rather than fix: a
413 / SMTP 552 naming the limit it is over.
"""

from __future__ import annotations

from services.streaming.errors import InvalidRecord

REASONS = ("invalid_field", "missing_field", "malformed", "unreachable", "honeypot", "too_large")
"""Every `InvalidLead.reason`: a closed set, so metrics labels stay bounded."""
MAX_FIELD_NAME = 100


class InvalidLead(InvalidRecord):
    """A payload that cannot become a lead: which field, what was wrong, what was expected.

    `field` is shown to people and written into JSON answers, so a name that is not valid
    Unicode (a lone surrogate from the payload itself) is shown escaped, and long ones cut."""

    def __init__(self, field: str, problem: str, expected: str, reason: str = "invalid_field"):
        field = field.encode("utf-8", "backslashreplace").decode("utf-8")[:MAX_FIELD_NAME]
        super().__init__(reason, f"{field}: {problem}; expected {expected}")
        self.field = field
        self.problem = problem
        self.expected = expected


class LeadTooLarge(InvalidLead):
    """More of something (attachments, UTM entries, encoded bytes) than a lead may carry."""

    def __init__(self, field: str, problem: str, expected: str):
        super().__init__(field, problem, expected, "too_large")
