"""`clean`, which every field value passes through: what it blanks, keeps and cuts."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from services.ingest.contact import clean

MIXED = st.text(
    st.one_of(
        st.characters(),  # any code point, controls and surrogates included
        st.sampled_from("\n\t\r\x00\x7f\u200b\u2028\u00a0\u3000 aé"),
    ),
    max_size=40,
)


def blanked(value: str) -> str | None:
    """The contract, one character at a time: every Unicode "Other" (C*) character except
    newline and tab becomes a space; then trimmed, None when blank, cut to 500."""
    text = "".join(
        " " if unicodedata.category(ch).startswith("C") and ch not in "\n\t" else ch for ch in value
    ).strip()
    return text[:500] or None


@given(MIXED)
def test_clean_blanks_other_characters_and_keeps_the_rest(value: str) -> None:
    assert clean(value) == blanked(value)


def test_clean_keeps_newlines_tabs_and_non_ascii_spaces_inside_the_text() -> None:
    assert clean(" a\tb\nc\u00a0d\u2028e ") == "a\tb\nc\u00a0d\u2028e"
    assert clean("a\x00b\u200bc\x7fd") == "a b c d"
    assert clean("\x00\u200b \n") is None
    assert clean("x" * 600, limit=3) == "xxx"
