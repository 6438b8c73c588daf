"""The one error every normalizer raises: `InvalidLead`, a permanent error naming the field.

Normalizers are total over their input type: for any bytes, string or field list they either
return a `Lead` or raise `InvalidLead` (hypothesis holds them to it). The shell turns it into a
problem+json 422 (HTTP), an SMTP 550 or a dead letter (raw topics), with `reason` as the bounded
metrics label.
"""

from __future__ import annotations

from services.streaming.errors import InvalidRecord

REASONS = ("invalid_field", "missing_field", "malformed", "unreachable", "honeypot")
"""Every `InvalidLead.reason`: a closed set, so metrics labels stay bounded."""


class InvalidLead(InvalidRecord):
    """A payload that cannot become a lead: which field, what was wrong, what was expected."""

    def __init__(self, field: str, problem: str, expected: str, reason: str = "invalid_field"):
        super().__init__(reason, f"{field}: {problem}; expected {expected}")
        self.field = field
        self.problem = problem
        self.expected = expected
