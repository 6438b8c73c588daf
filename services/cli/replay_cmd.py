"""`leadrouter replay --from-beginning`: decide the logged requests again and report differences.

Reads every published config version, the whole `reps.presence` log, `leads.inbound`,
`routing.requests` and `leads.assignments` (read_committed, each to its high watermark),
re-runs triage (services/router/triage_replay.py) and the decisions
(services/router/replay.py), each with the config version and the `reps.presence` position its
recorded output names, writes them to a scratch topic (`--into`, default
`replay.<UTC time>`), and prints how many match the recorded ones byte for byte and what differs
in those that do not. Exits 1 when any decision differs, so it can gate a deploy of new routing
code against production's own history.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from services.cli.base import CommandError, Subparsers
from services.leads.config_errors import ConfigInvalid
from services.leads.events import Assignment, RoutingRequest
from services.leads.routing_config import VersionedConfig
from services.leads.topics import Topic, TopicSpec
from services.router.app import presence_serde
from services.router.config_document import parse_config_text
from services.router.config_source import read_published
from services.router.presence import PresenceLog
from services.router.replay import LoggedRecord, Recorded, Replayed, ReplayReport, replay
from services.router.triage_replay import replay_triage, triage_requests
from services.streaming.admin import create_topics
from services.streaming.codec import AvroCodec
from services.streaming.errors import DecodeError, TransientError
from services.streaming.records import Headers
from services.streaming.settings import KafkaSettings


def register(subparsers: Subparsers) -> None:
    command = subparsers.add_parser(
        "replay",
        help="re-run the router's decisions from the logs and report differences",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    command.add_argument("--from-beginning", action="store_true", required=True,
                         help="replay routing.requests from its first retained record")  # fmt: skip
    command.add_argument("--into", help="scratch topic for the replayed decisions")
    command.add_argument("--show", type=int, default=10, help="differences to print (default 10)")
    command.set_defaults(func=_replay)


def _replay(args: argparse.Namespace) -> int:
    settings = KafkaSettings()
    try:
        configs = _configs(settings)
        presence = _presence(read_log(settings, Topic.REPS_PRESENCE))
        requests = read_log(settings, Topic.ROUTING_REQUESTS)
        assignments = [r.value for r in read_log(settings, Topic.ASSIGNMENTS) if r.value]
        inbound = read_log(settings, Topic.INBOUND)
    except KafkaException as exc:
        raise TransientError(f"reading the logs failed: {exc}") from exc
    if not configs:
        raise CommandError("no valid routing config version is published: nothing to decide with")
    recorded = Recorded(assignments, _onward(requests))
    report = replay(requests, configs, presence, recorded)
    replay_triage(inbound, configs, recorded, triage_requests(requests), report)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S")
    into = args.into or settings.topic(f"replay.{stamp}")
    _write(settings, into, report.outputs)
    _print(report, into, args.show, starts_late=_starts_late(settings))
    return 1 if report.differences else 0


def read_log(
    settings: KafkaSettings, topic_name: str, timeout_s: float = 120.0
) -> list[LoggedRecord]:
    """Every committed record of a topic, up to its high watermarks, by (partition, offset)."""
    topic = settings.topic(topic_name)
    consumer = Consumer(settings.reader(**{"fetch.wait.max.ms": 10}))
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        ends = {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                ends[p] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        out: list[LoggedRecord] = []
        deadline = time.monotonic() + timeout_s
        while ends:
            for m in consumer.consume(1000, timeout=0.2):
                if m.error():
                    raise TransientError(f"reading {topic}: {m.error()}")
                out.append(LoggedRecord(topic, m.partition() or 0, m.offset() or 0,
                                        m.timestamp()[1], m.key(), m.value(),
                                        headers_of(m)))  # fmt: skip
            for tp in consumer.position([TopicPartition(topic, p) for p in ends]):
                if tp.offset >= ends[tp.partition]:
                    del ends[tp.partition]
            if time.monotonic() > deadline:
                raise TransientError(f"reading {topic} did not reach the end in {timeout_s:.0f} s")
        return sorted(out, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


def headers_of(message: Message) -> Headers:
    """A message's headers as the router read them (an override is one)."""
    raw = message.headers()
    pairs = raw.items() if isinstance(raw, dict) else (raw or ())
    return tuple((k, v if isinstance(v, bytes) else (v or "").encode()) for k, v in pairs)


def _configs(settings: KafkaSettings) -> dict[int, VersionedConfig]:
    configs = {}
    for version, record in read_published(settings).items():
        try:
            config = parse_config_text(record.document)
        except ConfigInvalid:
            continue  # the router skipped it too
        configs[version] = VersionedConfig(version, record.content_hash, config)
    return configs


def _presence(records: list[LoggedRecord]) -> PresenceLog:
    """The log decoded as the router's table decodes it (a bad record reads as no record)."""
    decode = presence_serde().decode
    return PresenceLog(
        (r.partition, r.offset, None if r.value is None else decode(r.value)) for r in records
    )


def _onward(requests: list[LoggedRecord]) -> dict[tuple[str, str], bytes]:
    """Fallback requests the router wrote: they carry the pools they came from."""
    codec = AvroCodec(RoutingRequest)
    onward = {}
    for record in requests:
        try:
            request = codec.decode(record.value)
        except DecodeError:
            continue
        if request.pools_tried and record.value is not None:
            onward[(request.request_id, request.pool_id)] = record.value
    return onward


def _starts_late(settings: KafkaSettings) -> bool:
    """Whether retention already deleted the beginning of routing.requests."""
    topic = settings.topic(Topic.ROUTING_REQUESTS)
    consumer = Consumer(settings.reader())
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return any(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[0] > 0
            for p in partitions
        )
    finally:
        consumer.close()


def _write(settings: KafkaSettings, topic: str, outputs: list[Replayed]) -> None:
    create_topics(settings.model_copy(update={"topic_prefix": ""}), specs=[TopicSpec(topic, False)])
    producer = Producer(settings.producer())
    for output in outputs:
        while True:
            try:
                producer.produce(topic, key=output.key, value=output.value)
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(60):
        raise CommandError(f"the replayed decisions were not all written to {topic}")


def _print(report: ReplayReport, into: str, show: int, *, starts_late: bool) -> None:
    same = sum(1 for o in report.outputs if o.same)
    print(f"replayed {len(report.outputs)} decisions into {into}")
    print(f"  identical to the recorded ones: {same}")
    print(f"  different:                      {len(report.differences)}")
    print(f"  with no recorded decision:      {len(report.unrecorded)}")
    triaged = [o for o in report.outputs if o.kind == "triage"]
    print(f"  of them triage requests:        {len(triaged)} "
          f"({sum(o.same for o in triaged)} identical)")  # fmt: skip
    if report.undecodable:
        print(f"  undecodable requests skipped:   {len(report.undecodable)} (dead-lettered live)")
    if report.unpositioned:
        print(f"  decided by a router that did not trace its presence position: "
              f"{report.unpositioned} (presence read from the whole log)")  # fmt: skip
    if report.missing_versions:
        print(f"  config version no longer published: {len(report.missing_versions)} requests")
    if starts_late:
        print("  note: retention deleted the start of routing.requests; the replay starts from "
              "empty rotation state, so early differences are expected")  # fmt: skip
    codec = AvroCodec(Assignment)
    for output in report.differences[:show]:
        if output.kind == "assignment" and output.recorded is not None:
            fields = _differing(codec.decode(output.value), codec.decode(output.recorded))
            print(f"  {output.request_id}: {', '.join(fields)} differ")
        else:
            print(f"  {output.request_id}: the {output.kind} request differs")


def _differing(replayed: Assignment, recorded: Assignment) -> list[str]:
    fields = [
        name
        for name in Assignment.model_fields
        if name != "trace" and getattr(replayed, name) != getattr(recorded, name)
    ]
    trace_fields = [
        f"trace.{name}"
        for name in type(replayed.trace).model_fields
        if getattr(replayed.trace, name) != getattr(recorded.trace, name)
    ]
    return fields + trace_fields or ["the encoded bytes"]
