"""How a delivery moves on each answer: sent, retried after a backoff, or dead."""

from __future__ import annotations

from services.notifier.deliveries import Failed, RetryPolicy, Sent, Status, answered, settled
from services.notifier.delivery_store import DeliveryStore, decode, encode
from tests.unit.notifier.builders import T0, make_delivery

POLICY = RetryPolicy(max_attempts=4, base_ms=1_000, cap_ms=10_000)


def test_a_confirmed_send_is_sent_for_good() -> None:
    after = answered(make_delivery(), Sent("SM1"), T0, POLICY)
    assert (after.status, after.attempts, after.last_answer) == (Status.SENT, 1, "sent as SM1")


def test_backoff_grows_with_jitter_within_its_bounds_and_honours_retry_after() -> None:
    delivery = make_delivery()
    delays = []
    for attempt in range(1, 4):
        ceiling = min(10_000, 1_000 * 2 ** (attempt - 1))
        delay = POLICY.delay_ms(delivery.notification_id, attempt, None)
        assert ceiling / 2 <= delay <= ceiling
        delays.append(delay)
    assert delays == sorted(delays)
    assert POLICY.delay_ms(delivery.notification_id, 1, 30.0) == 30_000
    # A stable hash, not a random draw: the same attempt of the same notification waits the same.
    assert POLICY.delay_ms(delivery.notification_id, 2, None) == delays[1]


def test_a_retryable_failure_waits_and_the_last_attempt_is_dead() -> None:
    delivery = make_delivery()
    busy = Failed(True, "Service Unavailable", 503)
    for _ in range(POLICY.max_attempts - 1):
        delivery = answered(delivery, busy, T0, POLICY)
        assert delivery.status is Status.PENDING
        assert delivery.next_at_ms > T0
    delivery = answered(delivery, busy, T0, POLICY)
    assert (delivery.status, delivery.attempts) == (Status.DEAD, POLICY.max_attempts)
    assert delivery.last_answer == "503 Service Unavailable"


def test_a_permanent_refusal_is_dead_at_once() -> None:
    after = answered(make_delivery(), Failed(False, "invalid_payload", 400), T0, POLICY)
    assert (after.status, after.attempts) == (Status.DEAD, 1)


def test_the_store_finds_pending_work_and_forgets_what_a_rollback_undid() -> None:
    store = DeliveryStore("notifier.deliveries")
    store.adopt(0)
    pending = make_delivery()
    store.put(0, pending.notification_id, pending)
    store.commit()
    assert [d.notification_id for d in store.pending(0)] == [pending.notification_id]
    store.put(0, pending.notification_id, answered(pending, Sent(), T0, POLICY))
    assert list(store.pending(0)) == []
    store.rollback()  # the send was not committed: it is pending again
    assert [d.notification_id for d in store.pending(0)] == [pending.notification_id]
    assert decode(encode(pending)) == pending


def test_a_settled_delivery_keeps_its_standing_not_its_texts() -> None:
    sent = settled(answered(make_delivery(), Sent(), T0, POLICY))
    assert (sent.status, sent.message, sent.payload) == (Status.SENT, {}, "")
    assert len(encode(sent)) < 600
