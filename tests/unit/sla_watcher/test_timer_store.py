"""The timer store's index follows the committed map through commits and rollbacks, and a
restored partition is indexed from its records' leading fields without decoding them."""

from __future__ import annotations

import io
import struct

import fastavro
from hypothesis import given
from hypothesis import strategies as st

from services.sla_watcher.steps import fire_due
from services.sla_watcher.timer_serde import Standing, TimerSerde
from services.sla_watcher.timer_state import ParkedRecord, SlaTimer, TimerStatus
from services.sla_watcher.timer_store import TimerStore, timer_serde
from services.sla_watcher.transitions import on_assignment, park
from services.streaming.codec import MAGIC, SCHEMA_DIR, _parse_all, fingerprint
from services.streaming.records import Serde
from tests.unit.sla_watcher.builders import MINUTE, T0, make_assignment, make_context, make_lead


def timer(lead_id: str = "lead-1") -> SlaTimer:
    assignment = make_assignment(lead_id, lead=make_lead(lead_id))
    state = on_assignment(None, assignment, make_context(), T0).state
    assert state is not None
    return state


def restored(entries: dict[str, SlaTimer]) -> TimerStore:
    """A store that restored partition 0 from these entries' state records."""
    serde = timer_serde()
    store = TimerStore("sla.timers")
    store.adopt_records(0, {key: serde.encode(entry) for key, entry in entries.items()})
    return store


def counting_decodes(store: TimerStore) -> list[str]:
    """The lead ids `store` decodes from now on, in order."""
    decoded: list[str] = []
    serde = store.serde

    def decode(data: bytes) -> SlaTimer:
        entry = serde.decode(data)
        decoded.append(entry.lead_id)
        return entry

    store.serde = Serde(encode=serde.encode, decode=decode)
    return decoded


def previous_schema_record(entry: SlaTimer) -> bytes:
    """`entry` as the watcher wrote it before `wakes_at_ms` led the record (history v2)."""
    versions = _parse_all(sorted((SCHEMA_DIR / "history" / "v2").glob("*.avsc")))
    schema = versions["io.leadrouter.SlaTimer"]
    out = io.BytesIO()
    out.write(MAGIC + struct.pack("<Q", fingerprint(schema)))
    fastavro.schemaless_writer(out, schema, entry.model_dump())
    return out.getvalue()


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
def test_index_always_agrees_with_the_entries(ops: list[tuple[str, str]]) -> None:
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
        running = sum(1 for _, t in store.items(0) if t.next_step() is not None)
        assert store.running_count(0) == running


def test_a_records_leading_fields_give_its_standing_without_decoding_it() -> None:
    serde = TimerSerde()
    for entry in (
        timer(),
        timer().model_copy(update={"status": TimerStatus.TOUCHED, "updated_at_ms": T0 + 7}),
        park(None, ParkedRecord(topic="a", partition=0, offset=1, timestamp_ms=T0),
             "lead-2", T0, 5_000).state,
    ):  # fmt: skip
        assert entry is not None
        assert serde.standing(serde.encode(entry)) == Standing.of(entry)


def test_restore_decodes_only_the_timers_a_tick_acts_on() -> None:
    later = timer("b").model_copy(update={"deadline_ms": T0 + 60 * MINUTE, "notify_due_ms": ()})
    store = restored({"a": timer("a"), "b": later})
    decoded = counting_decodes(store)
    assert store.running_count(0) == 2
    assert [t.lead_id for t in store.waking(0, until_ms=T0 + 10 * MINUTE)] == ["a"]
    assert decoded == ["a"]


def test_a_restored_timer_reads_back_equal_to_what_was_written() -> None:
    written = timer("a")
    store = restored({"a": written})
    assert store.get(0, "a") == written
    assert dict(store.items(0)) == {"a": written}


def test_a_timer_rewritten_after_restore_replaces_its_restored_record() -> None:
    store = restored({"a": timer("a")})
    touched = timer("a").model_copy(update={"status": TimerStatus.TOUCHED, "updated_at_ms": T0})
    store.put(0, "a", touched)
    store.commit()
    assert store.get(0, "a") == touched
    assert store.running_count(0) == 0 and store.finished_before(0, T0 + 1) == ["a"]


def test_a_record_written_by_the_previous_schema_is_restored_with_its_standing() -> None:
    written = timer("a")
    store = TimerStore("sla.timers")
    store.adopt_records(0, {"a": previous_schema_record(written)})
    wakes_at = written.wakes_at()
    assert wakes_at is not None
    assert [t.lead_id for t in store.waking(0, until_ms=wakes_at - 1)] == []
    assert [t.lead_id for t in store.waking(0, until_ms=wakes_at)] == ["a"]
    assert store.get(0, "a") == written and store.running_count(0) == 1


def test_only_finished_entries_idle_before_the_cutoff_are_purge_candidates() -> None:
    finished = timer("b").model_copy(update={"status": TimerStatus.CLOSED, "updated_at_ms": T0})
    recent = finished.model_copy(update={"lead_id": "c", "updated_at_ms": T0 + 2 * MINUTE})
    store = restored({"a": timer("a"), "b": finished, "c": recent})
    decoded = counting_decodes(store)
    assert store.finished_before(0, T0 + MINUTE) == ["b"]
    assert decoded == []
