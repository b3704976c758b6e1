"""MySQL 8.0.30+ record lengths, mini-transaction grouping and the page records of undo logs, on bytes written the
way the server's mlog_write_*/mach_write_compressed write them (the live tests read real logs)."""

from __future__ import annotations

from array import array

import pytest

from mysqlinspect.innodb.undo import layout as U
from mysqlinspect.redo import layout as L
from mysqlinspect.redo.mysql import records as R
from mysqlinspect.redo.mysql.apply import MysqlPageApplier
from mysqlinspect.redo.mysql.mach import Incomplete, mach_parse_compressed, mach_u64_parse_compressed
from mysqlinspect.redo.mysql.stream import LogStream
from mysqlinspect.redo.mysql.walk import walk_mysql_mtrs

UNDO_SPACE = 0xFFFFFFEF


def compressed(v: int) -> bytes:
    """mach_write_compressed() of MySQL 8.0 (with the short forms of values near 2^32)."""
    if v < 0x80:
        return bytes([v])
    if v < 0x4000:
        return (v | 0x8000).to_bytes(2, "big")
    if v < 0x200000:
        return (v | 0xC00000).to_bytes(3, "big")
    if v < 0x10000000:
        return (v | 0xE0000000).to_bytes(4, "big")
    if v >= 0xFF000000:
        if v >= 0xFFFFFC00:
            return ((v & 0x3FF) | 0xF800).to_bytes(2, "big")
        if v >= 0xFFFE0000:
            return ((v & 0x1FFFF) | 0xFC0000).to_bytes(3, "big")
        return b"\xfe" + (v & 0xFFFFFF).to_bytes(3, "big")
    return b"\xf0" + v.to_bytes(4, "big")


def u64_compressed(v: int) -> bytes:
    return compressed(v >> 32) + (v & 0xFFFFFFFF).to_bytes(4, "big")


def initial(kind: int, space: int, page: int, single: bool = False) -> bytes:
    return bytes([kind | (R.MLOG_SINGLE_REC_FLAG if single else 0)]) + compressed(space) + compressed(page)


@pytest.mark.parametrize("value", [0, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000, 0xFFFFFFF, 0x10000000,
                                   0xFEFFFFFF, 0xFF000000, 0xFFFE0000, 0xFFFFFC00, 0xFFFFFFEF, 0xFFFFFFFF])
def test_compressed_integers(value: int) -> None:
    data = compressed(value) + b"\x99"
    assert mach_parse_compressed(data, 0, len(data)) == (value, len(data) - 1)
    with pytest.raises(Incomplete):
        mach_parse_compressed(data, 0, len(data) - 2)
    big = (value << 32) | 0x12345678
    data = u64_compressed(big)
    assert mach_u64_parse_compressed(data, 0, len(data)) == (big, len(data))


def test_record_lengths() -> None:
    undo = b"\x0b" + bytes(20)
    records = [
        initial(R.MLOG_2BYTES, UNDO_SPACE, 7) + (40).to_bytes(2, "big") + compressed(0x1234),
        initial(R.MLOG_8BYTES, UNDO_SPACE, 7) + (64).to_bytes(2, "big") + u64_compressed(1 << 40),
        initial(R.MLOG_WRITE_STRING, UNDO_SPACE, 7) + (100).to_bytes(2, "big") + (3).to_bytes(2, "big") + b"abc",
        initial(R.MLOG_UNDO_INSERT, UNDO_SPACE, 7) + len(undo).to_bytes(2, "big") + undo,
        initial(R.MLOG_REC_INSERT, 5, 9) + b"\x01\x01" + (2).to_bytes(2, "big") + (2).to_bytes(2, "big")
        + b"\x80\x04\x00\x08" + (99).to_bytes(2, "big") + compressed(7) + b"\x00" + compressed(1) + compressed(2)
        + b"xyz",
        initial(R.MLOG_ZIP_PAGE_COMPRESS, 5, 9) + (3).to_bytes(2, "big") + (1).to_bytes(2, "big") + bytes(12),
        initial(R.MLOG_FILE_RENAME, 5, 0) + (2).to_bytes(2, "big") + b"a\0" + (3).to_bytes(2, "big") + b"bc\0",
        bytes([R.MLOG_TABLE_DYNAMIC_META]) + compressed(1064) + compressed(0) + bytes([R.PM_TABLE_AUTO_INC])
        + compressed(346),
        bytes([R.MLOG_MULTI_REC_END]),
    ]
    data = b"".join(records)
    pos = 0
    for raw in records:
        rec = R.parse_record(data, pos, len(data))
        assert rec.end - rec.start == len(raw), raw.hex()
        pos = rec.end
    with pytest.raises(Incomplete):
        R.parse_record(records[4], 0, len(records[4]) - 1)
    with pytest.raises(R.UnsupportedRecord):
        R.parse_record(initial(R.MLOG_TEST, 0, 0), 0, 3)


def _stream(payload: bytes, first_block_lsn: int, first_rec_group: int) -> LogStream:
    """Blocks of record bytes; first_rec_group of the first block as given, of the others where an mtr ends."""
    blocks = -(-len(payload) // L.BLOCK_DATA_SIZE)
    return LogStream(payload, first_block_lsn, array("H", [first_rec_group] + [0] * (blocks - 1)))


def test_walk_skips_records_before_the_checkpoint_and_stops_at_an_incomplete_mtr() -> None:
    before = initial(R.MLOG_1BYTE, UNDO_SPACE, 3, single=True) + (38).to_bytes(2, "big") + compressed(1)
    mtr = (initial(R.MLOG_UNDO_INIT, UNDO_SPACE, 3) + compressed(U.TRX_UNDO_UPDATE)
           + initial(R.MLOG_UNDO_HDR_CREATE, UNDO_SPACE, 3) + u64_compressed(0x1F00)
           + bytes([R.MLOG_MULTI_REC_END]))
    cut = initial(R.MLOG_4BYTES, UNDO_SPACE, 3) + (50).to_bytes(2, "big")
    block = 64 * L.BLOCK_SIZE
    stream = _stream(before + mtr + cut, block, L.BLOCK_HDR_SIZE)
    checkpoint = block + L.BLOCK_HDR_SIZE + len(before)
    seen: list[tuple[int, int, int]] = []
    walk = walk_mysql_mtrs(stream, checkpoint, lambda _data, rec, start, end: seen.append((rec.type, start, end)))
    assert walk.complete and walk.stop == "incomplete_mtr" and walk.mtrs == 2
    assert walk.parse_start_lsn == block + L.BLOCK_HDR_SIZE
    assert walk.recovered_lsn == checkpoint + len(mtr)
    assert [t for t, _, _ in seen] == [R.MLOG_UNDO_INIT, R.MLOG_UNDO_HDR_CREATE, R.MLOG_MULTI_REC_END]
    assert {end for _, _, end in seen} == {walk.recovered_lsn}


def test_undo_records_rebuild_the_page_when_they_are_newer_than_it() -> None:
    ps = 16384
    disk = bytearray(ps)
    disk[16:24] = (1000).to_bytes(8, "big")  # FIL_PAGE_LSN
    undo = b"\x0b\x01\x02\x03"
    mtr = (initial(R.MLOG_INIT_FILE_PAGE2, UNDO_SPACE, 9) + initial(R.MLOG_UNDO_INIT, UNDO_SPACE, 9)
           + compressed(U.TRX_UNDO_INSERT) + initial(R.MLOG_UNDO_HDR_CREATE, UNDO_SPACE, 9) + u64_compressed(77)
           + initial(R.MLOG_UNDO_INSERT, UNDO_SPACE, 9) + len(undo).to_bytes(2, "big") + undo
           + bytes([R.MLOG_MULTI_REC_END]))
    stream = _stream(mtr, 2 * L.BLOCK_SIZE, L.BLOCK_HDR_SIZE)
    applier = MysqlPageApplier(ps, lambda space: space == UNDO_SPACE, lambda s, p: bytes(disk))
    walk_mysql_mtrs(stream, 2 * L.BLOCK_SIZE + L.BLOCK_HDR_SIZE, applier.visit)
    page = applier.overlay.image(UNDO_SPACE, 9)
    assert page is not None
    first = U.TRX_UNDO_PAGE_HDR + U.TRX_UNDO_PAGE_HDR_SIZE
    header = first + U.TRX_UNDO_LOG_OLD_HDR_SIZE
    assert int.from_bytes(page[24:26], "big") == U.FIL_PAGE_UNDO_LOG
    assert int.from_bytes(page[first + U.TRX_UNDO_TRX_ID:first + 8], "big") == 77
    assert int.from_bytes(page[U.TRX_UNDO_PAGE_HDR + U.TRX_UNDO_PAGE_FREE:][:2], "big") == header + 4 + len(undo)
    assert page[header + 2:header + 2 + len(undo)] == undo

    newer = bytearray(disk)
    newer[16:24] = (1 << 40).to_bytes(8, "big")  # flushed after the log: nothing applies
    applier = MysqlPageApplier(ps, lambda space: True, lambda s, p: bytes(newer))
    walk_mysql_mtrs(stream, 2 * L.BLOCK_SIZE + L.BLOCK_HDR_SIZE, applier.visit)
    assert applier.overlay.image(UNDO_SPACE, 9) is None
