"""Offline undo and recovery pieces that need no server: compressed integers, XIDs, XA texts, binlog file scans
(complete, partly written and torn tails), and bad input to `undo PATH` / `recovery DATADIR`."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.binlog.source.file_scan import XaKey, parse_xa_ids, scan_binlog_file
from mysqlinspect.innodb.undo.structs import Xid, read_compressed, read_much_compressed
from mysqlinspect.redo.mariadb.apply import (
    EXTENDED,
    INIT_PAGE,
    MEMMOVE,
    MEMSET,
    UNDO_APPEND,
    UNDO_INIT,
    WRITE,
    PageApplier,
)
from tests.unit import recovery_files as F


@pytest.mark.parametrize(("raw", "value", "size"), [
    (b"\x05", 5, 1), (b"\x81\x02", 0x102, 2), (b"\xc1\x02\x03", 0x10203, 3), (b"\xe1\x02\x03\x04", 0x1020304, 4),
    (b"\xf0\x12\x34\x56\x78", 0x12345678, 5),
])
def test_compressed_integers(raw: bytes, value: int, size: int) -> None:
    assert read_compressed(raw, 0) == (value, size)


def test_much_compressed_64_bit() -> None:
    assert read_much_compressed(b"\xff\x01\x05", 0) == ((1 << 32) | 5, 3)
    assert read_much_compressed(b"\x7f", 0) == (127, 1)


def _xid_page(fmt: int, gtrid: bytes, bqual: bytes) -> bytes:
    page = bytearray(300)
    struct.pack_into(">iII", page, 100 + 46, fmt, len(gtrid), len(bqual))
    page[100 + 58:100 + 58 + len(gtrid) + len(bqual)] = gtrid + bqual
    return bytes(page)


def test_internal_and_external_xids() -> None:
    internal = Xid.from_page(_xid_page(1, b"MySQLXid" + (900).to_bytes(8, "little") + (213).to_bytes(8, "little"),
                                       b""), 100)
    assert internal is not None and internal.my_xid == 213 and not internal.external
    short = Xid.from_page(_xid_page(1, b"MySQLXid" + (1).to_bytes(4, "little") + (7).to_bytes(8, "little"), b""), 100)
    assert short is not None and short.my_xid == 7
    external = Xid.from_page(_xid_page(7, b"xa1", b"bq1"), 100)
    assert external is not None and external.external and external.text() == "X'786131',X'627131',7"
    assert Xid.from_page(_xid_page(-1, b"", b""), 100) is None
    assert Xid.from_page(_xid_page(0, b"", b""), 100) is None  # MySQL's flag with an empty XID


def test_xa_texts_as_servers_log_them() -> None:
    assert parse_xa_ids("X'786131',X'627131',7") == XaKey(7, b"xa1", b"bq1")
    assert parse_xa_ids("'xa1','bq1',7") == XaKey(7, b"xa1", b"bq1")
    assert parse_xa_ids("'only'") == XaKey(1, b"only", b"")


def test_binlog_scan_complete_partial_and_torn(tmp_path: Path) -> None:
    head = b"\xfebin" + F.fde("9.7.4", in_use=True) + F.transaction(10) + F.transaction(11)
    xa = F.xa_prepare(7, b"a", b"b")
    commit = F.xa_finish("COMMIT", 7, b"a", b"b")
    whole = head + xa + commit
    path = tmp_path / "binlog.000001"
    path.write_bytes(whole)
    scan = scan_binlog_file(path)
    assert (scan.xids, scan.in_use, scan.stop_reason) == ([10, 11], True, "end_of_file")
    assert scan.last_complete_end == len(whole) and scan.partial_bytes == 0
    assert scan.xa_prepared == [(XaKey(7, b"a", b"b"), False)]
    assert scan.xa_completed == [(XaKey(7, b"a", b"b"), "commit")]
    assert scan.xa_events == [(XaKey(7, b"a", b"b"), "prepared"), (XaKey(7, b"a", b"b"), "commit")]

    open_trx = F.gtid() + F.query("BEGIN")
    path.write_bytes(whole + open_trx + F.transaction(12)[:30])
    scan = scan_binlog_file(path)
    assert scan.stop_reason == "partial_event" and scan.last_complete_end == len(whole)
    assert scan.valid_end == len(whole + open_trx) and scan.xids == [10, 11]

    torn = bytearray(whole)
    torn[-6] ^= 0xFF  # inside the XA COMMIT query: its CRC no longer matches
    path.write_bytes(bytes(torn))
    scan = scan_binlog_file(path)
    assert scan.stop_reason == "checksum_mismatch" and scan.last_complete_end == len(head + xa)


def test_bad_input_exit_codes(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    assert run_cli("undo", str(tmp_path / "missing")).exit_code == 66
    assert run_cli("recovery", str(tmp_path / "missing")).exit_code == 66
    not_a_tablespace = tmp_path / "ibdata1"
    not_a_tablespace.write_bytes(b"\0" * 65536)
    result = run_cli("undo", str(not_a_tablespace))
    assert result.exit_code == 65 and result.stderr.startswith("mysqlinspect: error:")
    assert run_cli("recovery", str(not_a_tablespace)).exit_code == 66
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("undo", str(empty)).exit_code == 66
    result = run_cli("recovery", str(empty), "--format", "json")
    assert result.exit_code == 65
    assert any("redo" in f for f in result.json()["failures"])


def _rec(kind: int, payload: bytes, page: tuple[int, int] | None) -> bytes:
    """One MariaDB 10.8+ page record: page id unless same-page, nibble or varint length (redo-formats.md §8.3)."""
    body = (bytes([page[0], page[1]]) if page else b"") + payload  # ids < 128: one-byte varints
    first = kind | (0 if page else 0x80)
    if len(body) <= 15:
        return bytes([first | len(body)]) + body
    return bytes([first, len(body) - 14]) + body


def test_mariadb_redo_builds_an_undo_page() -> None:
    applier = PageApplier(4096, lambda space: space == 0, lambda space, page: None)
    records = [
        _rec(INIT_PAGE, b"", (0, 9)),
        _rec(EXTENDED, bytes([UNDO_INIT]), None),  # offsets restart at FIL_PAGE_TYPE (24)
        _rec(WRITE, bytes([42 - 24]) + (86).to_bytes(2, "big"), None),  # TRX_UNDO_PAGE_FREE = 86
        _rec(EXTENDED, bytes([UNDO_APPEND]) + b"undo-record-one", None),
        _rec(MEMSET, bytes([56 - 24, 2]) + b"\x01", None),  # TRX_UNDO_STATE = 0x0101
        _rec(MEMMOVE, bytes([0, 2, 3]), None),  # 58..60 <- 56..58 (source 1 byte + 1 before)
    ]
    offsets, p = [], 0
    for r in records:
        offsets.append(p)
        p += len(r)
    applier.mtr(b"".join(records), offsets, end_lsn=100)
    page = applier.overlay.image(0, 9)
    assert page is not None and len(page) == 4096
    assert int.from_bytes(page[4:8], "big") == 9 and int.from_bytes(page[24:26], "big") == 2  # an undo log page
    free = int.from_bytes(page[42:44], "big")
    assert free == 86 + 4 + len(b"undo-record-one")
    assert int.from_bytes(page[86:88], "big") == free and page[88:103] == b"undo-record-one"
    assert int.from_bytes(page[free - 2:free], "big") == 86
    assert page[56:60] == b"\x01\x01\x01\x01"
    assert applier.overlay.pages_rebuilt == 1 and applier.overlay.records_applied == 5
    assert applier.overlay.touched == {(0, 9)} and applier.overlay.read_by_recovery == set()  # built, not read


def test_redo_older_than_the_page_is_not_applied() -> None:
    disk = bytearray(4096)
    disk[16:24] = (500).to_bytes(8, "big")  # FIL_PAGE_LSN on disk
    applier = PageApplier(4096, lambda space: True, lambda space, page: bytes(disk))
    record = _rec(WRITE, bytes([100 - 0]) + b"new", (0, 7))
    applier.mtr(record, [0], end_lsn=400)
    assert applier.overlay.image(0, 7) is None  # the page on disk is newer: nothing applied
    applier.mtr(record, [0], end_lsn=600)
    page = applier.overlay.image(0, 7)
    assert page is not None and page[100:103] == b"new"
    assert applier.overlay.read_by_recovery == {(0, 7)}  # recovery reads it (and stops if it is damaged)


def test_settings_story_from_defaults_file_and_persisted_variables(tmp_path: Path) -> None:
    from mysqlinspect.recovery.settings import read_durability_settings

    cnf = tmp_path / "my.cnf"
    cnf.write_text("[client]\nsync_binlog=9\n[mysqld]\ninnodb_flush_log_at_trx_commit = 2\n[mariadb]\nsync-binlog=0\n")
    settings = read_durability_settings(tmp_path, str(cnf), binlog_on=True)
    assert settings.to_dict()["innodb_flush_log_at_trx_commit"] == "2" and settings.values["sync-binlog"] == "0"
    story = "\n".join(settings.story)  # the live durability report's rules, applied to the recorded settings
    assert "mysqld crash (the OS keeps running): no committed transaction is lost" in settings.story[0]
    assert "OS crash or power loss: up to ~1s of committed transactions" in story
    assert "the binary log can lose its last transactions: whatever the OS had not written (no bound)" in story
    (tmp_path / "mysqld-auto.cnf").write_text(
        '{"Version": 2, "mysql_server": {"sync_binlog": {"Value": "1", "Metadata": {}}}}')
    persisted = read_durability_settings(tmp_path, None, binlog_on=True)
    assert persisted.values == {"sync-binlog": "1"} and "SET PERSIST" in persisted.sources["sync-binlog"]
    assert "not recorded" in persisted.story[0]


def test_settings_story_takes_mariadb_flush_3_for_durable(tmp_path: Path) -> None:
    """MariaDB's innodb_flush_log_at_trx_commit=3 flushes the redo at commit like 1 (the live durability report
    counts it durable too); the offline story must not say a server crash can lose commits."""
    from mysqlinspect.recovery.settings import read_durability_settings

    cnf = tmp_path / "my.cnf"
    cnf.write_text("[mariadb]\ninnodb_flush_log_at_trx_commit=3\n")
    story = read_durability_settings(tmp_path, str(cnf), binlog_on=False).story
    assert "no committed transaction is lost" in story[0]
    assert not any("up to ~" in line or "can lose" in line for line in story), story
