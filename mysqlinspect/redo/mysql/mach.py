"""MySQL's compressed integers in redo records (mach0data.ic): each parser returns (value, next position).

`Incomplete` is raised when the value runs past `end`: the record is not whole in the log (recovery's "not a
complete record", nullptr).
"""

from __future__ import annotations


class Incomplete(Exception):
    """The record runs past the end of the bytes available."""


def need(p: int, n: int, end: int) -> int:
    """Position after `n` bytes at `p`, or Incomplete."""
    if p + n > end:
        raise Incomplete
    return p + n


def read_2(buf: bytes, p: int, end: int) -> tuple[int, int]:
    q = need(p, 2, end)
    return (buf[p] << 8) | buf[p + 1], q


def mach_parse_compressed(buf: bytes, p: int, end: int) -> tuple[int, int]:
    """mach_parse_compressed(): a 32-bit value in 1..5 bytes (8.0 adds short forms of values near 2^32)."""
    b = buf[need(p, 1, end) - 1]
    if b < 0x80:
        return b, p + 1
    if b < 0xC0:
        q = need(p, 2, end)
        return int.from_bytes(buf[p:q], "big") & 0x3FFF, q
    if b < 0xE0:
        q = need(p, 3, end)
        return int.from_bytes(buf[p:q], "big") & 0x1FFFFF, q
    if b < 0xF0:
        q = need(p, 4, end)
        return int.from_bytes(buf[p:q], "big") & 0xFFFFFFF, q
    if b < 0xF8:
        q = need(p, 5, end)
        return int.from_bytes(buf[p + 1:q], "big"), q
    if b < 0xFC:
        q = need(p, 2, end)
        return (int.from_bytes(buf[p:q], "big") & 0x3FF) | 0xFFFFFC00, q
    if b < 0xFE:
        q = need(p, 3, end)
        return (int.from_bytes(buf[p:q], "big") & 0x1FFFF) | 0xFFFE0000, q
    q = need(p, 4, end)
    return int.from_bytes(buf[p + 1:q], "big") | 0xFF000000, q


def mach_u64_parse_compressed(buf: bytes, p: int, end: int) -> tuple[int, int]:
    """mach_u64_parse_compressed(): the high 32 bits compressed, then the low 32 bits as 4 bytes."""
    high, p = mach_parse_compressed(buf, p, end)
    q = need(p, 4, end)
    return (high << 32) | int.from_bytes(buf[p:q], "big"), q


def mach_parse_u64_much_compressed(buf: bytes, p: int, end: int) -> tuple[int, int]:
    """mach_parse_u64_much_compressed(): one compressed value, or 0xFF then high and low compressed."""
    if buf[need(p, 1, end) - 1] != 0xFF:
        return mach_parse_compressed(buf, p, end)
    high, p = mach_parse_compressed(buf, p + 1, end)
    low, p = mach_parse_compressed(buf, p, end)
    return (high << 32) | low, p
