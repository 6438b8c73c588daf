"""Reference CRM sync: `leads.assignments` -> a SQLite table of lead owners, `first_touch` back.

Copy this to start a CRM integration. It needs only the published .avsc files, fastavro and a
Kafka client; nothing from leadrouter's own code.

- Owner changes are applied idempotently by lead id and attempt: a decision older than the one
  stored (lower attempt) or one already applied (same assignment id) changes nothing, so a
  redelivered or replayed batch leaves the table as it was.
- Offsets are committed only after the SQLite transaction has committed, so a crash replays
  the batch (harmless, see above) and never skips it.
- For a deterministic sample of new owners, a `first_touch` LeadActivity is published to
  `leads.activity` before the batch commits (at least once; its activity id is derived from the
  assignment, so a repeat is recognizable), which stops the lead's SLA timer.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 python examples/crm_sync/crm_sync.py --db crm.sqlite3
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import sys
import time
import zlib
from pathlib import Path
from typing import Any

from avro_records import RecordError, SchemaBook
from confluent_kafka import Consumer, KafkaException, Producer

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
ASSIGNMENT = "io.leadrouter.Assignment"
ACTIVITY = "io.leadrouter.LeadActivity"
STATUS_ORDER = {"unassigned": 0, "assigned": 0, "released": 1}
"""Within one attempt a release comes after the assignment it releases."""

DDL = """
CREATE TABLE IF NOT EXISTS leads (
    lead_id       TEXT PRIMARY KEY,
    owner         TEXT,              -- NULL while unassigned or after release
    status        TEXT NOT NULL,     -- assigned | unassigned | released
    attempt       INTEGER NOT NULL,  -- 1 for the first assignment, +1 per reassignment
    status_rank   INTEGER NOT NULL,
    pool_id       TEXT NOT NULL,
    assignment_id TEXT NOT NULL,
    reason        TEXT NOT NULL,
    decided_at_ms INTEGER NOT NULL,
    email         TEXT,
    company       TEXT
);
CREATE TABLE IF NOT EXISTS owner_changes (
    assignment_id TEXT PRIMARY KEY,
    lead_id       TEXT NOT NULL,
    owner         TEXT,
    attempt       INTEGER NOT NULL,
    decided_at_ms INTEGER NOT NULL
);
"""

UPSERT = """
INSERT INTO leads VALUES (:lead_id, :owner, :status, :attempt, :status_rank, :pool_id,
                          :assignment_id, :reason, :decided_at_ms, :email, :company)
ON CONFLICT (lead_id) DO UPDATE SET
    owner = excluded.owner, status = excluded.status, attempt = excluded.attempt,
    status_rank = excluded.status_rank, pool_id = excluded.pool_id,
    assignment_id = excluded.assignment_id, reason = excluded.reason,
    decided_at_ms = excluded.decided_at_ms,
    email = COALESCE(excluded.email, leads.email),
    company = COALESCE(excluded.company, leads.company)
WHERE (excluded.attempt, excluded.status_rank) > (leads.attempt, leads.status_rank)
"""


def kafka_config() -> dict[str, Any]:
    """The broker and its security from the same KAFKA_* variables leadrouter reads."""
    config: dict[str, Any] = {
        "bootstrap.servers": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        "security.protocol": os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
    }
    for env, key in (
        ("KAFKA_SASL_MECHANISM", "sasl.mechanism"),
        ("KAFKA_SASL_USERNAME", "sasl.username"),
        ("KAFKA_SASL_PASSWORD", "sasl.password"),
        ("KAFKA_SSL_CA_LOCATION", "ssl.ca.location"),
        ("KAFKA_SSL_CERTIFICATE_LOCATION", "ssl.certificate.location"),
        ("KAFKA_SSL_KEY_LOCATION", "ssl.key.location"),
        ("KAFKA_SSL_KEY_PASSWORD", "ssl.key.password"),
    ):
        if os.environ.get(env):
            config[key] = os.environ[env]
    return config


def in_sample(lead_id: str, fraction: float) -> bool:
    """Stable across restarts and machines (crc32, not Python's salted hash())."""
    return zlib.crc32(lead_id.encode()) % 10_000 < fraction * 10_000


def apply(db: sqlite3.Connection, assignment: dict[str, Any]) -> bool:
    """Apply one decision; True when it changed the lead's owner row."""
    lead = assignment.get("lead") or {}
    row = {
        "lead_id": assignment["lead_id"],
        "owner": assignment["rep_id"] if assignment["outcome"] == "assigned" else None,
        "status": assignment["outcome"],
        "attempt": assignment["attempt"],
        "status_rank": STATUS_ORDER.get(assignment["outcome"], 0),
        "pool_id": assignment["pool_id"],
        "assignment_id": assignment["assignment_id"],
        "reason": assignment["reason"],
        "decided_at_ms": assignment["decided_at_ms"],
        "email": lead.get("email"),
        "company": lead.get("company"),
    }
    history = db.execute(
        "INSERT OR IGNORE INTO owner_changes VALUES (?, ?, ?, ?, ?)",
        (row["assignment_id"], row["lead_id"], row["owner"], row["attempt"], row["decided_at_ms"]),
    )
    if history.rowcount == 0:
        return False  # this exact decision was applied before
    return db.execute(UPSERT, row).rowcount > 0


def first_touch(assignment: dict[str, Any], now_ms: int) -> dict[str, Any]:
    return {
        "activity_id": f"crm-sync:{assignment['assignment_id']}:first_touch",
        "lead_id": assignment["lead_id"],
        "type": "first_touch",
        "rep_id": assignment["rep_id"],
        "occurred_at_ms": now_ms,
        "source": "crm-sync",
        "note": None,
    }


def run(args: argparse.Namespace) -> int:
    book = SchemaBook(Path(args.schemas))
    db = sqlite3.connect(args.db, isolation_level=None)
    db.executescript(DDL)
    consumer = Consumer(
        {
            **kafka_config(),
            "group.id": args.group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",  # never act on an aborted router transaction
        }
    )
    producer = Producer(
        {**kafka_config(), "enable.idempotence": True, "partitioner": "murmur2_random"}
    )
    topic = f"{args.topic_prefix}leads.assignments"
    activity_topic = f"{args.topic_prefix}leads.activity"
    consumer.subscribe([topic])
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    idle_since = time.monotonic()
    try:
        while not stopping:
            messages = consumer.consume(500, timeout=0.5)
            if not messages:
                if args.idle_exit and time.monotonic() - idle_since > args.idle_exit:
                    break
                continue
            idle_since = time.monotonic()
            applied = touched = 0
            db.execute("BEGIN")
            for message in messages:
                if message.error():
                    raise KafkaException(message.error())
                try:
                    assignment = book.decode(message.value(), ASSIGNMENT)
                except RecordError as exc:
                    # Not ours to fix: say where it is, skip it, keep the table consistent.
                    print(
                        f"skipping {topic}[{message.partition()}]@{message.offset()}: {exc}",
                        file=sys.stderr,
                    )
                    continue
                if not apply(db, assignment):
                    continue
                applied += 1
                if assignment["outcome"] == "assigned" and in_sample(
                    assignment["lead_id"], args.sample
                ):
                    activity = first_touch(assignment, int(time.time() * 1000))
                    producer.produce(
                        activity_topic,
                        key=assignment["lead_id"].encode(),
                        value=book.encode(activity, ACTIVITY),
                        headers=[
                            ("ce_specversion", b"1.0"),
                            ("ce_type", b"io.leadrouter.LeadActivity"),
                            ("ce_id", activity["activity_id"].encode()),
                            ("ce_source", b"crm-sync"),
                            ("ce_subject", assignment["lead_id"].encode()),
                            ("content-type", b"application/avro"),
                        ],
                    )
                    touched += 1
            if producer.flush(30) > 0:
                db.execute("ROLLBACK")
                raise KafkaException("first_touch activity not acknowledged within 30 s")
            db.execute("COMMIT")
            consumer.commit(asynchronous=False)  # only after the table holds the batch
            print(f"applied {applied} owner changes, published {touched} first touches", flush=True)
    finally:
        consumer.close()
        db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="crm.sqlite3", help="SQLite file (created if missing)")
    parser.add_argument("--group", default="crm-sync", help="Kafka consumer group")
    parser.add_argument(
        "--sample",
        type=float,
        default=0.5,
        help="fraction of new owners that get a first_touch (0..1)",
    )
    parser.add_argument("--schemas", default=str(SCHEMAS), help="directory of .avsc files")
    parser.add_argument("--topic-prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""))
    parser.add_argument(
        "--idle-exit",
        type=float,
        default=0.0,
        help="exit after this many seconds without records (0: run until stopped)",
    )
    args = parser.parse_args(argv)
    if not 0.0 <= args.sample <= 1.0:
        parser.error(f"--sample must be between 0 and 1, got {args.sample}")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
