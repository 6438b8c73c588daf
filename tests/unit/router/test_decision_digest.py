"""The router's decisions, byte for byte, against the digest committed before issue 11's work.

`decision_digest` runs a fixed stream of leads through the real triage and assign handlers and
hashes every output and state record. A mismatch means some record changed: a decision, a
trace, a header, a state value. If the change is a speed-up, it is a bug in the speed-up.

If a change is *meant* to alter decisions (a new tie-break, a new trace field), regenerate the
fixture and say in the commit what changed and why:

    python -m tests.unit.router.decision_digest --write
"""

from __future__ import annotations

import pytest

from services.streaming.records import OutputRecord
from tests.unit.router.decision_digest import LEADS, QUICK, Digest, Run, recorded


def test_the_first_1500_leads_decide_exactly_as_the_committed_digest() -> None:
    assert Run().run((QUICK,)) == {QUICK: recorded()[QUICK]}


@pytest.mark.slow
def test_the_whole_10000_lead_run_decides_exactly_as_the_committed_digest() -> None:
    assert Run().run() == recorded()


def digest_of(*records: OutputRecord) -> str:
    digest = Digest()
    for record in records:
        digest.add(record)
    return digest.hexdigest()


@pytest.mark.parametrize(
    "changed",
    [
        OutputRecord("leads.assignments", b"lead-1", b"trace", (("ce_id", b"a"),), partition=1),
        OutputRecord("leads.assignmentz", b"lead-1", b"trace", (("ce_id", b"a"),)),
        OutputRecord("leads.assignments", b"lead-2", b"trace", (("ce_id", b"a"),)),
        OutputRecord("leads.assignments", b"lead-1", b"tracE", (("ce_id", b"a"),)),
        OutputRecord("leads.assignments", b"lead-1", b"trace", (("ce_id", b"b"),)),
        OutputRecord("leads.assignments", b"lead-1", b"trace", (("ce_iD", b"a"),)),
        OutputRecord("leads.assignments", b"lead-1", b"trace", ()),
        OutputRecord("leads.assignments", b"lead-1", None, (("ce_id", b"a"),)),
        OutputRecord("leads.assignments", b"lead-1t", b"race", (("ce_id", b"a"),)),
    ],
)
def test_the_digest_changes_with_any_field_of_a_record(changed: OutputRecord) -> None:
    original = OutputRecord("leads.assignments", b"lead-1", b"trace", (("ce_id", b"a"),))
    assert digest_of(changed) != digest_of(original)


def test_the_digest_changes_with_the_order_of_records() -> None:
    first = OutputRecord("router.rotation", b"pool-a", b"1", partition=0)
    second = OutputRecord("router.rotation", b"pool-b", b"2", partition=0)
    assert digest_of(first, second) != digest_of(second, first)


def test_the_fixture_covers_the_whole_run() -> None:
    assert set(recorded()) == {QUICK, LEADS}
