from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.leads.events import PresenceStatus, RepPresence
from services.router.presence import HISTORY_PER_REP, PresenceBook, PresenceLog

T0 = 1_763_978_400_000

changes = st.lists(
    st.builds(
        RepPresence,
        rep_id=st.sampled_from(["ann", "bob"]),
        status=st.sampled_from(list(PresenceStatus)),
        until_ms=st.one_of(st.none(), st.integers(T0, T0 + 60)),
        changed_at_ms=st.integers(T0 - 6, T0 + 6),  # narrow: many equal stamps
    ),
    max_size=2 * HISTORY_PER_REP + 8,
)


@settings(max_examples=150, deadline=None)
@given(changes=changes, data=st.data())
def test_the_live_book_and_the_replayed_log_agree_at_every_position_whatever_the_read_order(
    changes: list[RepPresence], data: st.DataObject
) -> None:
    read = data.draw(st.integers(0, len(changes)), label="records read")
    order = data.draw(st.permutations(changes[:read]), label="order they were read in")
    book = PresenceBook(order)
    view = PresenceLog((0, offset, c) for offset, c in enumerate(changes)).view((read,))
    for rep in ("ann", "bob"):
        for at in range(T0 - 8, T0 + 62, 2):
            assert book.status_at(rep, at) == view.status_at(rep, at), (rep, at)


def test_a_record_at_or_above_the_position_is_not_seen_however_early_its_stamp() -> None:
    away = RepPresence(rep_id="ann", status=PresenceStatus.AWAY, changed_at_ms=T0)
    offline = RepPresence(rep_id="ann", status=PresenceStatus.OFFLINE, changed_at_ms=T0 - 100)
    log = PresenceLog([(0, 0, away), (0, 1, None), (0, 2, offline)])  # None: a tombstone
    before_t0 = T0 - 50
    assert log.view((0,)).status_at("ann", before_t0) == (PresenceStatus.AVAILABLE, None)
    assert log.view((2,)).status_at("ann", before_t0) == (PresenceStatus.AVAILABLE, None)
    assert log.view((3,)).status_at("ann", before_t0) == (PresenceStatus.OFFLINE, None)
    assert log.view((3,)).status_at("ann", T0) == (PresenceStatus.AWAY, None)
