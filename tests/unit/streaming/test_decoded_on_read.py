"""DecodedOnRead: a global table's values kept as bytes and decoded on first lookup, once."""

from __future__ import annotations

import pytest

from services.streaming.errors import DecodeError
from services.streaming.tables import DecodedOnRead


def counting_decoder() -> tuple[DecodedOnRead[str], list[bytes]]:
    decoded: list[bytes] = []

    def decode(value: bytes) -> str:
        decoded.append(value)
        if value == b"garbage":
            raise DecodeError("not a value")
        return value.decode().upper()

    return DecodedOnRead(decode), decoded


def test_values_are_decoded_when_looked_up_and_only_once() -> None:
    values, decoded = counting_decoder()
    values.put("a", b"one")
    values.put("b", b"two")
    assert decoded == []  # written, not read: nothing decoded
    assert values.get("a") == "ONE" and values["a"] == "ONE"
    assert decoded == [b"one"]
    assert sorted(values) == ["a", "b"] and len(values) == 2 and "b" in values


def test_a_new_value_replaces_the_decoded_one_and_a_tombstone_removes_it() -> None:
    values, _ = counting_decoder()
    values.put("a", b"one")
    assert values.get("a") == "ONE"
    values.put("a", b"uno")
    assert values.get("a") == "UNO"
    values.put("a", None)
    assert values.get("a") is None and "a" not in values
    with pytest.raises(KeyError):
        values["a"]


def test_a_value_that_does_not_decode_fails_the_lookup_not_the_refresh() -> None:
    values, _ = counting_decoder()
    values.put("bad", b"garbage")
    assert "bad" in values
    with pytest.raises(DecodeError):
        values.get("bad")
