"""`leadrouter activity LEAD TYPE`: publish a lead's CRM activity to `leads.activity`.

For demos, scripts and CRMs without a Kafka client: the SLA watcher reads these records to stop
timers (`first_touch`, `accepted`, `contacted`), reassign (`rejected`) and free capacity
(`closed_won`, `closed_lost`, `disqualified`). The command returns once the broker has
acknowledged the write (idempotent producer, acks=all), or fails with the reason.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import datetime

from confluent_kafka import KafkaError, Message, Producer

from services.cli.base import CommandError, Subparsers
from services.leads.events import ActivityType, LeadActivity
from services.leads.topics import Topic
from services.streaming.cloudevents import ce_headers
from services.streaming.codec import AvroCodec
from services.streaming.records import OutputRecord
from services.streaming.settings import KafkaSettings


def register(subparsers: Subparsers) -> None:
    activity = subparsers.add_parser(
        "activity",
        help="publish activity on a lead (first touch, accepted, rejected, closed, ...)",
        description="Publish one LeadActivity record to leads.activity, keyed by the lead id.",
    )
    activity.add_argument("lead", help="the lead id, as in leads.assignments")
    activity.add_argument("type", choices=[t.value for t in ActivityType], metavar="TYPE",
                          help=f"one of: {', '.join(t.value for t in ActivityType)}")  # fmt: skip
    activity.add_argument("--rep", help="the rep who acted (default: the current owner)")
    activity.add_argument("--note", help="free text kept with the activity")
    activity.add_argument(
        "--at",
        help="when it happened, ISO 8601 with an offset (default: now), e.g. 2026-05-04T09:30Z",
    )
    activity.add_argument("--source", default="cli", help="the system reporting it (default cli)")
    activity.add_argument("--id", help="activity id (default: a new unique id)")
    activity.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for the broker (default 10)"
    )
    activity.set_defaults(func=_publish)


def parse_instant_ms(text: str) -> int:
    """Epoch ms of an ISO 8601 instant with an offset; CommandError naming the flag if not one."""
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise CommandError(
            f"--at expects an ISO 8601 time with an offset like 2026-05-04T09:30:00Z, got {text!r}"
        )
    return int(instant.timestamp() * 1000)


def activity_record(topic: str, activity: LeadActivity) -> OutputRecord:
    """The leads.activity record: lead id as key, Avro value, CloudEvents headers."""
    headers = ce_headers(
        event_id=activity.activity_id,
        source=f"leadrouter/{activity.source}",
        event_type=f"io.leadrouter.activity.{activity.type.value}",
        time_ms=activity.occurred_at_ms,
        subject=activity.lead_id,
        schema="io.leadrouter.LeadActivity",
    )
    value = AvroCodec(LeadActivity).encode(activity)
    return OutputRecord(topic, activity.lead_id.encode(), value, tuple(headers))


def _publish(args: argparse.Namespace) -> int:
    if not args.lead.strip():
        raise CommandError("LEAD must be a lead id, got an empty string")
    activity = LeadActivity(
        activity_id=args.id or uuid.uuid4().hex,
        lead_id=args.lead,
        type=ActivityType(args.type),
        rep_id=args.rep,
        occurred_at_ms=parse_instant_ms(args.at) if args.at else time.time_ns() // 1_000_000,
        source=args.source,
        note=args.note,
    )
    settings = KafkaSettings()
    record = activity_record(settings.topic(Topic.ACTIVITY), activity)
    outcome: list[KafkaError | Message] = []

    def delivered(error: KafkaError | None, message: Message) -> None:
        outcome.append(error if error is not None else message)

    producer = Producer(settings.producer(**{"message.timeout.ms": int(args.timeout * 1000)}))
    producer.produce(
        record.topic, key=record.key, value=record.value, headers=list(record.headers),
        on_delivery=delivered,
    )  # fmt: skip
    producer.flush(args.timeout + 1)
    if not outcome:
        raise CommandError(
            f"the broker at {settings.bootstrap_servers} did not acknowledge within "
            f"{args.timeout:g} s; nothing is known to be published"
        )
    result = outcome[0]
    if isinstance(result, KafkaError):
        raise CommandError(f"publishing to {record.topic} failed: {result.str()}")
    print(
        f"published {activity.type.value} for lead {activity.lead_id} "
        f"(activity {activity.activity_id}) to {result.topic()}[{result.partition()}]"
        f"@{result.offset()}"
    )
    return 0
