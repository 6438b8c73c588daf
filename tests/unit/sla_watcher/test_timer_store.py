"""The timer store's running set follows the committed map through commits and rollbacks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.sla_watcher.steps import fire_due
from services.sla_watcher.timer_state import ParkedRecord, SlaTimer
from services.sla_watcher.timer_store import TimerStore, timer_serde
from services.sla_watcher.transitions import on_assignment, park
from tests.unit.sla_watcher.builders import MINUTE, T0, make_assignment, make_context


def timer(lead_id: str = "lead-1") -> SlaTimer:
    state = on_assignment(None, make_assignment(lead_id), make_context(), T0).state
    assert state is not None
    return state


def running_ids(store: TimerStore) -> list[str]:
    return [t.lead_id for t in store.waking(0)]


def test_restored_partition_knows_its_running_timers() -> None:
    store = TimerStore("sla.timers")
    stopped = timer("b").model_copy(update={"deadline_ms": None})
    store.adopt(0, {"a": timer("a"), "b": stopped})
    assert running_ids(store) == ["a"]


def test_written_timer_runs_before_and_after_commit() -> None:
    store = TimerStore("sla.timers")
    store.adopt(0)
    store.put(0, "lead-1", timer())
    assert running_ids(store) == ["lead-1"]
    store.commit()
    assert running_ids(store) == ["lead-1"]


def test_rollback_brings_back_a_timer_that_fired_in_the_aborted_transaction() -> None:
    store = TimerStore("sla.timers")
    store.adopt(0, {"lead-1": timer()})
    fired = fire_due(timer(), T0 + 10 * MINUTE, 0).state
    assert fired is not None
    store.put(0, "lead-1", fired)
    assert running_ids(store) == []
    store.rollback()
    assert running_ids(store) == ["lead-1"]  # it fires again in the retried transaction


def test_deleted_timer_stops_running_once_committed() -> None:
    store = TimerStore("sla.timers")
    store.adopt(0, {"lead-1": timer()})
    store.delete(0, "lead-1")
    store.commit()
    assert running_ids(store) == [] and store.get(0, "lead-1") is None


def test_dropped_partition_forgets_its_timers() -> None:
    store = TimerStore("sla.timers")
    store.adopt(0, {"lead-1": timer()})
    store.drop([0])
    store.adopt(0)
    assert running_ids(store) == []


def test_timer_survives_the_avro_round_trip() -> None:
    serde = timer_serde()
    original = timer()
    assert serde.decode(serde.encode(original)) == original


def test_parked_activity_survives_the_avro_round_trip() -> None:
    serde = timer_serde()
    record = ParkedRecord(topic="leads.activity", partition=2, offset=41, key=b"lead-1",
                          value=b"\xc3\x01...", timestamp_ms=T0)  # fmt: skip
    entry = park(None, record, "lead-1", T0, 5_000).state
    assert entry is not None and entry.wakes_at() == T0 + 5_000
    assert serde.decode(serde.encode(entry)) == entry


OPS = st.lists(
    st.tuples(
        st.sampled_from(["put_running", "put_stopped", "delete", "commit", "rollback"]),
        st.sampled_from(["a", "b", "c"]),
    ),
    max_size=30,
)


@given(ops=OPS)
def test_waking_index_always_agrees_with_the_entries(ops: list[tuple[str, str]]) -> None:
    store = TimerStore("sla.timers")
    store.adopt(0)
    for op, key in ops:
        if op == "put_running":
            store.put(0, key, timer(key))
        elif op == "put_stopped":
            store.put(0, key, timer(key).model_copy(update={"deadline_ms": None}))
        elif op == "delete":
            store.delete(0, key)
        elif op == "commit":
            store.commit()
        else:
            store.rollback()
        expected = sorted(k for k, t in store.items(0) if t.wakes_at() is not None)
        assert running_ids(store) == expected
