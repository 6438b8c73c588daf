"""The long-hand Avro binary primitives the generated readers and writers call when a value
does not fit the one-byte case they inline: zigzag varints of any length, lengths of 64 bytes
or more, and the checks that name malformed bytes (ValueError).
"""

from __future__ import annotations


def write_long(value: int, out: bytearray) -> None:
    n = (value << 1) ^ (value >> 63)  # zigzag
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def read_long(data: bytes, pos: int) -> tuple[int, int]:
    byte = data[pos]
    n, shift = byte & 0x7F, 7
    pos += 1
    while byte & 0x80:
        if shift > 63:
            raise ValueError("a varint longer than 64 bits")
        byte = data[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        shift += 7
    return (n >> 1) ^ -(n & 1), pos


def read_block_count(data: bytes, pos: int) -> tuple[int, int]:
    """An array's or map's block item count; a negative count is followed by the block's size
    in bytes."""
    count, pos = read_long(data, pos)
    if count < 0:
        _, pos = read_long(data, pos)
        count = -count
    return count, pos


def read_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    size, pos = read_long(data, pos)
    end = pos + size
    if size < 0 or end > len(data):
        raise ValueError(f"a length of {size} bytes runs past the end of the record")
    return data[pos:end], end


def read_string(data: bytes, pos: int) -> tuple[str, int]:
    raw, pos = read_bytes(data, pos)
    return raw.decode(), pos
