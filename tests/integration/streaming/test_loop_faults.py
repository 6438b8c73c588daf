"""What the loop does with each class of error from a transactional call, on the in-memory twin
and on the real broker alike (see kafka_calls.py for the documented actions):

    retriable          the same call again: no abort, nothing handled twice
    txn_requires_abort abort, roll state back, rewind: every input still handled once
    fenced or fatal    a new producer, rewind: every input still handled once, also when
                       the abort of a failed transaction is what fails fatally; stop when
                       it happens again and again (another process in the slot): nothing
                       of the open transaction becomes visible

and a record whose output the broker refuses is dead-lettered while the rest go on.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator

import pytest
from confluent_kafka import KafkaError

from services.leads.events import DeadLetter
from services.leads.topics import Topic
from services.streaming.codec import AvroCodec
from services.streaming.errors import FatalError
from services.streaming.loop import LoopSettings, Processor, TransactionalLoop
from services.streaming.records import InputRecord, OutputRecord
from tests.integration.streaming.backends import Backend, values
from tests.integration.streaming.counting_app import INPUT, OUTPUT, STATE, build
from tests.integration.streaming.loop_runner import Running, aborts, records_processed, stopped

pytestmark = pytest.mark.integration
RECORDS, KEYS = 40, 4


def retriable(call: str) -> KafkaError:
    return KafkaError(KafkaError._TIMED_OUT, f"injected into {call}", retriable=True)


def abortable(call: str) -> KafkaError:
    return KafkaError(KafkaError._TIMED_OUT, f"injected into {call}", txn_requires_abort=True)


def fatal(call: str) -> KafkaError:
    return KafkaError(KafkaError._FATAL, f"injected into {call}", fatal=True)


def fenced(call: str) -> KafkaError:
    return KafkaError(KafkaError._FENCED, f"injected into {call}", fatal=True)


def counting(backend: Backend) -> tuple[TransactionalLoop, str]:
    """The counting processor over RECORDS inputs on 2 partitions, not started."""
    source = backend.create_topic(INPUT, partitions=2)
    out = backend.create_topic(OUTPUT)
    backend.create_topic(STATE, partitions=2, compacted=True)
    producer = backend.clients.producer(backend.settings.producer())
    for i in range(RECORDS):
        producer.produce(source, key=f"k{i % KEYS}".encode(), value=f"v{i}".encode())
    producer.flush(10)
    settings = LoopSettings(max_batch_records=8, session_timeout_ms=6000)
    loop = TransactionalLoop(
        build(backend.settings), backend.settings, settings, clients=backend.clients
    )
    return loop, out


def wait_for_values(backend: Backend, topic: str, count: int, timeout_s: float = 60) -> list:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout_s
    while len(seen := values(backend, topic)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return seen


def run_to_the_end(backend: Backend, loop: TransactionalLoop, out: str) -> list[bytes | None]:
    """Run `loop` until every input's output is visible; it must not stop on the way."""
    running = Running(loop)
    try:
        outputs = wait_for_values(backend, out, RECORDS)
    finally:
        running.stop()
    assert running.failures == []
    return outputs


def assert_each_input_once_with_counts_in_order(outputs: list[bytes | None]) -> None:
    counts: dict[str, list[int]] = defaultdict(list)
    for value in outputs:
        text, count = (value or b"").decode().split("|")
        counts[f"k{int(text[1:]) % KEYS}"].append(int(count))
    assert sorted((v or b"").split(b"|")[0] for v in outputs) == sorted(
        f"v{i}".encode() for i in range(RECORDS)
    )
    assert {key: sorted(seen) for key, seen in counts.items()} == {
        f"k{k}": list(range(1, RECORDS // KEYS + 1)) for k in range(KEYS)
    }


@pytest.mark.parametrize("call", ["commit_transaction", "send_offsets_to_transaction"])
@pytest.mark.parametrize(
    ("make_error", "expected_aborts"), [(retriable, 0), (abortable, 1), (fenced, 1), (fatal, 1)]
)
def test_a_retriable_call_is_made_again_a_failed_one_rewinds_every_input_once(
    backend: Backend, call: str, make_error: object, expected_aborts: int
) -> None:
    loop, out = counting(backend)
    backend.fail_next(call, make_error(call))  # type: ignore[operator]
    outputs = run_to_the_end(backend, loop, out)
    assert aborts(loop) == expected_aborts
    assert_each_input_once_with_counts_in_order(outputs)
    assert records_processed(loop) == RECORDS  # counted at commit: a rewound one once


def test_an_abort_that_fails_fatally_gets_a_new_producer_and_every_input_once(
    backend: Backend,
) -> None:
    """As after a broker frozen past the transaction timeout (CI saw it): the commit times
    out, and the abort that follows fails fatally (INVALID_TXN_STATE)."""
    loop, out = counting(backend)
    backend.fail_next("commit_transaction", abortable("commit_transaction"))
    backend.fail_next("abort_transaction", fatal("abort_transaction"))
    outputs = run_to_the_end(backend, loop, out)
    assert aborts(loop) == 2  # the timed-out transaction, then the producer it took along
    assert_each_input_once_with_counts_in_order(outputs)


@pytest.mark.parametrize("make_error", [fenced, fatal])
def test_a_producer_lost_again_and_again_stops_the_loop_and_nothing_is_visible(
    backend: Backend, make_error: object
) -> None:
    loop, out = counting(backend)
    for _ in range(loop.s.max_producer_renewals + 1):
        backend.fail_next("commit_transaction", make_error("commit_transaction"))  # type: ignore[operator]
    error = stopped(loop)
    assert isinstance(error, FatalError)
    assert "4 times within a minute" in str(error)
    assert values(backend, out) == []


def test_an_output_the_broker_refuses_is_dead_lettered_and_the_rest_go_on(
    backend: Backend,
) -> None:
    source = backend.create_topic("refuse.in")
    out = backend.create_topic("refuse.out", max_message_bytes=10_000)
    dead = backend.create_topic(Topic.DEAD_LETTER)
    producer = backend.clients.producer(backend.settings.producer())
    for i in range(12):
        producer.produce(source, key=b"k", value=f"{'big' if i in (3, 4) else 'ok'}-{i}".encode())
    producer.flush(10)

    def handle(record: InputRecord) -> Iterator[OutputRecord]:
        value = record.value or b""
        yield OutputRecord(out, b"k", value.ljust(50_000 if value.startswith(b"big") else 0))

    processor = Processor(
        app_id=backend.settings.topic("refuser"),
        inputs=[source],
        handle=handle,
        dead_letter_topic=dead,
    )
    loop = TransactionalLoop(processor, backend.settings, LoopSettings(), clients=backend.clients)
    running = Running(loop)
    try:
        outputs = wait_for_values(backend, out, 10)
        letters = wait_for_values(backend, dead, 2)
    finally:
        running.stop()
    assert running.failures == []
    assert outputs == [f"ok-{i}".encode() for i in range(12) if i not in (3, 4)]
    decoded = [AvroCodec(DeadLetter).decode(v or b"") for v in letters]
    assert [(d.original_offset, d.reason, d.original_value) for d in decoded] == [
        (3, "outputs_refused", b"big-3"),
        (4, "outputs_refused", b"big-4"),
    ]
