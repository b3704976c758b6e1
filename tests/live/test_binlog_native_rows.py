"""The C row-image reader (decode/_rowimage.c) against the Python plan (decode/plan.py) on the same binlog files:
the all-types workloads of both flavors, the types mysql-replication cannot read, and edge values that take the
C reader's fallbacks (zero and partial dates, negative fractions, FLOAT limits, opaque and large JSON, MariaDB's
pre-5.6 temporal types). Every value of every image must be the same object value (compared by repr, so
Decimal('1.0') and Decimal('1.00'), or int and float, differ)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.binlog.decode import native, rows
from mysqlinspect.binlog.decode.events import EventDecoder
from mysqlinspect.binlog.decode.plan import plan_for
from mysqlinspect.binlog.decode.rows import decode_rows, parse_rows_header
from mysqlinspect.binlog.model import EventRecord
from mysqlinspect.binlog.source.local import LocalBinlogSource
from mysqlinspect.errors import DataError
from tests.live.decode_support import workload_file, write_library_unreadable

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(native.rowimage is None, reason="the C extension _rowimage is not built")]

EDGE_TABLE = """CREATE TABLE t_edge (id INT PRIMARY KEY, da DATE, dt DATETIME(2), ts TIMESTAMP(3) NULL, t TIME(4),
  t1 TIME(1), d DECIMAL(20,6), d0 DECIMAL(3,0), d9 DECIMAL(30,9), f FLOAT, e ENUM('a','b'), s SET('x','y'),
  j JSON, y YEAR, b BIT(7), vb VARBINARY(10), bn BINARY(4), c CHAR(3) CHARACTER SET latin1, u TINYINT UNSIGNED)"""
EDGE_ROWS = [
    "(1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '-00:00:00.0001', '-00:00:00.1', "
    "'-0.000001', '-0', '-123456789012345678901.123456789', 3.4e38, '', '', "
    "JSON_OBJECT('k', REPEAT('x', 70000), 'n', 100000, 'm', -100000, 'u', 4294967295, 'arr', JSON_ARRAY(1, 'two')),"
    " 0, b'1010101', '', 'ab', 'é', 255)",
    "(2, '2024-00-15', '2024-02-00 10:00:00.5', '1970-01-01 00:00:01.001', '-838:59:59', '838:59:58.9', "
    "'99999999999999.999999', '999', '0.000000001', -1.17549e-38, 'b', 'x,y', "
    "JSON_OBJECT('dec', CAST(1.5 AS JSON), 'when', CAST(CAST('2024-01-01' AS DATE) AS JSON), "
    "'i64', -9223372036854775808, 'u64', 18446744073709551615, 'f', 2.5e-300, 'é ключ', REPEAT('ü', 200), "
    "'lits', JSON_ARRAY(true, false, NULL), 'deep', JSON_ARRAY(JSON_ARRAY(JSON_OBJECT('a', JSON_ARRAY())))), "
    "2155, b'0', '\\0', '\\0\\0', '', 0)",
    "(3, '9999-12-31', '9999-12-31 23:59:59.99', '2038-01-19 03:14:07.999', '00:00:00', '-00:00:01.5', "
    "'0', '-1', '-0.5', 16777217, 'a', 'y', CAST('null' AS JSON), 1901, b'1111111', 'x', 'abcd', 'abc', 1)",
    "(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, CAST('[1, 2.5, \"s\"]' AS JSON), NULL, "
    "NULL, NULL, NULL, NULL, NULL)",
]

MARIADB_JSON = {"CAST(CAST('2024-01-01' AS DATE) AS JSON)": "'2024-01-01'", "CAST(1.5 AS JSON)": "1.5",
                "CAST('null' AS JSON)": "'null'", "CAST('[1, 2.5, \"s\"]' AS JSON)": "'[1, 2.5, \"s\"]'"}


def _write_edges(conn: Any, mariadb: bool) -> None:
    with conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute("SET SESSION time_zone = '+00:00'")
        cur.execute(EDGE_TABLE.replace(" j JSON,", " j LONGTEXT,") if mariadb else EDGE_TABLE)
        for row in EDGE_ROWS:
            if mariadb:  # no JSON type: the documents as text
                for cast, text in MARIADB_JSON.items():
                    row = row.replace(cast, text)
            cur.execute(f"INSERT INTO t_edge VALUES {row}")
        cur.execute("UPDATE t_edge SET f = f / 3, d = d - 1, t = '-01:02:03.0405', j = JSON_ARRAY(id) WHERE id < 3")
        cur.execute("DELETE FROM t_edge WHERE id = 3")


def _write_old_temporal(server: Any, conn: Any) -> None:
    """MariaDB with mysql56_temporal_format=OFF: tables created then keep the pre-5.6 TIME/DATETIME/TIMESTAMP."""
    with conn.cursor() as cur:
        cur.execute("SELECT @@global.mysql56_temporal_format")
        saved = cur.fetchone()[0]
        cur.execute("SET GLOBAL mysql56_temporal_format = OFF")
        try:
            cur.execute("CREATE TABLE t_old (id INT PRIMARY KEY, t TIME, dt DATETIME, ts TIMESTAMP NULL)")
        finally:
            cur.execute("SET GLOBAL mysql56_temporal_format = %s", (saved,))
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute("INSERT INTO t_old VALUES (1, '-838:59:59', '9999-12-31 23:59:59', '2038-01-19 03:14:07'), "
                    "(2, '12:00:01', '0000-00-00 00:00:00', '0000-00-00 00:00:00'), (3, NULL, '2024-00-01 10:00:00', "
                    "NULL), (4, '-00:00:01', '1000-01-01 00:00:00', '1970-01-01 00:00:01')")


@pytest.fixture
def files(server: Any, db: str) -> list[Path]:
    mariadb = server.flavor == "mariadb"

    def write_more(conn: Any) -> None:
        write_library_unreadable(conn, server.flavor)
        _write_edges(conn, mariadb)
        if mariadb:
            _write_old_temporal(server, conn)

    return [workload_file(server, db, write_more)]


def _decode(paths: list[Path], enabled: bool) -> tuple[list[EventRecord], EventDecoder]:
    saved = native.ENABLED
    native.ENABLED = enabled
    try:
        decoder = EventDecoder()
        return [rec for raw in LocalBinlogSource(paths) for rec in decoder.decode(raw)], decoder
    finally:
        native.ENABLED = saved


def _images(records: list[EventRecord]) -> list[tuple[Any, ...]]:
    """Per row change: its fields in order (the C reader makes RowChanges itself), the images by repr."""
    return [(r.start_pos, r.table, list(vars(c)), repr(c), [type(v) for v in (c.after or {}).values()])
            for r in records for c in r.rows]


class _Counting:
    """The extension, counting the rows events its reader decoded (a result) and handed back (None)."""

    def __init__(self, module: Any) -> None:
        self.module, self.compile, self.results = module, module.compile, []

    def images(self, *args: Any) -> Any:
        out = self.module.images(*args)
        self.results.append(out is not None)
        return out


def test_c_reader_gives_the_python_plans_values(server: Any, files: list[Path], monkeypatch: Any) -> None:
    counting = _Counting(native.rowimage)
    monkeypatch.setattr(native, "rowimage", counting)
    c_records, c_decoder = _decode(files, True)
    assert len(counting.results) > 100 and all(counting.results)  # no event handed back to the Python plan
    monkeypatch.undo()
    py_records, _ = _decode(files, False)
    mine, theirs = _images(c_records), _images(py_records)
    assert len(mine) > 150
    for a, b in zip(mine, theirs, strict=True):
        assert a == b
    assert [c for r in c_records for c in r.rows] == [c for r in py_records for c in r.rows]
    monkeypatch.setattr(rows, "_NATIVE_CHANGES", False)  # images from C, RowChanges made in Python
    assert _images(_decode(files, True)[0]) == theirs
    tables = {t.table: t for t in c_decoder.tables.values()}
    expected = {"t_types", "t_edge", "t_wide", "t_all"} | ({"t_old"} if server.flavor == "mariadb" else {"t_vec"})
    assert expected <= set(tables)
    for name in expected:  # every table of the workload was read by the C plan
        assert plan_for(tables[name], server.flavor == "mariadb").native is not None, name
    edge = [c.after for r in c_records if r.table == "t_edge" for c in r.rows if c.op == "insert"]
    assert edge[0]["da"] == "0000-00-00" and edge[1]["da"] == "2024-00-15"  # fallbacks taken
    assert edge[0]["f"] == 3.4e38 and edge[2]["f"] == 16777216.0


def test_truncated_events_fail_as_in_python(server: Any, files: list[Path]) -> None:
    """A rows event cut short: the C reader hands the event back, and the Python plan's error is the one raised."""
    decoder = EventDecoder()
    cut = 0
    for raw in LocalBinlogSource(files):
        records = decoder.decode(raw)
        if raw.type_code not in (30, 31, 32, 23, 24, 25) or not any(r.table == "t_types" for r in records):
            continue
        body = bytes(raw.body)
        post = decoder.fde.post_header(raw.type_code) or (10 if raw.type_code >= 30 else 8)
        tmap = decoder.tables[int.from_bytes(body[0:6], "little")]
        for size in (len(body) - 1, len(body) // 2):
            errors = []
            for enabled in (True, False):
                native.ENABLED = enabled
                try:
                    decode_rows(body[:size], raw.type_code, post, tmap, decoder.mariadb)
                except (DataError, ValueError) as exc:
                    errors.append(repr(exc))
                else:
                    errors.append("decoded")
                finally:
                    native.ENABLED = native.rowimage is not None
            assert errors[0] == errors[1]
            cut += 1
    assert cut > 10


def _outcome(body: bytes, type_code: int, post: int, tmap: Any, mariadb: bool, enabled: bool) -> Any:
    """The row changes by repr, or the class of the error raised (what both readers must agree on)."""
    native.ENABLED = enabled
    try:
        return [repr(c) for c in decode_rows(body, type_code, post, tmap, mariadb)]
    except Exception as exc:  # any error class, as long as both readers raise the same one
        return type(exc)
    finally:
        native.ENABLED = native.rowimage is not None


def _mutations(body: bytes, rows_at: int, rng: random.Random) -> list[bytes]:
    """Damaged copies of a rows event body: bytes of its images overwritten (random or 0x00/0xFF/0x80, which hit
    length prefixes, NULL bitmaps, JSON counts and offsets), cut short, or with bytes inserted."""
    out = []
    for _ in range(12):
        data = bytearray(body)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(rows_at, len(data))
            data[at] = rng.choice((rng.randrange(256), 0, 0xFF, 0x80, 0x7F))
        out.append(bytes(data))
    out.append(body[: rng.randrange(rows_at, len(body))])
    at = rng.randrange(rows_at, len(body))
    out.append(body[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + body[at:])
    return out


def test_mutated_events_decode_as_in_python(server: Any, files: list[Path]) -> None:
    """Rows event bodies damaged at random go through the C reader without crashing or reading out of bounds: it
    gives the Python plan's values or hands the event back, so the same error class is raised."""
    rng = random.Random(20261203)
    decoder = EventDecoder()
    mariadb = server.flavor == "mariadb"
    checked = 0
    for raw in LocalBinlogSource(files):
        records = decoder.decode(raw)
        if raw.type_code not in (30, 31, 32, 23, 24, 25) or not records or not records[0].rows:
            continue
        body = bytes(raw.body)
        post = decoder.fde.post_header(raw.type_code) or (10 if raw.type_code >= 30 else 8)
        tmap = decoder.tables[int.from_bytes(body[0:6], "little")]
        rows_at = parse_rows_header(body, raw.type_code, post).rows_at
        if rows_at >= len(body):
            continue
        for damaged in _mutations(body, rows_at, rng):
            mine = _outcome(damaged, raw.type_code, post, tmap, mariadb, True)
            theirs = _outcome(damaged, raw.type_code, post, tmap, mariadb, False)
            assert mine == theirs, (tmap.table, damaged.hex())
            checked += 1
    assert checked > 1000
