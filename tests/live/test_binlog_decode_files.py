"""Our own event source and decoder over the shared servers' binlog files, against mysql-replication (the
reference, fed by the server) and the servers' own mysqlbinlog/mariadb-binlog: every value of every event."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import shutil
import subprocess
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
import zstandard

from mysqlinspect.binlog.decode.events import EventDecoder
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.source.local import LocalBinlogSource
from mysqlinspect.binlog.source.rawdump import RawDump
from mysqlinspect.errors import DataError, InputNotFoundError
from mysqlinspect.exit_codes import ExitCode
from tests.live import decode_support
from tests.live.decode_support import (
    TYPES_TABLE,
    WIDE_ROWS,
    assert_same,
    binlog_path,
    comparable,
    decode_files,
    flush,
    library_records,
    prepare,
    write_library_unreadable,
    write_types_rows,
)
from tests.servers import start_replica, wait_for

pytestmark = pytest.mark.live


@pytest.fixture
def workload_file(server: Any, db: str) -> Path:
    """A closed binlog file holding only the every-type workload (written into `db`)."""
    return decode_support.workload_file(server, db)


def test_own_decoder_matches_the_library_on_every_event(server: Any, workload_file: Path) -> None:
    ours, source = decode_files([workload_file])
    library = library_records(server, workload_file.name)
    mine, theirs = comparable(ours), comparable(library, library=True)
    assert len(mine) > 300
    assert sum(len(r[-1]) for r in mine) > 120  # rows compared
    assert_same(mine, theirs)
    assert [e.complete for e in source.ends] == [True]
    assert source.ends[0].last_event == "rotate" and source.ends[0].closed
    if server.flavor == "mysql":
        assert any(r.compressed and r.rows for r in ours)  # TRANSACTION_PAYLOAD decoded
        assert any(r.event_type == "TaggedGtidEvent" and ":decoder_tag:" in (r.gtid or "") for r in ours)
    else:
        assert any(r.event_type == "MariadbGtidEvent" and r.gtid for r in ours)
        assert any(r.event_type == "MariadbAnnotateRowsEvent" and r.query for r in ours)


def test_types_the_library_cannot_read(server: Any, db: str) -> None:
    """Big-endian wide charsets (utf16, ucs2, utf32, and utf16le) and MySQL 9 VECTOR: the values written."""
    conn = server.connect(db)
    try:
        prepare(conn, db, server.flavor)
        first = flush(conn)
        write_library_unreadable(conn, server.flavor)
        flush(conn)
    finally:
        conn.close()
    ours, _ = decode_files([binlog_path(server, first[0])])
    wide = [row.after for r in ours if r.table == "t_wide" for row in r.rows]
    assert wide == [dict(zip(("id", "cu16", "cucs", "cu32", "cle"), values, strict=True)) for values in WIDE_ROWS]
    if server.flavor == "mysql":
        vectors = [row.after for r in ours if r.table == "t_vec" for row in r.rows]
        assert vectors == [{"id": 1, "v": [1.5, -2.0, 0.1], "w": None},
                           {"id": 2, "v": [3.25e10, -0.0015, 0.0], "w": [7.0, 8.0]}]
        columns = next(r.rows[0].columns for r in ours if r.table == "t_vec" and r.rows)
        assert [c.type_name for c in columns] == ["int", "vector", "vector"]


def test_compressed_copies_read_the_same(server: Any, workload_file: Path, tmp_path: Path) -> None:
    plain, _ = decode_files([workload_file])
    gz = tmp_path / (workload_file.name + ".gz")
    gz.write_bytes(gzip.compress(workload_file.read_bytes()))
    zst = tmp_path / (workload_file.name + ".zst")
    zst.write_bytes(zstandard.ZstdCompressor().compress(workload_file.read_bytes()))
    for copy in (gz, zst):
        records, source = decode_files([copy])
        assert comparable(records) == comparable(plain)
        assert records[0].file == workload_file.name and source.ends[0].complete


def _mysqlbinlog_output(server: Any, path: Path) -> str:
    tool = "mariadb-binlog" if server.flavor == "mariadb" else "mysqlbinlog"
    argv = [tool] if server.flavor == "mariadb" else server.program(tool)
    return subprocess.run([*argv, "--base64-output=decode-rows", "-vv", str(path)], capture_output=True, text=True,
                          errors="replace", check=True).stdout


def test_positions_match_mysqlbinlog(server: Any, workload_file: Path) -> None:
    """Every event start mysqlbinlog prints (`# at N`) is one of ours, in order. Events inside a
    TRANSACTION_PAYLOAD print at the payload's end position with end_log_pos equal to it."""
    printed = _mysqlbinlog_output(server, workload_file)
    starts = sorted({int(n) for n in re.findall(r"^# at (\d+)$", printed, re.M)})
    source = LocalBinlogSource([workload_file])
    raw = [(e.start_pos, e.end_pos) for e in source]
    assert [start for start, _ in raw] == starts
    assert raw[-1][1] == workload_file.stat().st_size
    if server.flavor == "mysql":
        inner = re.findall(r"^# at (\d+)\n#\d{6} +[\d:]+ server id \d+ +end_log_pos \1 ", printed, re.M)
        records, _ = decode_files([workload_file])
        assert len(inner) == sum(1 for r in records if r.compressed) > 0


def _transaction_starts(path: Path) -> list[int]:
    records, _ = decode_files([path])
    return [r.start_pos for r in records if r.op == "gtid"]


def test_truncated_copy_ends_at_the_last_complete_transaction(workload_file: Path, tmp_path: Path) -> None:
    data = workload_file.read_bytes()
    starts = _transaction_starts(workload_file)
    records, _ = decode_files([workload_file])
    rows_events = [r for r in records if r.rows and not r.compressed and r.start_pos > starts[len(starts) // 2]]
    cut_in = rows_events[0]  # cut in the middle of a rows event of a transaction
    txn_start = max(s for s in starts if s < cut_in.start_pos)
    cut = tmp_path / workload_file.name
    cut.write_bytes(data[: (cut_in.start_pos + cut_in.end_pos) // 2])
    got, source = decode_files([cut])
    end = source.ends[0]
    assert end.valid_end == txn_start and not end.complete
    assert "partial event" in end.stop_reason and end.trailing_events >= 1
    assert f"valid data ends at {txn_start}" in end.describe()
    assert max(r.end_pos for r in got) == txn_start
    assert comparable(got) == comparable([r for r in records if r.end_pos <= txn_start])
    # cut right after the rows event: complete events, but the transaction has no commit
    cut.write_bytes(data[: cut_in.end_pos])
    _, source = decode_files([cut])
    assert source.ends[0].valid_end == txn_start
    assert source.ends[0].stop_reason == "an uncommitted transaction at the end of the file"


def test_flipped_byte_is_a_data_error_naming_file_and_position(workload_file: Path, tmp_path: Path) -> None:
    records, _ = decode_files([workload_file])
    target = next(r for r in records if r.rows and not r.compressed and r.end_pos - r.start_pos > 60)
    data = bytearray(workload_file.read_bytes())
    data[target.start_pos + 40] ^= 0x01
    bad = tmp_path / workload_file.name
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError) as info:
        decode_files([bad])
    assert info.value.exit_code == ExitCode.DATA_ERROR == 65
    assert f"{workload_file.name}: event at position {target.start_pos}" in str(info.value)
    assert "CRC32" in str(info.value)
    _, source = decode_files([bad], verify=False)  # --no-verify-checksum reads on
    assert source.ends[0].complete


def test_directory_order_by_index_or_sequence(server: Any, db: str, tmp_path: Path) -> None:
    conn = server.connect(db)
    try:
        prepare(conn, db, server.flavor)
        first = flush(conn)
        names = [first[0]]
        for i in range(3):
            write_types_rows(conn, "t_types", seed=20 + i, rows=2, first_id=10 * i)
            names.append(flush(conn)[0])
    finally:
        conn.close()
    names = names[:-1]
    for name in names:
        shutil.copy(binlog_path(server, name), tmp_path / name)
    expected, _ = decode_files([tmp_path / n for n in names])
    numbered, _ = decode_files([tmp_path])
    assert comparable(numbered) == comparable(expected) and {r.file for r in numbered} == set(names)
    (tmp_path / "binlog.index").write_text("".join(f"./{n}\n" for n in reversed(names[1:])))
    indexed, source = decode_files([tmp_path])
    assert [Path(p).name for p in source.files] == list(reversed(names[1:]))
    assert indexed[0].file == names[-1]
    (tmp_path / "binlog.index").write_text(f"./{names[0]}\n/elsewhere/binlog.999999\n")
    with pytest.raises(InputNotFoundError, match=r"binlog\.999999"):
        decode_files([tmp_path])


def test_encrypted_binlogs_are_refused(workload_file: Path, tmp_path: Path) -> None:
    data = workload_file.read_bytes()
    mysql_encrypted = tmp_path / "binlog.000001"
    mysql_encrypted.write_bytes(b"\xfdbin" + data[4:512])
    with pytest.raises(DataError, match="encrypted MySQL binlog"):
        decode_files([mysql_encrypted])
    fde_end = 4 + int.from_bytes(data[4 + 9 : 4 + 13], "little")
    body = bytes([1]) + (7).to_bytes(4, "little") + bytes(12)
    header = (0).to_bytes(4, "little") + bytes([164]) + (1).to_bytes(4, "little")
    size = 19 + len(body) + 4
    event = header + size.to_bytes(4, "little") + (fde_end + size).to_bytes(4, "little") + (0).to_bytes(2, "little")
    event += body
    event += zlib.crc32(event).to_bytes(4, "little")
    mariadb_encrypted = tmp_path / "binlog.000002"
    mariadb_encrypted.write_bytes(data[:fde_end] + event + b"\x55" * 200)
    with pytest.raises(DataError, match="encrypted MariaDB binlog"):
        decode_files([mariadb_encrypted])


def _with_globals(server: Any, settings: dict[str, str], work: Any) -> None:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            saved = {}
            for name, value in settings.items():
                cur.execute(f"SELECT @@global.{name}")
                saved[name] = cur.fetchone()[0]
                cur.execute(f"SET GLOBAL {name} = %s", (int(value) if value.isdigit() else value,))
        try:
            work()
        finally:
            with conn.cursor() as cur:
                for name, value in saved.items():
                    cur.execute(f"SET GLOBAL {name} = %s", (value,))
    finally:
        conn.close()


def _logged_file(server: Any, db: str, statements: Any) -> Path:
    conn = server.connect(db)
    try:
        first = flush(conn)
        statements(conn)
        flush(conn)
    finally:
        conn.close()
    return binlog_path(server, first[0])


def _rows(records: list[Any], table: str) -> list[tuple[Any, ...]]:
    return [(c.op, c.before, c.after) for r in records if r.table == table for c in r.rows]


def test_compressed_events_decode_like_plain_ones(server: Any, db: str) -> None:
    """MariaDB log_bin_compress=ON: QUERY_COMPRESSED and ROWS_COMPRESSED events (zlib); MySQL
    binlog_transaction_compression=ON: TRANSACTION_PAYLOAD (zstd). The same rows as uncompressed."""
    mariadb = server.flavor == "mariadb"
    conn = server.connect(db)
    try:
        prepare(conn, db, server.flavor)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE t_zip LIKE t_types")
    finally:
        conn.close()
    plain = _logged_file(server, db, lambda c: write_types_rows(c, "t_types", seed=9))
    ddl = "CREATE TABLE t_zip2 (id INT PRIMARY KEY) COMMENT 'a statement in a QUERY_COMPRESSED event'"

    def zipped_statements(conn: Any) -> None:
        if not mariadb:
            with conn.cursor() as cur:
                cur.execute("SET SESSION binlog_transaction_compression = ON")
        write_types_rows(conn, "t_zip", seed=9)
        with conn.cursor() as cur:
            cur.execute(ddl)

    zipped: list[Path] = []
    settings = {"log_bin_compress": "ON", "log_bin_compress_min_len": "10"} if mariadb else {}
    _with_globals(server, settings, lambda: zipped.append(_logged_file(server, db, zipped_statements)))
    plain_records, _ = decode_files([plain])
    zipped_records, _ = decode_files([zipped[0]])
    raw_types = {e.type_code for e in LocalBinlogSource([zipped[0]])}
    assert ({165, 166, 167, 168} if mariadb else {40}) <= raw_types
    assert _rows(zipped_records, "t_zip") == _rows(plain_records, "t_types") != []
    assert [r.query for r in zipped_records if r.op == "ddl"] == [ddl]


def test_old_temporal_types_and_missing_metadata(server: Any, db: str) -> None:
    """MariaDB's pre-5.6 TIME/DATETIME/TIMESTAMP (mysql56_temporal_format=OFF), and a binlog without column
    names (binlog_row_metadata=MINIMAL): columns @1..@n, one warning. Checked against the values written:
    mysql-replication gets these wrong (it ignores SIGNEDNESS without column names, reads old negative TIMEs as
    unsigned, and stops on non-UTF-8 text without FULL metadata)."""
    settings = {"binlog_row_metadata": "MINIMAL"}
    if server.flavor == "mariadb":
        settings["mysql56_temporal_format"] = "OFF"

    def statements(conn: Any) -> None:
        with conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            cur.execute("CREATE TABLE t_old (id INT UNSIGNED PRIMARY KEY, t TIME, dt DATETIME, ts TIMESTAMP NULL, "
                        "u BIGINT UNSIGNED, c VARCHAR(10) CHARACTER SET utf8mb4)")
            cur.execute("INSERT INTO t_old VALUES (1, '-838:59:59', '9999-12-31 23:59:59', '2038-01-19 03:14:07', "
                        "18446744073709551615, 'é'), (2, '12:00:01', '1000-01-01 00:00:00', NULL, 0, '')")
            cur.execute("UPDATE t_old SET t = '-00:00:01' WHERE id = 2")

    files: list[Path] = []
    _with_globals(server, settings, lambda: files.append(_logged_file(server, db, statements)))
    warnings: list[str] = []
    source = LocalBinlogSource(files)
    decoder = EventDecoder(warn=warnings.append)
    ours = [rec for raw in source for rec in decoder.decode(raw)]
    rows = _rows(ours, "t_old")
    assert rows[0][2] == {"@1": 1, "@2": -dt.timedelta(hours=838, minutes=59, seconds=59),
                          "@3": dt.datetime(9999, 12, 31, 23, 59, 59),
                          "@4": dt.datetime(2038, 1, 19, 3, 14, 7, tzinfo=dt.UTC), "@5": 2**64 - 1, "@6": "é"}
    assert rows[2][2]["@2"] == -dt.timedelta(seconds=1)
    assert warnings == [f"{db}.t_old: the binlog has no column names (binlog_row_metadata is not FULL); columns "
                        "of this and any other such table are shown as @1..@n"]
    if server.flavor == "mariadb":
        tmap = next(t for t in decoder.tables.values() if t.table == "t_old")
        assert [c.type for c in tmap.columns[1:4]] == [11, 12, 7]  # the old formats


PARTIAL_UPDATES = (
    "UPDATE pj SET j = JSON_SET(j, '$.a', 2, '$.c.d', 'y', '$.new', 'z', '$.\"k e\"', 'q'), n = 6",
    "UPDATE pj SET j = JSON_REMOVE(j, '$.b[1]'), k = JSON_ARRAY_INSERT(k, '$[0]', 0)",
    "UPDATE pj SET j = JSON_REPLACE(j, '$.long', 'bb', '$.c', JSON_OBJECT('e', JSON_ARRAY(1, 2.5, NULL)))",
    "UPDATE pj SET j = JSON_SET(j, '$.b[5]', 9), k = JSON_SET(k, '$[1]', 'one')",
)


def test_partial_json_updates_give_the_whole_document(server: Any, db: str) -> None:
    """MySQL binlog_row_value_options=PARTIAL_JSON: every diff of every vector applied to the before image
    gives the document the server holds afterwards (MariaDB logs whole documents: the same check)."""
    mysql = server.flavor == "mysql"
    expected: list[Any] = []

    def statements(conn: Any) -> None:
        with conn.cursor() as cur:
            if mysql:
                cur.execute("SET SESSION binlog_row_value_options = 'PARTIAL_JSON'")
            for sql in PARTIAL_UPDATES:
                cur.execute(sql)
                cur.execute("SELECT j, k FROM pj")
                expected.append(cur.fetchone())

    conn = server.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE pj (id INT PRIMARY KEY, j JSON, k JSON, n INT)")
            cur.execute("""INSERT INTO pj VALUES (1, '{"a": 1, "b": [1, 2, 3], "c": {"d": "x"}, "long": "%s"}',
                        '[1, 2]', 5)""" % ("a" * 60))
    finally:
        conn.close()
    path = _logged_file(server, db, statements)
    records, _ = decode_files([path])
    if mysql:
        assert {e.type_code for e in LocalBinlogSource([path])} >= {39}
    afters = [(c.after["j"], c.after["k"]) for c in (row for r in records if r.table == "pj" for row in r.rows)]
    if mysql:
        assert afters == [(json.loads(j), json.loads(k)) for j, k in expected]
    else:
        assert [(json.loads(j), json.loads(k)) for j, k in afters] == [(json.loads(j), json.loads(k))
                                                                        for j, k in expected]


def test_server_dump_and_file_feed_the_same_decoder(server: Any, workload_file: Path) -> None:
    """The raw dump reader's RawEvents (COM_BINLOG_DUMP) decode to the same records as the file source's."""
    from_file, _ = decode_files([workload_file])
    decoder = EventDecoder()
    with RawDump(server.settings(), BinlogPosition(workload_file.name, 4)) as dump:
        from_server = [rec for raw in dump if raw.file == workload_file.name for rec in decoder.decode(raw)]
    assert_same(comparable(from_server), comparable(from_file))

    def kinds(records: list[Any]) -> list[tuple[int, str]]:
        # MariaDB sends Annotate_rows only to replicas that ask for them (the raw dump does not)
        return [(r.start_pos, r.event_type) for r in records if r.event_type != "MariadbAnnotateRowsEvent"]

    assert kinds(from_server) == kinds(from_file)


def _replica_has(replica: Any, db: str, table: str, rows: int) -> bool:
    conn = replica.connect()
    try:
        with conn.cursor() as cur:
            try:
                cur.execute(f"SELECT COUNT(*) FROM `{db}`.`{table}`")
            except Exception:
                return False
            return int(cur.fetchone()[0]) == rows
    finally:
        conn.close()


def test_relay_log_files_decode_like_the_source_binlog(server: Any, make_server: Any) -> None:
    """A replica's relay log (its own FDE and the source's, source positions in the headers) gives the rows of
    the source's binlog."""
    replica = make_server(server.flavor, extra_args=["--relay-log-purge=OFF"], server_id=700)
    relay_db = "relay_" + uuid.uuid4().hex[:8]
    conn = server.connect()
    try:
        start = flush(conn)
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{relay_db}`")
            cur.execute(f"USE `{relay_db}`")
            cur.execute(TYPES_TABLE.format(name="t_types"))
        write_types_rows(conn, "t_types", seed=31, rows=6)
        flush(conn)
        start_replica(server, replica, start)
        wait_for(lambda: _replica_has(replica, relay_db, "t_types", 4), timeout=120)
        rconn = replica.connect()
        with rconn.cursor() as cur:
            cur.execute("FLUSH RELAY LOGS")
        rconn.close()
        relay_files = sorted(p for p in Path(replica.datadir).glob("*relay-bin.[0-9]*"))
        source_records, _ = decode_files([binlog_path(server, start[0])])
        relay_records, source = decode_files(relay_files)
        assert _rows(relay_records, "t_types") == _rows(source_records, "t_types") != []
        fdes = [e for e in LocalBinlogSource(relay_files) if e.type_code == 15]
        assert len(fdes) > len(relay_files)  # the replica's own FDEs and the source's
        assert all(end.complete for end in source.ends[:-1])  # the last one is the open relay log
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{relay_db}`")
        conn.close()


def test_recovery_scan_reads_every_xid_the_servers_tool_prints(server: Any, db: str) -> None:
    """Crash recovery commits a prepared transaction whose XID is in the binlog: from XID events and from DDL
    logged with its XID (MySQL's atomic DDL, Q_DDL_LOGGED_WITH_XID; MariaDB's Q_XID). The offline scan must read
    exactly the XIDs mysqlbinlog / mariadb-binlog print."""
    from mysqlinspect.binlog.source.file_scan import scan_binlog_file

    def statements(conn: Any) -> None:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE xid_t (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB")
            cur.execute("INSERT INTO xid_t VALUES (1, 'a'), (2, 'b')")
            cur.execute("ALTER TABLE xid_t ADD COLUMN w INT")
            cur.execute("CREATE INDEX xid_v ON xid_t (v)")
            cur.execute("UPDATE xid_t SET w = id")
            cur.execute("DROP TABLE xid_t")
        conn.commit()

    path = _logged_file(server, db, statements)
    printed = [int(x) for x in re.findall(r"\b[Xx]id\s*=\s*(\d+)", _mysqlbinlog_output(server, path))]
    scan = scan_binlog_file(path)
    assert scan.xids == printed and len(printed) >= 2, (scan.xids, printed)
    if server.flavor == "mysql":  # every DDL above is atomic and logged with its XID
        assert len(printed) == 6
