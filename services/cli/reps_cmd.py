"""`leadrouter reps set REP available|away|offline [--until T]` and `leadrouter reps list`.

`set` writes one `RepPresence` to the compacted `reps.presence` topic (key: rep id) and returns
once the broker acknowledged it. The router joins presence by event time among the records it
has read: a request made after `changed_at` (now, or `--at`) and decided once the router has
read the record sees the new status; `--until` makes it lapse back to available at
that instant (an ISO 8601 time, or a duration from now such as `2h` or `1d`). The rep must be in
the published routing config (`--force` skips that check, e.g. before its first publish).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from services.cli.activity_cmd import parse_instant_ms
from services.cli.base import CommandError, Subparsers
from services.leads.config_errors import ConfigInvalid
from services.leads.durations import parse_duration_ms
from services.leads.events import PresenceStatus, RepPresence
from services.leads.topics import Topic
from services.router.app import presence_table
from services.router.config_document import parse_config_text
from services.router.config_source import read_published
from services.router.presence import POOL_KEY_PREFIX
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings


def register(subparsers: Subparsers) -> None:
    reps = subparsers.add_parser("reps", help="set and list reps' presence (reps.presence)")
    actions = reps.add_subparsers(dest="action", required=True)
    set_ = actions.add_parser("set", help="set a rep's presence")
    set_.add_argument("rep", help="rep id, as in the routing config")
    set_.add_argument("status", choices=[s.value for s in PresenceStatus], metavar="STATUS",
                      help="available, away or offline")  # fmt: skip
    set_.add_argument(
        "--until", help="when the status lapses to available: ISO 8601 (2026-05-04T17:00Z) or "
        "a duration from now (90m, 2h, 1d)",
    )  # fmt: skip
    set_.add_argument("--at", help="when the change takes effect, ISO 8601 (default: now)")
    set_.add_argument("--force", action="store_true", help="skip the check against the config")
    set_.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (default 10)")
    set_.set_defaults(func=_set)
    listing = actions.add_parser("list", help="print every rep's latest presence record")
    listing.set_defaults(func=_list)


def until_ms(text: str, now_ms: int) -> int:
    """An ISO instant, or now plus a duration; CommandError naming --until if neither."""
    if text[:1].isdigit() and not any(c in text for c in "-:T"):
        try:
            return now_ms + parse_duration_ms(text)
        except ValueError as exc:
            raise CommandError(f"--until: {exc}") from None
    try:
        return parse_instant_ms(text)
    except CommandError:
        raise CommandError(
            f"--until expects an ISO 8601 time with an offset (2026-05-04T17:00Z) or a duration "
            f"(90m, 2h, 1d), got {text!r}"
        ) from None


def _set(args: argparse.Namespace) -> int:
    settings = KafkaSettings()
    now = time.time_ns() // 1_000_000
    changed_at = parse_instant_ms(args.at) if args.at else now
    until = until_ms(args.until, changed_at) if args.until else None
    if until is not None and until <= changed_at:
        raise CommandError(f"--until is not after the change ({_iso(until)} <= {_iso(changed_at)})")
    if until is not None and args.status == PresenceStatus.AVAILABLE:
        raise CommandError("--until only applies to away or offline: available does not lapse")
    if not args.force:
        _check_rep(settings, args.rep)
    presence = RepPresence(
        rep_id=args.rep,
        status=PresenceStatus(args.status),
        until_ms=until,
        changed_at_ms=changed_at,
    )
    result = _produce(settings, presence, args.timeout)
    lapse = f" until {_iso(until)}" if until is not None else ""
    print(
        f"{presence.rep_id} is {presence.status.value}{lapse} from {_iso(changed_at)} "
        f"({result.topic()}[{result.partition()}]@{result.offset()})"
    )
    return 0


def _check_rep(settings: KafkaSettings, rep_id: str) -> None:
    published = read_published(settings)
    if not published:
        raise CommandError("no routing config is published yet: publish one, or pass --force")
    newest = published[max(published)]
    try:
        known = parse_config_text(newest.document).has_rep(rep_id)
    except ConfigInvalid:
        known = True  # the router skips an invalid version too; nothing to check against
    if not known:
        raise CommandError(
            f"unknown rep {rep_id!r}: not in routing config version {newest.version} "
            "(pass --force to set it anyway)"
        )


def _produce(settings: KafkaSettings, presence: RepPresence, timeout: float) -> Message:
    outcome: list[KafkaError | Message] = []

    def delivered(error: KafkaError | None, message: Message) -> None:
        outcome.append(error if error is not None else message)

    producer = Producer(settings.producer(**{"message.timeout.ms": int(timeout * 1000)}))
    try:
        producer.produce(
            settings.topic(Topic.REPS_PRESENCE),
            key=presence.rep_id.encode(),
            value=AvroCodec(RepPresence).encode(presence),
            on_delivery=delivered,
        )
        producer.flush(timeout + 1)
    except KafkaException as exc:
        raise CommandError(f"publishing presence failed: {exc}") from exc
    if not outcome:
        raise CommandError(
            f"the broker at {settings.bootstrap_servers} did not acknowledge within {timeout:g} s; "
            "nothing is known to be published"
        )
    if isinstance(outcome[0], KafkaError):
        raise CommandError(f"publishing presence failed: {outcome[0].str()}")
    return outcome[0]


def _list(_args: argparse.Namespace) -> int:
    table = presence_table(KafkaSettings())
    try:
        table.load()
    finally:
        table.close()
    # A pool's pause shares the topic (`@pool/<id>`, see presence.pool_key): not a rep, shown apart.
    reps, pools = {}, {}
    for key, p in table.values.items():
        if p is not None:
            if key.startswith(POOL_KEY_PREFIX):
                pools[key.removeprefix(POOL_KEY_PREFIX)] = p
            else:
                reps[key] = p
    if not reps:
        print("no presence records: every rep is available")
    for rep_id, p in sorted(reps.items()):
        lapse = f" until {_iso(p.until_ms)}" if p.until_ms is not None else ""
        print(f"{rep_id:20} {p.status.value:9}{lapse} (since {_iso(p.changed_at_ms)})")
    for pool_id, p in sorted(pools.items()):
        if p.status is not PresenceStatus.AVAILABLE:
            print(f"pool {pool_id:15} paused    (since {_iso(p.changed_at_ms)})")
    return 0


def _iso(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
