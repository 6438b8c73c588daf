"""The console's projection: the event log folded into SQLite tables a person can query.

`Projection.apply(batch)` writes a batch of decoded records and, in the same SQLite transaction,
the next offset of every partition it read. A record at or below an offset already stored is
skipped, so applying a batch twice (a crash between Kafka's fetch and SQLite's commit, a restart
that re-reads) changes nothing: the tables count each record once. Rebuilding is starting from
an empty file, which reads every topic from its beginning.

Tables (every time is epoch ms UTC):

- `leads`: one row per lead id: the lead as normalized (first inbound seen), its current pool
  and owner (`rep_id`, NULL when unassigned or released), and whether it is open;
- `events`: every record that names a lead, one row each, in the order applied: the timeline.
  `kind` is the topic's short name; `body` the record as JSON;
- `presence`, `config`, `audit`: the latest presence per rep, every config version, every
  console action;
- `offsets`: per (topic, partition) the next offset to read.

The queries and upserts use no SQLite-only functions, so they could run on PostgreSQL as
written; the schema (AUTOINCREMENT, the PRAGMAs in `connect`) would need its own variant.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from services.leads.events import (
    AdminAudit,
    Assignment,
    Escalation,
    Lead,
    LeadActivity,
    Outcome,
    RepPresence,
    RoutingConfigRecord,
    RoutingRequest,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS leads (
    lead_id TEXT PRIMARY KEY, identity_key TEXT, channel TEXT, email TEXT, phone TEXT,
    first_name TEXT, last_name TEXT, company TEXT, country TEXT, received_at_ms INTEGER,
    pool_id TEXT, rep_id TEXT, open INTEGER NOT NULL DEFAULT 0, lead TEXT
);
CREATE INDEX IF NOT EXISTS leads_email ON leads (email);
CREATE INDEX IF NOT EXISTS leads_phone ON leads (phone);
CREATE INDEX IF NOT EXISTS leads_rep ON leads (rep_id, open);
CREATE INDEX IF NOT EXISTS leads_pool ON leads (pool_id, open);
CREATE INDEX IF NOT EXISTS leads_received ON leads (received_at_ms);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, lead_id TEXT NOT NULL, kind TEXT NOT NULL,
    at_ms INTEGER NOT NULL, pool_id TEXT, rep_id TEXT, outcome TEXT,
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, body TEXT NOT NULL,
    UNIQUE (topic, partition, "offset")
);
CREATE INDEX IF NOT EXISTS events_lead ON events (lead_id, seq);
CREATE INDEX IF NOT EXISTS events_rep ON events (rep_id, kind, at_ms);
CREATE INDEX IF NOT EXISTS events_pool ON events (pool_id, kind, at_ms);
CREATE TABLE IF NOT EXISTS presence (
    rep_id TEXT PRIMARY KEY, status TEXT NOT NULL, until_ms INTEGER, changed_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS config (
    version INTEGER PRIMARY KEY, content_hash TEXT NOT NULL, published_at_ms INTEGER NOT NULL,
    published_by TEXT NOT NULL, document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    audit_id TEXT PRIMARY KEY, actor TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, reason TEXT NOT NULL, at_ms INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_target ON audit (target, at_ms);
CREATE TABLE IF NOT EXISTS offsets (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
"""

Record = (
    Lead
    | RoutingRequest
    | Assignment
    | Escalation
    | LeadActivity
    | RepPresence
    | RoutingConfigRecord
    | AdminAudit
)


@dataclass(frozen=True, slots=True)
class Applied:
    """One record read from a topic: `value` None when it could not be decoded (or is a
    tombstone); its offset still counts as applied, so it is not read again."""

    topic: str
    partition: int
    offset: int
    value: Record | None


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection in WAL mode (readers never wait for the projector), schema ensured."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.executescript(SCHEMA)
    return connection


def _json(model: BaseModel) -> str:
    return model.model_dump_json(exclude={"lead"} if not isinstance(model, Lead) else None)


class Projection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection

    def next_offsets(self) -> dict[tuple[str, int], int]:
        rows = self.db.execute("SELECT topic, partition, next_offset FROM offsets")
        return {(topic, partition): offset for topic, partition, offset in rows}

    def apply(self, batch: Iterable[Applied]) -> int:
        """Write `batch` and its offsets in one transaction; returns the records newly applied."""
        applied = 0
        self.db.execute("BEGIN IMMEDIATE")
        try:
            stored = self.next_offsets()
            reached: dict[tuple[str, int], int] = {}
            for item in batch:
                where = (item.topic, item.partition)
                if item.offset < max(stored.get(where, 0), reached.get(where, 0)):
                    continue  # applied before this batch, or earlier in it
                if item.value is not None:
                    self._one(item)
                applied += 1
                reached[where] = item.offset + 1
            self.db.executemany(
                "INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?) "
                "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
                [(topic, partition, offset) for (topic, partition), offset in reached.items()],
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return applied

    def _one(self, item: Applied) -> None:
        value = item.value
        if isinstance(value, Lead):
            self._lead(value)
            self._event(item, value.lead_id, at_ms=value.received_at_ms, pool_id=None, rep_id=None)
        elif isinstance(value, RoutingRequest):
            if value.lead is not None:
                self._lead(value.lead)
            self._event(
                item,
                value.lead_id,
                at_ms=value.requested_at_ms,
                pool_id=value.pool_id,
                rep_id=value.rep_id,
            )
        elif isinstance(value, Assignment):
            self._assignment(item, value)
        elif isinstance(value, Escalation):
            self._event(
                item,
                value.lead_id,
                at_ms=value.fired_at_ms,
                pool_id=value.pool_id,
                rep_id=value.rep_id,
            )
        elif isinstance(value, LeadActivity):
            self._event(
                item, value.lead_id, at_ms=value.occurred_at_ms, pool_id=None, rep_id=value.rep_id
            )
        elif isinstance(value, RepPresence):
            self.db.execute(
                "INSERT INTO presence VALUES (?, ?, ?, ?) ON CONFLICT (rep_id) DO UPDATE SET "
                "status = excluded.status, until_ms = excluded.until_ms, "
                "changed_at_ms = excluded.changed_at_ms",
                (value.rep_id, value.status.value, value.until_ms, value.changed_at_ms),
            )
        elif isinstance(value, RoutingConfigRecord):
            self.db.execute(
                "INSERT INTO config VALUES (?, ?, ?, ?, ?) ON CONFLICT (version) DO NOTHING",
                (value.version, value.content_hash, value.published_at_ms, value.published_by,
                 value.document),
            )  # fmt: skip
        elif isinstance(value, AdminAudit):
            self.db.execute(
                "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (audit_id) DO NOTHING",
                (value.audit_id, value.actor, value.role, value.action.value, value.target,
                 value.reason, value.at_ms, value.model_dump_json()),
            )  # fmt: skip

    def _lead(self, lead: Lead) -> None:
        self.db.execute(
            "INSERT INTO leads (lead_id, identity_key, channel, email, phone, first_name, "
            "last_name, company, country, received_at_ms, lead) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lead_id) DO NOTHING",
            (lead.lead_id, lead.identity_key, lead.channel.value, lead.email, lead.phone,
             lead.first_name, lead.last_name, lead.company, lead.country, lead.received_at_ms,
             lead.model_dump_json()),
        )  # fmt: skip

    def _assignment(self, item: Applied, assignment: Assignment) -> None:
        if assignment.lead is not None:
            self._lead(assignment.lead)
        self.db.execute(
            "INSERT INTO leads (lead_id, received_at_ms) VALUES (?, ?) "
            "ON CONFLICT (lead_id) DO NOTHING",
            (assignment.lead_id, assignment.received_at_ms),
        )
        owner = assignment.rep_id if assignment.outcome is Outcome.ASSIGNED else None
        self.db.execute(
            "UPDATE leads SET pool_id = ?, rep_id = ?, open = ? WHERE lead_id = ?",
            (assignment.pool_id, owner, int(owner is not None), assignment.lead_id),
        )
        self._event(
            item, assignment.lead_id, at_ms=assignment.decided_at_ms,
            pool_id=assignment.pool_id, rep_id=assignment.rep_id,
            outcome=assignment.outcome.value,
        )  # fmt: skip

    def _event(
        self,
        item: Applied,
        lead_id: str,
        *,
        at_ms: int,
        pool_id: str | None,
        rep_id: str | None,
        outcome: str | None = None,
    ) -> None:
        value = item.value
        if value is None:
            return
        self.db.execute(
            "INSERT INTO events (lead_id, kind, at_ms, pool_id, rep_id, outcome, topic, "
            'partition, "offset", body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) '
            'ON CONFLICT (topic, partition, "offset") DO NOTHING',
            (lead_id, KINDS[type(value)], at_ms, pool_id, rep_id, outcome, item.topic,
             item.partition, item.offset, _json(value)),
        )  # fmt: skip


KINDS: dict[type[BaseModel], str] = {
    Lead: "inbound",
    RoutingRequest: "request",
    Assignment: "assignment",
    Escalation: "escalation",
    LeadActivity: "activity",
}
"""The `kind` of each timeline row."""
