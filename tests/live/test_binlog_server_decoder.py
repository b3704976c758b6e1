"""Server reads through our own source and decoder (`--decoder own`, the default) against mysql-replication
(`--decoder library`, the previous path and the reference) on the shared servers: every value of every event,
names and keys from the current definition without FULL metadata, the same CLI output, a reconnect after the
dump thread is killed, and heartbeats that keep an idle --follow dump alive."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.server.own_dump import OwnDumpRecords
from mysqlinspect.binlog.read.server.stream import BinlogStream, Decoder, RetryPolicy, StreamOptions
from mysqlinspect.binlog.replay.schema_lookup import InformationSchemaLookup
from mysqlinspect.binlog.source.server import ServerBinlogSource
from tests.live.decode_support import assert_same, comparable, prepare, write_everything, write_types_rows
from tests.live.replay_support import create_schema, run_workload
from tests.live.test_binlog_decode_files import _with_globals
from tests.live.test_binlog_resume import kill_dump_threads
from tests.live.test_binlog_tail import write_position
from tests.servers import wait_for

pytestmark = pytest.mark.live
BINARY_COLUMNS = frozenset({"bn", "vb", "bl"})  # replay_support's t_all: binary, varbinary, blob


def server_records(server: Any, start: tuple[str, int], stop: tuple[str, int], decoder: Decoder
                   ) -> list[EventRecord]:
    """The events in [start, stop) of the server's binlog, through one decoder, names looked up as tail does."""
    lookup = InformationSchemaLookup(server.settings())
    options = StreamOptions(read_timeout=None, decoder=decoder)
    try:
        with BinlogStream(server.settings(), BinlogPosition(*start), options=options, lookup=lookup) as stream:
            return [r for r in stream.events() if BinlogPosition(r.file, r.start_pos) < BinlogPosition(*stop)]
    finally:
        lookup.close()


def details(records: list[EventRecord]) -> list[tuple[Any, ...]]:
    """What comparable() leaves out: Query sessions and flags, rows flags, keys and where names came from."""
    return [(r.start_pos, r.event_type, r.session, r.suppress_use, r.rows_flags,
             [(c.unique_keys, c.names_from_metadata) for c in r.rows]) for r in records
            if r.event_type != "MariadbAnnotateRowsEvent" and r.end_pos]


def test_own_and_library_decoders_give_the_same_records(server: Any, db: str) -> None:
    conn = server.connect(db)
    try:
        prepare(conn, db, server.flavor)
        start = write_position(server)
        write_everything(conn, db, server.flavor)
        with conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode = 'ANSI_QUOTES'")
            cur.execute("CREATE TABLE t_ddl (a INT)")
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{db}`")  # logged without a default database
        stop = write_position(server)
    finally:
        conn.close()
    own, library = server_records(server, start, stop, "own"), server_records(server, start, stop, "library")
    mine, theirs = comparable(own), comparable(library, library=True)
    assert len(mine) > 300 and sum(len(r[-1]) for r in mine) > 120
    assert_same(mine, theirs)
    assert details(own) == details([r for r in library if r.event_type != "FormatDescriptionEvent"])
    ddl = next(r for r in own if r.query == "CREATE TABLE t_ddl (a INT)")
    assert ddl.session is not None and ddl.session.sql_mode == 4 and ddl.session.charset  # ANSI_QUOTES
    assert not ddl.suppress_use and next(r for r in own if r.query and "CREATE DATABASE" in r.query).suppress_use
    if server.flavor == "mysql":
        assert any(r.compressed and r.rows for r in own)
    else:
        assert any(r.event_type == "MariadbAnnotateRowsEvent" and r.query for r in own)  # asked for


def test_names_and_keys_from_the_current_definition(server: Any, db: str) -> None:
    """binlog_row_metadata=MINIMAL: no names, no keys in the binlog; both decoders take them from the server."""
    positions: list[tuple[str, int]] = []

    def statements() -> None:
        conn = server.connect(db)
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE t_pk (id INT PRIMARY KEY, a VARCHAR(10), b INT)")
                cur.execute("CREATE TABLE t_uk (x INT, u INT NOT NULL, UNIQUE KEY uu (u))")
                positions.append(write_position(server))
                cur.execute("INSERT INTO t_pk VALUES (1, 'one', -1), (2, 'two', NULL)")
                cur.execute("UPDATE t_pk SET a = 'uno' WHERE id = 1")
                cur.execute("INSERT INTO t_uk VALUES (5, 50)")
                cur.execute("DELETE FROM t_uk")
                positions.append(write_position(server))
        finally:
            conn.close()

    _with_globals(server, {"binlog_row_metadata": "MINIMAL"}, statements)
    start, stop = positions
    rows = {decoder: [(c.table, c.primary_key, c.unique_keys, c.names_from_metadata, c.before, c.after)
                      for r in server_records(server, start, stop, decoder) for c in r.rows]
            for decoder in ("own", "library")}
    assert rows["own"] == rows["library"]
    assert rows["own"][0] == ("t_pk", ["id"], [], False, None, {"id": 1, "a": "one", "b": -1})
    assert rows["own"][-1] == ("t_uk", [], [["u"]], False, {"x": 5, "u": 50}, None)


def test_tail_prints_the_same_with_either_decoder(server: Any, db: str, run_cli: Any) -> None:
    """`--decoder library` keeps today's path selectable, and prints what the own decoder prints."""
    conn = server.connect()
    try:
        create_schema(conn, db, server.flavor)
        start = write_position(server)
        run_workload(conn, db, seed=21, transactions=25, flavor=server.flavor)
    finally:
        conn.close()
    args = ("binlog", "tail", *server.cli_args(), "--start-file", start[0], "--start-pos", str(start[1]),
            "--table", f"{db}.*", "--format", "jsonl")
    outputs = {}
    for decoder in ("own", "library"):
        result = run_cli(*args, "--decoder", decoder)
        assert result.exit_code == 0, result.stderr
        outputs[decoder] = result.jsonl()
    slips = {"1970-01-01T00:00:00Z": "0000-00-00 00:00:00", "": "0x"}  # zero TIMESTAMP; b"" read as ""
    for line in outputs["library"]:  # the library's known slips (decode_support._library_value)
        for image in (line.get("before") or {}, line.get("after") or {}):
            image.update({k: slips[v] for k, v in image.items() if isinstance(v, str) and v in slips
                          and not (v == "" and k not in BINARY_COLUMNS)})
    assert len(outputs["own"]) > 25
    for a, b in zip(outputs["own"], outputs["library"], strict=True):
        for image in ("before", "after"):
            x, y = a.get(image) or {}, b.get(image) or {}
            assert x == y, {k: (x.get(k), y.get(k)) for k in {*x, *y} if x.get(k) != y.get(k)}
        assert a == b, {k: (a.get(k), b.get(k)) for k in {*a, *b} if a.get(k) != b.get(k)}
    refused = run_cli("binlog", "tail", "/nonexistent.000001", "--decoder", "library")
    assert refused.exit_code == 64 and "needs a server" in refused.stderr


def _numbered(server: Any, db: str, numbers: range) -> None:
    conn = server.connect(db)
    try:
        with conn.cursor() as cur:
            for n in numbers:
                cur.execute("INSERT INTO seq VALUES (%s)", (n,))
    finally:
        conn.close()


def _follow(server: Any, start: tuple[str, int], options: StreamOptions, want: int, got: list[int],
            warnings: list[str]) -> tuple[BinlogStream, threading.Thread]:
    stream = BinlogStream(server.settings(), BinlogPosition(*start), options=options, warn=warnings.append)

    def run() -> None:
        with stream:
            for txn in stream.transactions():
                got.extend(_inserted(txn))
                if len(got) >= want:
                    return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return stream, thread


def _inserted(txn: Transaction) -> list[int]:
    return [c.after["n"] for e in txn.events for c in e.rows if c.after is not None and e.table == "seq"]


def test_own_decoder_reconnects_after_the_dump_thread_is_killed(server: Any, db: str) -> None:
    """KILL of the dump thread mid-stream: the reader resumes after the last complete transaction, nothing is
    lost or yielded twice."""
    conn = server.connect(db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE seq (n INT PRIMARY KEY)")
    conn.close()
    start = write_position(server)
    _numbered(server, db, range(1, 21))
    got: list[int] = []
    warnings: list[str] = []
    options = StreamOptions(blocking=True, read_timeout=30, retry=RetryPolicy(first_delay=0.05), decoder="own")
    stream, thread = _follow(server, start, options, 40, got, warnings)
    wait_for(lambda: len(got) >= 20, timeout=60)
    wait_for(lambda: kill_dump_threads(server) > 0, timeout=30)
    _numbered(server, db, range(21, 41))
    thread.join(timeout=120)
    assert got == list(range(1, 41))
    assert stream.reconnects >= 1 and any("binlog connection lost" in w for w in warnings)


def test_heartbeats_keep_an_idle_follow_alive(server: Any, db: str) -> None:
    """An idle dump with read_timeout 2 s: heartbeats every 0.5 s arrive, and the connection is never dropped."""
    conn = server.connect(db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE seq (n INT PRIMARY KEY)")
    conn.close()
    start = write_position(server)
    got: list[int] = []
    warnings: list[str] = []
    options = StreamOptions(blocking=True, heartbeat=0.5, read_timeout=2.0, decoder="own")
    stream, thread = _follow(server, start, options, 1, got, warnings)
    dump = stream.dump
    assert isinstance(dump, OwnDumpRecords)
    wait_for(lambda: dump.heartbeats_seen >= 8, timeout=120)  # idle for longer than the read timeout
    if server.flavor == "mysql":  # the sandbox has TLS: the settings ask for PREFERRED, the dump uses it
        assert _dump_ciphers(server) not in ([], [""])
    _numbered(server, db, range(1, 2))
    thread.join(timeout=60)
    assert got == [1]
    assert stream.reconnects == 0, warnings


def test_compressed_events_from_the_server(server: Any, db: str) -> None:
    """MariaDB log_bin_compress (zlib Query/Rows events, which mysql-replication only reports) and MySQL
    TRANSACTION_PAYLOAD (zstd), read from the server by the own decoder: the rows of the same writes uncompressed."""
    mariadb = server.flavor == "mariadb"
    conn = server.connect(db)
    try:
        prepare(conn, db, server.flavor)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE t_zip LIKE t_types")
    finally:
        conn.close()
    positions: list[tuple[str, int]] = []

    def write(table: str) -> None:
        conn = server.connect(db)
        try:
            with conn.cursor() as cur:
                cur.execute(f"SET SESSION binlog_transaction_compression = {'ON' if table == 't_zip' else 'OFF'}"
                            if not mariadb else "DO 0")
            positions.append(write_position(server))
            write_types_rows(conn, table, seed=9)
            positions.append(write_position(server))
        finally:
            conn.close()

    write("t_types")
    settings = {"log_bin_compress": "ON", "log_bin_compress_min_len": "10"} if mariadb else {}
    _with_globals(server, settings, lambda: write("t_zip"))
    plain, zipped = (server_records(server, positions[i], positions[i + 1], "own") for i in (0, 2))
    rows = [[(c.op, c.before, c.after) for r in records for c in r.rows] for records in (plain, zipped)]
    assert rows[0] == rows[1] and len(rows[0]) > 10
    source = ServerBinlogSource(server.settings(), BinlogPosition(*positions[2]), read_timeout=None)
    types = {raw.type_code for raw in source if BinlogPosition(raw.file, raw.start_pos) < BinlogPosition(*positions[3])}
    assert ({166, 167, 168} if mariadb else {40}) <= types


def _dump_ciphers(server: Any) -> list[str]:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT s.VARIABLE_VALUE FROM performance_schema.status_by_thread s JOIN "
                        "performance_schema.threads t USING (THREAD_ID) WHERE t.PROCESSLIST_COMMAND LIKE "
                        "'Binlog Dump%' AND s.VARIABLE_NAME = 'Ssl_cipher'")
            return [str(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()
