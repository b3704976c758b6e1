"""The index description MySQL 8.0.30+ logs before a B-tree record (mlog_parse_index(), INDEX_LOG_VERSION 1).

Only its length matters here (B-tree pages are not rebuilt): version byte, flag byte, then for a compact or
versioned index the field count n, n_instant_cols (instant), n_uniq (compact), 2 bytes per field (compact), and
for a versioned index the fields with versions: count, then logical position, physical position (bit 15: a
version-added byte follows, bit 14: a version-dropped byte follows). Source: mtr/mtr0log.cc.
"""

from __future__ import annotations

from mysqlinspect.redo.mysql.mach import need, read_2

INDEX_LOG_VERSION_CURRENT = 1
COMPACT_FLAG, VERSION_FLAG, INSTANT_FLAG = 0x01, 0x02, 0x04


class UnsupportedIndexLog(Exception):
    """An index log version this parser does not know (the server stops on it too)."""


def skip_index(buf: bytes, p: int, end: int) -> int:
    """Position after the logged index description at `p`."""
    version = buf[need(p, 1, end) - 1]
    if version != INDEX_LOG_VERSION_CURRENT:
        raise UnsupportedIndexLog(f"index log version {version}")
    flag = buf[need(p + 1, 1, end) - 1]
    p += 2
    comp, versioned, instant = flag & COMPACT_FLAG, flag & VERSION_FLAG, flag & INSTANT_FLAG
    if not comp and not versioned:
        return p
    n, p = read_2(buf, p, end)
    if comp:
        if instant:
            p = need(p, 2, end)
        p = need(p, 2, end)  # n_uniq
        p = need(p, 2 * n, end)
    if versioned:
        p = _skip_versioned_fields(buf, p, end)
    return p


def _skip_versioned_fields(buf: bytes, p: int, end: int) -> int:
    count, p = read_2(buf, p, end)
    for _ in range(count):
        p = need(p, 2, end)  # logical position
        phy_pos, p = read_2(buf, p, end)
        if phy_pos & 0x8000:
            p = need(p, 1, end)
        if phy_pos & 0x4000:
            p = need(p, 1, end)
    return p
