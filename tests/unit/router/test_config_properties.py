"""Properties of config validation over generated documents."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from services.leads.config_errors import ConfigInvalid
from services.leads.durations import parse_duration_ms
from services.leads.routing_config import parse_routing_config
from tests.unit.router.config_builders import make_doc, make_pool

POOLS = ["a", "b", "c", "d", "e"]
FALLBACKS = st.lists(st.sampled_from([None, *POOLS]), min_size=5, max_size=5)


def has_cycle(fallback: dict[str, str | None]) -> bool:
    for start in fallback:
        seen, current = set(), start
        while current is not None and current not in seen:
            seen.add(current)
            current = fallback[current]
        if current is not None:
            return True
    return False


@settings(deadline=None)  # shared 2-core machine: no timing in tests
@given(targets=FALLBACKS)
def test_a_config_is_accepted_exactly_when_its_fallbacks_form_no_cycle(
    targets: list[str | None],
) -> None:
    fallback = dict(zip(POOLS, targets, strict=True))
    doc = make_doc(
        pools=[make_pool(p, fallback=f) if f else make_pool(p) for p, f in fallback.items()],
        default_pool="a",
    )
    try:
        config = parse_routing_config(doc)
    except ConfigInvalid as refused:
        assert has_cycle(fallback)
        assert all(p.path[-1] == "fallback" for p in refused.problems)
    else:
        assert not has_cycle(fallback)
        for pool in POOLS:  # every chain ends, and follows the fallbacks
            chain = config.fallback_chain(pool)
            assert len(chain) == len(set(chain))
            assert all(fallback[x] == y for x, y in pairwise(chain))


@given(
    parts=st.lists(
        st.tuples(st.integers(0, 999), st.sampled_from(["ms", "s", "m", "h", "d", "w"])),
        min_size=1,
        max_size=4,
    )
)
def test_durations_add_up_their_parts(parts: list[tuple[int, str]]) -> None:
    unit_ms = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
    unit_ms["w"] = 7 * unit_ms["d"]
    text = "".join(f"{n}{u}" for n, u in parts)
    assert parse_duration_ms(text) == sum(n * unit_ms[u] for n, u in parts)
