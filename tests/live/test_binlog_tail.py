"""binlog tail / list / stats against the shared servers: every value of a known workload, filters, ranges."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest

pytestmark = pytest.mark.live


def write_position(server: Any) -> tuple[str, int]:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            for statement in ("SHOW BINARY LOG STATUS", "SHOW BINLOG STATUS", "SHOW MASTER STATUS"):
                try:
                    cur.execute(statement)
                except Exception:
                    continue
                row = cur.fetchone()
                return str(row[0]), int(row[1])
    finally:
        conn.close()
    raise AssertionError("no binlog status statement works")


def run_sql(server: Any, db: str, *statements: str, session: tuple[str, ...] = ()) -> None:
    conn = server.connect(db)
    try:
        with conn.cursor() as cur:
            for s in session:
                cur.execute(s)
            for s in statements:
                cur.execute(s)
    finally:
        conn.close()


def tail_json(run_cli: Any, server: Any, start: tuple[str, int], *extra: str) -> dict[str, Any]:
    result = run_cli("binlog", "tail", *server.cli_args(), "--start-file", start[0], "--start-pos", str(start[1]),
                     "--format", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return result.json()


def changes(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for t in doc["transactions"] for c in t["changes"]]


ALLTYPES = """CREATE TABLE alltypes (
  id INT PRIMARY KEY, j JSON, d DECIMAL(20,6), dt DATETIME(6), ts TIMESTAMP(3) NULL, b BIT(10),
  s SET('a','b','c'), e ENUM('x','y','z'), bl BLOB, vb VARBINARY(20), t TEXT, u VARCHAR(50) CHARACTER SET utf8mb4,
  f FLOAT, db DOUBLE, y YEAR, dd DATE, big BIGINT UNSIGNED, tm TIME(2), neg INT)"""
ROW1 = """INSERT INTO alltypes VALUES (1, '{"k": "v", "n": [1, 2.5, null, true], "é": "ü"}', 12345.678900,
  '2024-02-29 12:34:56.123456', '2024-03-01 01:02:03.456', b'1010101010', 'a,c', 'y', x'00ff10', x'deadbeef',
  'text', 'héllo 😀 日本', 0.3, 0.1, 2024, '2024-01-02', 18446744073709551615, '12:34:56.78', -5)"""
ROW2 = "INSERT INTO alltypes (id, dt, dd, s, e, y) VALUES (2, '0000-00-00 00:00:00', '0000-00-00', '', '', 0)"


def test_tail_known_workload_every_value(server: Any, db: str, run_cli: Any) -> None:
    mariadb = server.flavor == "mariadb"
    run_sql(server, db, ALLTYPES, "CREATE TABLE comp (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b))",
            "CREATE TABLE nopk (x INT, y VARCHAR(5))")
    start = write_position(server)
    session = ("SET time_zone = '+00:00'", "SET sql_mode = ''")
    run_sql(server, db, ROW1, ROW2, "UPDATE alltypes SET u = 'changed', d = -0.000001 WHERE id = 1",
            "DELETE FROM alltypes WHERE id = 2", session=session)
    run_sql(server, db, "INSERT INTO comp VALUES (1, 'x', 10), (1, 'y', 20)",
            "UPDATE comp SET v = 11 WHERE a = 1 AND b = 'x'", "DELETE FROM comp WHERE b = 'y'",
            "INSERT INTO nopk VALUES (1, 'a'), (1, 'a')", "DELETE FROM nopk",
            "ALTER TABLE nopk ADD COLUMN z INT")
    run_sql(server, db, "BEGIN", "INSERT INTO comp VALUES (2, 'm', 1)", "INSERT INTO nopk VALUES (3, 'b', 7)",
            "UPDATE comp SET v = 2 WHERE a = 2", "COMMIT")
    values = ",".join(f"({1000 + i}, 'big', {i})" for i in range(3000))
    run_sql(server, db, "BEGIN", f"INSERT INTO comp VALUES {values}", "COMMIT")
    doc = tail_json(run_cli, server, start, "--table", f"{db}.*")
    txns = doc["transactions"]
    rows = changes(doc)
    alltypes = [r for r in rows if r.get("table") == "alltypes"]
    assert [r["op"] for r in alltypes] == ["insert", "insert", "update", "delete"]
    first = alltypes[0]["after"]
    assert first["j"] == ('{"k": "v", "n": [1, 2.5, null, true], "é": "ü"}' if mariadb
                          else {"k": "v", "n": [1, 2.5, None, True], "é": "ü"})
    assert first["d"] == "12345.678900"
    assert first["dt"] == "2024-02-29T12:34:56.123456"
    assert first["ts"] == "2024-03-01T01:02:03.456000Z"
    assert first["b"] == 0b1010101010
    assert first["s"] == ["a", "c"]
    assert first["e"] == "y"
    assert first["bl"] == "0x00ff10"
    assert first["vb"] == "0xdeadbeef"
    assert first["t"] == "text"
    assert first["u"] == "héllo 😀 日本"
    assert first["f"] == 0.3
    assert first["db"] == 0.1
    assert first["y"] == 2024
    assert first["dd"] == "2024-01-02"
    assert first["big"] == 18446744073709551615
    assert first["tm"] == "12:34:56.780000"
    assert first["neg"] == -5
    assert alltypes[0]["primary_key"] == {"id": 1}
    assert alltypes[0]["before"] is None
    second = alltypes[1]["after"]
    assert second["dt"] == "0000-00-00 00:00:00" and second["dd"] == "0000-00-00"
    assert second["s"] == [] and second["e"] == "" and second["y"] == 0
    assert second["j"] is None and second["d"] is None and second["ts"] is None and second["bl"] is None
    update = alltypes[2]
    assert update["before"]["u"] == "héllo 😀 日本" and update["after"]["u"] == "changed"
    assert update["before"]["d"] == "12345.678900" and update["after"]["d"] == "-0.000001"
    assert {k: v for k, v in update["before"].items() if k not in ("u", "d")} == \
        {k: v for k, v in update["after"].items() if k not in ("u", "d")}
    assert alltypes[3]["before"]["id"] == 2 and alltypes[3]["after"] is None

    comp = [r for r in rows if r.get("table") == "comp" and r["op"] != "ddl"]
    assert [(r["op"], r["primary_key"]) for r in comp[:4]] == [
        ("insert", {"a": 1, "b": "x"}), ("insert", {"a": 1, "b": "y"}), ("update", {"a": 1, "b": "x"}),
        ("delete", {"a": 1, "b": "y"})]
    assert comp[2]["before"] == {"a": 1, "b": "x", "v": 10} and comp[2]["after"] == {"a": 1, "b": "x", "v": 11}
    nopk = [r for r in rows if r.get("table") == "nopk" and r["kind"] == "row"]
    assert [(r["op"], r["primary_key"]) for r in nopk[:4]] == [("insert", None)] * 2 + [("delete", None)] * 2
    assert nopk[0]["after"] == {"x": 1, "y": "a"}
    ddl = [r for r in rows if r["kind"] == "ddl"]
    assert len(ddl) == 1 and ddl[0]["query"].startswith("ALTER TABLE nopk") and ddl[0]["table"] == "nopk"

    multi = next(t for t in txns if {"comp", "nopk"} <= {c.get("table") for c in t["changes"]} and t["rows"] == 3)
    assert [c["op"] for c in multi["changes"]] == ["insert", "insert", "update"]
    assert multi["changes"][1]["after"] == {"x": 3, "y": "b", "z": 7}
    assert len({c["gtid"] for c in multi["changes"]}) == 1 and multi["gtid"] is not None
    assert multi["xid"] is not None and all(c["xid"] == multi["xid"] for c in multi["changes"])
    large = txns[-1]
    assert large["rows"] == 3000 and large["tables"] == [f"{db}.comp"]
    assert large["size_bytes"] == large["end_pos"] - large["start_pos"] > 3000 * 10
    assert [c["after"]["v"] for c in large["changes"]] == list(range(3000))
    # positions: every change lies inside its transaction, transactions are ordered and contiguous in a file
    for t in txns:
        for c in t["changes"]:
            assert t["start_pos"] <= c["start_pos"] < c["end_pos"] <= t["end_pos"]
            assert c["transaction_no"] == t["transaction_no"] and c["server_id"] == t["server_id"]
    assert doc["summary"]["transactions"] == len(txns)


def test_tail_jsonl_lines_have_the_documented_keys(server: Any, db: str, run_cli: Any) -> None:
    run_sql(server, db, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    start = write_position(server)
    run_sql(server, db, "INSERT INTO t VALUES (1, 1)", "UPDATE t SET v = 2")
    result = run_cli("binlog", "tail", *server.cli_args(), "--start-file", start[0], "--start-pos", str(start[1]),
                     "--format", "jsonl", "--table", f"{db}.t")
    assert result.exit_code == 0, result.stderr
    lines = result.jsonl()
    row_keys = {"kind", "file", "start_pos", "end_pos", "timestamp", "server_id", "gtid", "xid", "transaction_no",
                "schema", "table", "op", "primary_key", "before", "after"}
    rows = [ln for ln in lines if ln["kind"] == "row"]
    assert [r["op"] for r in rows] == ["insert", "update"]
    assert all(set(r) == row_keys for r in rows)
    summaries = [ln for ln in lines if ln["kind"] == "transaction"]
    assert len(summaries) == 2 and all(s["rows"] == 1 and s["tables"] == [f"{db}.t"] for s in summaries)
    assert rows[1]["before"] == {"id": 1, "v": 1} and rows[1]["after"] == {"id": 1, "v": 2}


def test_filters_select_exactly(server: Any, db: str, run_cli: Any) -> None:
    run_sql(server, db, "CREATE TABLE t1 (id INT PRIMARY KEY)", "CREATE TABLE t2 (id INT PRIMARY KEY)",
            "CREATE TABLE other (id INT PRIMARY KEY)")
    start = write_position(server)
    run_sql(server, db, "INSERT INTO t1 VALUES (1), (2)", "INSERT INTO t2 VALUES (1)",
            "UPDATE t1 SET id = 3 WHERE id = 2", "DELETE FROM t2", "INSERT INTO other VALUES (9)",
            "ALTER TABLE t1 ADD COLUMN c INT",
            "BEGIN", "INSERT INTO t1 (id) VALUES (10), (11), (12)", "INSERT INTO t2 VALUES (5)", "COMMIT")

    def ops(*extra: str) -> list[tuple[str, str, str]]:
        doc = tail_json(run_cli, server, start, *extra)
        return [(c["table"], c["op"], str((c["after"] or c["before"] or {}).get("id"))) for c in changes(doc)]

    assert ops("--table", f"{db}.t1", "--op", "insert") == [
        ("t1", "insert", "1"), ("t1", "insert", "2"), ("t1", "insert", "10"), ("t1", "insert", "11"),
        ("t1", "insert", "12")]
    assert ops("--table", f"{db}.t*", "--exclude-table", f"{db}.t1") == [
        ("t2", "insert", "1"), ("t2", "delete", "1"), ("t2", "insert", "5")]
    assert ops("--table", f"{db}.*", "--op", "ddl") == [("t1", "ddl", "None")]
    assert ops("--table", f"{db}.*", "--op", "update,delete") == [("t1", "update", "3"), ("t2", "delete", "1")]
    assert ops("--table", f"{db}.*", "--min-rows", "3") == [
        ("t1", "insert", "10"), ("t1", "insert", "11"), ("t1", "insert", "12"), ("t2", "insert", "5")]
    assert ops("--table", f"{db}.*", "--server-id", "4242") == []
    server_id = tail_json(run_cli, server, start, "--table", f"{db}.*")["transactions"][0]["server_id"]
    assert len(ops("--table", f"{db}.*", "--server-id", str(server_id))) == 11
    assert ops("--table", f"{db}.*", "--event-type", "DeleteRows") == [("t2", "delete", "1")]


def test_start_datetime_lands_on_the_right_transaction(server: Any, db: str, run_cli: Any) -> None:
    run_sql(server, db, "CREATE TABLE t (id INT PRIMARY KEY)")
    run_sql(server, db, "INSERT INTO t VALUES (1)")
    boundary = int(time.time()) + 1
    time.sleep(max(boundary - time.time(), 0) + 0.05)
    run_sql(server, db, "INSERT INTO t VALUES (2)")
    time.sleep(1.05)
    stop_at = int(time.time())
    run_sql(server, db, "INSERT INTO t VALUES (3)")
    when = dt.datetime.fromtimestamp(boundary, dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")
    until = dt.datetime.fromtimestamp(stop_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")
    result = run_cli("binlog", "tail", *server.cli_args(), "--start-datetime", when, "--stop-datetime", until,
                     "--table", f"{db}.t", "--format", "json")
    assert result.exit_code == 0, result.stderr
    ids = [c["after"]["id"] for c in changes(result.json())]
    assert ids == [2]
    local = dt.datetime.fromtimestamp(boundary).strftime("%Y-%m-%d %H:%M:%S")  # naive = local time
    result = run_cli("binlog", "tail", *server.cli_args(), "--start-datetime", local, "--table", f"{db}.t",
                     "--format", "json")
    assert [c["after"]["id"] for c in changes(result.json())] == [2, 3]


def test_gtid_selection(server: Any, db: str, run_cli: Any) -> None:
    run_sql(server, db, "CREATE TABLE t (id INT PRIMARY KEY)")
    start = write_position(server)
    for i in range(1, 4):
        run_sql(server, db, f"INSERT INTO t VALUES ({i})")
    doc = tail_json(run_cli, server, start, "--table", f"{db}.t")
    gtids = [t["gtid"] for t in doc["transactions"]]
    assert len(gtids) == 3 and all(gtids)

    def ids(*extra: str) -> list[int]:
        result = run_cli("binlog", "tail", *server.cli_args(), "--table", f"{db}.t", "--format", "json", *extra)
        assert result.exit_code == 0, result.stderr
        return [c["after"]["id"] for c in changes(result.json())]

    assert ids("--include-gtids", gtids[1]) == [2]
    assert ids("--gtid", gtids[1]) == [2, 3]
    assert ids("--start-file", start[0], "--start-pos", str(start[1]), "--exclude-gtids", gtids[0]) == [2, 3]


def test_compressed_transactions_are_decoded(server: Any, db: str, run_cli: Any) -> None:
    if server.flavor != "mysql":
        pytest.skip("binlog_transaction_compression is a MySQL feature")
    run_sql(server, db, "CREATE TABLE t (id INT PRIMARY KEY, j JSON, v VARCHAR(20))")
    start = write_position(server)
    run_sql(server, db, "BEGIN", "INSERT INTO t VALUES (1, '[1, {\"a\": \"b\"}]', 'one'), (2, NULL, 'two')",
            "UPDATE t SET v = 'uno' WHERE id = 1", "COMMIT", "INSERT INTO t VALUES (3, '{}', 'three')",
            session=("SET SESSION binlog_transaction_compression = ON",))
    doc = tail_json(run_cli, server, start, "--table", f"{db}.t")
    txns = doc["transactions"]
    assert [t["compressed"] for t in txns] == [True, True]
    assert [(c["op"], c["after"]["id"]) for c in changes(doc)] == [("insert", 1), ("insert", 2), ("update", 1),
                                                                   ("insert", 3)]
    assert changes(doc)[0]["after"]["j"] == [1, {"a": "b"}]
    assert changes(doc)[2]["before"]["v"] == "one" and changes(doc)[2]["after"]["v"] == "uno"
    stats = run_cli("binlog", "stats", *server.cli_args(), "--start-file", start[0], "--start-pos", str(start[1]),
                    "--table", f"{db}.t", "--format", "json")
    assert stats.exit_code == 0, stats.stderr
    assert stats.json()["compressed_transactions"] == 2
    assert stats.json()["rows"] == 4  # counted inside the compressed payloads too


def test_list_files_positions_and_gtids(server: Any, db: str, run_cli: Any) -> None:
    run_sql(server, db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)")
    result = run_cli("binlog", "list", *server.cli_args(), "--format", "json")
    assert result.exit_code == 0, result.stderr
    listing = result.json()
    files = listing["files"]
    current = listing["current"]
    assert files[-1]["name"] == current["file"] and files[-1]["active"]
    assert listing["total_bytes"] == sum(f["size_bytes"] for f in files)
    assert all(f["created"] and f["first_event_time"] for f in files)
    assert files[-1]["last_gtid"] is not None and files[-1]["last_event_time"] >= files[-1]["first_event_time"]
    assert "expire_seconds" in listing["purge"]
    table = run_cli("binlog", "list", *server.cli_args(), "--format", "table")
    assert table.exit_code == 0 and current["file"] in table.stdout


def test_stats_counts_rows_by_default_headers_only_and_decode(server: Any, db: str, run_cli: Any) -> None:
    """Regression (issue 13): row counts were `-` unless --rows; the header scan now counts them (Table_map)."""
    run_sql(server, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200))")
    start = write_position(server)
    run_sql(server, db, "INSERT INTO t VALUES (1, 'a'), (2, 'b')", "UPDATE t SET v = 'c'", "DELETE FROM t WHERE id = 1",
            "BEGIN", "INSERT INTO t SELECT 10 + seq, REPEAT('x', 200) FROM (SELECT 1 seq UNION SELECT 2 UNION "
            "SELECT 3 UNION SELECT 4 UNION SELECT 5) s", "COMMIT", "ALTER TABLE t ADD COLUMN w INT")
    args = ("binlog", "stats", *server.cli_args(), "--start-file", start[0], "--start-pos", str(start[1]),
            "--table", f"{db}.t", "--format", "json")
    fast = run_cli(*args, "--headers-only")
    full = run_cli(*args, "--decode")
    counted = run_cli(*args)
    assert fast.exit_code == 0 and full.exit_code == 0 and counted.exit_code == 0, fast.stderr + full.stderr
    f, r, c = fast.json(), full.json(), counted.json()
    assert f["fast_path"] and c["fast_path"] and not r["fast_path"]
    assert not f["rows_counted"] and c["rows_counted"] and r["rows_counted"]
    assert f["transactions"] == r["transactions"] == c["transactions"] == 5
    per_table = {t["op"]: t for t in r["tables"]}
    assert per_table["insert"]["rows"] == 7 and per_table["update"]["rows"] == 2 and per_table["delete"]["rows"] == 1
    assert {t["op"]: t["events"] for t in f["tables"]} == {op: t["events"] for op, t in per_table.items()}
    assert r["rows"] == 10 and f["rows"] is None
    assert r["largest"][0]["rows"] == 5 and r["largest"][0]["size_bytes"] == f["largest"][0]["size_bytes"]
    # the default (rows counted from the table maps) agrees with the full decoder
    for key in ("rows", "tables", "largest", "rows_per_transaction"):
        assert c[key] == r[key], key
    assert c["uncounted_row_events"] == 0
    assert run_cli(*args, "--headers-only", "--decode").exit_code == 64
    assert [d["query"].split()[0] for d in f["ddl"]] == ["ALTER"]
    assert f["size_bytes"]["max"] == r["largest"][0]["size_bytes"]
    assert list(f["servers"]) and f["bytes"] == r["bytes"]
    # The unfiltered fast path (a tight loop over dump frames) agrees with the record-based scan.
    from mysqlinspect.binlog.read.fastscan import header_stats, scan_transactions
    from mysqlinspect.binlog.read.range import RangeSpec, StartSpec, StopSpec, resolve_range
    from mysqlinspect.binlog.read.stats import StatsAccumulator
    from mysqlinspect.render.jsonout import to_jsonable

    end = write_position(server)
    conn = server.connect()
    try:
        spec = RangeSpec(start=StartSpec(file=start[0], pos=start[1]), stop=StopSpec(file=end[0], pos=end[1]))
        rng = resolve_range(conn, server.settings(), spec, server.flavor)
    finally:
        conn.close()
    for rows_counted in (False, True):
        tight = StatsAccumulator(fast_path=True, rows_counted=rows_counted)
        generic = StatsAccumulator(fast_path=True, rows_counted=rows_counted)
        header_stats(server.settings(), rng, tight)
        generic.add_all(scan_transactions(server.settings(), rng, count_rows=rows_counted))
        t, g = to_jsonable(tight.build({})), to_jsonable(generic.build({}))
        assert t == g and t["transactions"] >= 5
        assert (t["rows"] is not None) == rows_counted


def test_errors_and_edges(server: Any, run_cli: Any) -> None:
    purged = run_cli("binlog", "tail", *server.cli_args(), "--start-file", "binlog.999999", "--format", "jsonl")
    assert purged.exit_code == 66
    assert "binlog.999999" in purged.stderr and "first available file is binlog." in purged.stderr
    current = write_position(server)
    past = run_cli("binlog", "tail", *server.cli_args(), "--start-file", current[0], "--start-pos", "999999999",
                   "--format", "json")
    assert past.exit_code == 0, past.stderr
    assert past.json()["transactions"] == [] and "past the end" in past.stderr
    now = run_cli("binlog", "tail", *server.cli_args(), "--format", "jsonl")
    assert now.exit_code == 0 and now.stdout == "" and "--follow" in now.stderr
    bad = run_cli("binlog", "tail", *server.cli_args(), "--start-pos", "100")
    assert bad.exit_code == 64
    bad_json = run_cli("binlog", "tail", *server.cli_args(), "--follow", "--format", "json")
    assert bad_json.exit_code == 64


def test_decimal_and_values_model_are_python_values(server: Any, db: str) -> None:
    """The engine API (used by replay) yields Python values: Decimal, bytes, aware UTC datetimes, lists for SET."""
    from mysqlinspect.binlog.read.filters import EventFilter
    from mysqlinspect.binlog.read.range import RangeSpec, StartSpec, resolve_range
    from mysqlinspect.binlog.read.reader import RangeReader

    run_sql(server, db, "CREATE TABLE t (id INT PRIMARY KEY, d DECIMAL(10,2), b VARBINARY(4), ts TIMESTAMP NULL, "
                        "s SET('p','q'), j JSON)")
    start = write_position(server)
    run_sql(server, db, "INSERT INTO t VALUES (1, 1.50, x'0102', '2020-01-01 00:00:00', 'q', 'null')",
            "INSERT INTO t (id) VALUES (2)", session=("SET time_zone = '+00:00'",))
    conn = server.connect()
    try:
        rng = resolve_range(conn, server.settings(), RangeSpec(start=StartSpec(file=start[0], pos=start[1])),
                            server.flavor)
    finally:
        conn.close()
    with RangeReader(server.settings(), rng, EventFilter.build(tables=[f"{db}.t"])) as reader:
        txns = list(reader.transactions())
    from mysqlinspect.binlog.decode.library.jsonnull import JSON_NULL

    row = txns[0].events[[e.op for e in txns[0].events].index("insert")].rows[0]
    json_null = "null" if server.flavor == "mariadb" else JSON_NULL
    assert row.after == {"id": 1, "d": Decimal("1.50"), "b": b"\x01\x02",
                         "ts": dt.datetime(2020, 1, 1, tzinfo=dt.UTC), "s": ["q"], "j": json_null}
    assert row.primary_key == ["id"] and [c.type_name for c in row.columns] == [
        "int", "decimal", "varbinary", "timestamp", "set", "text" if server.flavor == "mariadb" else "json"]
    second = txns[1].events[[e.op for e in txns[1].events].index("insert")].rows[0]
    assert second.after == {"id": 2, "d": None, "b": None, "ts": None, "s": None, "j": None}


def test_privileges_are_checked(server: Any, db: str, run_cli: Any) -> None:
    user = f"u_{db[-8:]}"
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'")
            cur.execute(f"GRANT REPLICATION CLIENT ON *.* TO '{user}'@'%'")
        conn_args = list(server.cli_args())
        conn_args[conn_args.index("-u") + 1] = user
        args = ("binlog", "tail", *conn_args, "-p", "pw", "--start-file", write_position(server)[0],
                "--format", "jsonl")
        no_slave = run_cli(*args)
        assert no_slave.exit_code == 77, no_slave.stderr
        assert "REPLICATION SLAVE" in no_slave.stderr
        strict = run_cli(*args, "--strict")
        assert strict.exit_code == 69 and "privileges" in strict.stderr
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        conn.close()


def test_negative_fractional_times(server: Any, db: str, run_cli: Any) -> None:
    run_sql(server, db, "CREATE TABLE t (id INT PRIMARY KEY, a TIME(2), b TIME(6), c TIME(4), d TIME, e TIME(1))")
    start = write_position(server)
    run_sql(server, db, "INSERT INTO t VALUES (1, '-838:59:58.99', '-00:00:00.500001', '-12:00:00.0001', "
                        "'-01:02:03', '-00:00:01.5'), (2, '838:59:58.99', '00:00:00.5', '-00:00:00', '00:00:00', "
                        "'-00:00:00.1')")
    doc = tail_json(run_cli, server, start, "--table", f"{db}.t")
    rows = [c["after"] for c in changes(doc)]
    assert rows == [
        {"id": 1, "a": "-838:59:58.990000", "b": "-00:00:00.500001", "c": "-12:00:00.000100", "d": "-01:02:03",
         "e": "-00:00:01.500000"},
        {"id": 2, "a": "838:59:58.990000", "b": "00:00:00.500000", "c": "00:00:00", "d": "00:00:00",
         "e": "-00:00:00.100000"},
    ]


def test_statement_logged_dml_does_not_break_the_stream(server: Any, db: str, run_cli: Any) -> None:
    """MySQL 9.x writes status variables mysql-replication does not know; the stream must go on past them."""
    run_sql(server, db, "CREATE TABLE t (id INT PRIMARY KEY)")
    start = write_position(server)
    run_sql(server, db, "INSERT INTO t VALUES (1)", session=("SET SESSION binlog_format = 'STATEMENT'",))
    run_sql(server, db, "INSERT INTO t VALUES (2)")
    doc = tail_json(run_cli, server, start)
    found = changes(doc)
    assert [(c["kind"], c.get("query")) for c in found if c["kind"] == "statement"] == [
        ("statement", "INSERT INTO t VALUES (1)")
    ]
    assert [c["after"]["id"] for c in found if c["kind"] != "statement"] == [2]


def test_review_binary_padding_and_plain_decimals(server: Any, db: str, run_cli: Any) -> None:
    """BINARY(n) is shown with the trailing 0x00 bytes the binlog drops; DECIMAL zero is 0.000..., not 0E-30."""
    run_sql(server, db, "CREATE TABLE bp (id INT PRIMARY KEY, bn BINARY(4), d DECIMAL(65,30), s DECIMAL(20,10))")
    start = write_position(server)
    run_sql(server, db, "INSERT INTO bp VALUES (1, X'61', 0, 0.0000001), (2, X'00', -1, 0), (3, X'01020304', 1, 1)")
    rows = {c["after"]["id"]: c["after"] for c in changes(tail_json(run_cli, server, start, "--table", f"{db}.bp"))}
    assert [rows[i]["bn"] for i in (1, 2, 3)] == ["0x61000000", "0x00000000", "0x01020304"]
    assert rows[1]["d"] == "0." + "0" * 30 and rows[2]["d"] == "-1." + "0" * 30
    assert rows[1]["s"] == "0.0000001000" and rows[2]["s"] == "0.0000000000"


def test_review_checkpoint_guards(server: Any, db: str, run_cli: Any, tmp_path: Any) -> None:
    """A checkpoint of another server is refused; an unwritable one or a stop before the start is a usage error;
    with --format json the checkpoint moves only once the document is out."""
    import json as jsonlib

    from mysqlinspect.binlog.read.checkpoint import read_checkpoint
    from mysqlinspect.binlog.read.range import RangeSpec, StartSpec, resolve_range
    from mysqlinspect.binlog.read.reader import RangeReader

    run_sql(server, db, "CREATE TABLE ck (id INT PRIMARY KEY)")
    start = write_position(server)
    run_sql(server, db, "INSERT INTO ck VALUES (1)", "INSERT INTO ck VALUES (2)")
    base = ["binlog", "tail", *server.cli_args(), "--start-file", start[0], "--start-pos", str(start[1]),
            "--table", f"{db}.ck"]
    backwards = run_cli(*base, "--stop-file", start[0], "--stop-pos", "4", "--format", "jsonl")
    assert backwards.exit_code == 64 and "not after the start" in backwards.stderr
    unwritable = run_cli(*base, "--checkpoint", str(tmp_path / "missing" / "cp.json"), "--format", "jsonl")
    assert unwritable.exit_code == 64 and "cannot write" in unwritable.stderr and "Traceback" not in unwritable.stderr

    # --format json: nothing is recorded if the document never goes out, everything once it does
    held = tmp_path / "held.json"
    conn = server.connect()
    try:
        rng = resolve_range(conn, server.settings(), RangeSpec(start=StartSpec(file=start[0], pos=start[1])),
                            server.flavor)
    finally:
        conn.close()
    with RangeReader(server.settings(), rng, checkpoint_path=held) as reader:
        reader.hold_checkpoint()
        for txn in reader.transactions():
            reader.done(txn)
    saved = read_checkpoint(held)
    assert saved is not None and (saved.file, saved.pos, saved.transactions) == (start[0], start[1], 0)
    cp = tmp_path / "cp.json"
    first = run_cli(*base, "--checkpoint", str(cp), "--format", "json")
    assert first.exit_code == 0, first.stderr
    assert [c["after"]["id"] for c in changes(first.json())] == [1, 2]
    again = run_cli(*base, "--checkpoint", str(cp), "--format", "json")
    assert again.exit_code == 0 and changes(again.json()) == []

    data = jsonlib.loads(cp.read_text())
    other_flavor = tmp_path / "flavor.json"
    other_flavor.write_text(jsonlib.dumps({**data, "flavor": "mysql" if server.flavor == "mariadb" else "mariadb"}))
    refused = run_cli(*base, "--checkpoint", str(other_flavor), "--format", "jsonl")
    assert refused.exit_code == 65 and "written for a" in refused.stderr
    past_end = tmp_path / "past.json"
    past_end.write_text(jsonlib.dumps({**data, "pos": 2**40}))
    refused = run_cli(*base, "--checkpoint", str(past_end), "--format", "jsonl")
    assert refused.exit_code == 65 and "past the end" in refused.stderr
    if server.flavor == "mysql":
        assert data["server_uuid"]
        other = tmp_path / "other.json"
        other.write_text(jsonlib.dumps({**data, "server_uuid": "00000000-0000-0000-0000-000000000001"}))
        refused = run_cli(*base, "--checkpoint", str(other), "--format", "jsonl")
        assert refused.exit_code == 65 and "00000000-0000-0000-0000-000000000001" in refused.stderr


def test_review_start_gtid_not_in_the_log_warns(server: Any, run_cli: Any) -> None:
    """--gtid naming a transaction the server has not written used to print nothing, silently."""
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            if server.flavor == "mariadb":
                cur.execute("SELECT @@gtid_domain_id, @@server_id")
                domain, sid = cur.fetchone()
                gtid = f"{domain}-{sid}-999999999999"
            else:
                cur.execute("SELECT @@server_uuid")
                gtid = f"{cur.fetchone()[0]}:999999999999"
    finally:
        conn.close()
    result = run_cli("binlog", "tail", *server.cli_args(), "--gtid", gtid, "--format", "jsonl")
    assert result.exit_code == 0 and result.stdout == ""
    assert gtid in result.stderr and "nothing to read" in result.stderr
