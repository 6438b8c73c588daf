"""Owners exported from a CRM, as `router.owners` facts: reading the file, refusing bad rows.

A row names a rep and at least one subject: `email` (a person), `phone` (a person who writes by
SMS), `domain` (an account); `pool` is optional and defaults to the first pool the rep is a
member of. Each subject becomes one `OwnerFact` in exactly the form router/assign writes
(`services/router/ownership.py`): key `person:<email or E.164 phone>` or `account:<domain>`,
normalized as ingest normalizes a lead's contact, so triage finds it for the next lead. The
fact's `lead_id` is `import:<source>`, so a decision's trace says where the owner came from.

CSV needs a header row; JSON Lines one object a line. A bad row is named by its line number and
the field, with what was expected. Pure apart from reading the file's text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

from services.ingest.contact import normalize_email, normalize_phone
from services.ingest.rejection import InvalidLead
from services.leads.routing_config import RoutingConfig
from services.router.ownership import OwnerFact, account_subject, person_subject

FIELDS = ("email", "phone", "domain", "rep", "pool")
IMPORT_PREFIX = "import:"


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


def rows(text: str, jsonl: bool) -> Iterator[tuple[int, dict[str, str] | BadRow]]:
    """(line number, the row's fields) for each data row; a row that cannot be read is a
    BadRow. Blank lines are skipped."""
    if jsonl:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, BadRow(number, f"not JSON ({exc.msg})")
                continue
            if not isinstance(value, dict):
                yield (
                    number,
                    BadRow(number, "expected a JSON object with email, domain, phone, rep"),
                )
                continue
            yield number, {k: "" if v is None else str(v) for k, v in value.items()}
        return
    reader = csv.DictReader(io.StringIO(text))
    missing = {"rep"} - set(reader.fieldnames or ())
    if missing:
        yield 1, BadRow(1, f"the header has no rep column (it has {reader.fieldnames})")
        return
    for row in reader:
        yield reader.line_num, {k: v or "" for k, v in row.items() if k is not None}


def facts_of(
    row: dict[str, str], line: int, config: RoutingConfig, source: str, at_ms: int
) -> tuple[OwnerFact, ...] | BadRow:
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        return BadRow(line, f"unknown field(s) {unknown}: expected {list(FIELDS)}")
    rep = row.get("rep", "").strip()
    if not rep:
        return BadRow(line, "rep: missing; expected the id of a rep in the routing config")
    if not config.has_rep(rep):
        return BadRow(line, f"rep: {rep!r} is no rep of the routing config in force")
    pool = row.get("pool", "").strip() or next((p.id for p in config.pools_of(rep)), "")
    if not pool:
        return BadRow(line, f"rep: {rep!r} is in no pool, so no pool could keep them as owner")
    if not config.has_pool(pool):
        return BadRow(line, f"pool: {pool!r} is no pool of the routing config in force")
    if all(member.rep != rep for member in config.pool(pool).members):
        return BadRow(line, f"pool: {rep!r} is not a member of pool {pool!r}")
    try:
        email = normalize_email(row.get("email") or None)
        phone = normalize_phone(row.get("phone") or None)
    except InvalidLead as exc:
        return BadRow(line, f"{exc.field}: {exc.problem}; expected {exc.expected}")
    domain = (row.get("domain") or "").strip().lower() or None
    if domain is not None and ("." not in domain or " " in domain or "@" in domain):
        return BadRow(line, f"domain: {domain!r} is not a domain like acme.example")
    subjects = [person_subject(k) for k in (email, phone) if k]
    subjects += [account_subject(domain)] if domain else []
    if not subjects:
        return BadRow(line, "no email, phone or domain: nothing to own")
    lead = f"{IMPORT_PREFIX}{source}"
    return tuple(
        OwnerFact(subject=s, rep_id=rep, pool_id=pool, lead_id=lead, assigned_at_ms=at_ms)
        for s in subjects
    )
