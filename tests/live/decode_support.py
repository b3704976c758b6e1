"""Helpers for the own-decoder tests: an every-type workload on top of replay_support's, the binlog files it
lands in, our decoder over those files, and mysql-replication (the reference) over the same range."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mysqlinspect.binlog.decode.events import EventDecoder
from mysqlinspect.binlog.decode.library import fastrows
from mysqlinspect.binlog.decode.values.convert import ZERO_DATETIME
from mysqlinspect.binlog.model import EventRecord
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.server.stream import BinlogStream, StreamOptions
from mysqlinspect.binlog.source.local import LocalBinlogSource
from tests.live.replay_support import binlog_position, create_schema, run_workload

ENUM300 = ",".join(f"'v{i}'" for i in range(300))
SET64 = ",".join(f"'m{i}'" for i in range(64))
TYPES_TABLE = f"""CREATE TABLE {{name}} (id INT PRIMARY KEY, ti TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT UNSIGNED,
  iu INT UNSIGNED, bs BIGINT, d1 DECIMAL(65,30), d2 DECIMAL(10,0), d3 DECIMAL(5,5), d4 DECIMAL(18,9),
  fl FLOAT, du DOUBLE, b1 BIT(1), b64 BIT(64), t0 TIME, t1 TIME(1), t3 TIME(3), t5 TIME(5), t6 TIME(6),
  dt0 DATETIME, dt1 DATETIME(1), dt3 DATETIME(3), dt5 DATETIME(5), ts0 TIMESTAMP NULL, ts2 TIMESTAMP(2) NULL,
  ts6 TIMESTAMP(6) NULL, y YEAR, da DATE, c255 CHAR(255) CHARACTER SET utf8mb4, cl CHAR(10) CHARACTER SET latin1,
  cg VARCHAR(20) CHARACTER SET gbk, cr VARCHAR(20) CHARACTER SET cp1251, cs VARCHAR(20) CHARACTER SET sjis,
  v300 VARCHAR(300) CHARACTER SET latin1, tb TINYBLOB, mb MEDIUMBLOB, lb LONGBLOB, tt TINYTEXT,
  mt MEDIUMTEXT CHARACTER SET latin1, lt LONGTEXT, bn BINARY(3), e2 ENUM({ENUM300}), s8 SET({SET64}), j JSON,
  g POINT, g2 POLYGON, gc GEOMETRYCOLLECTION) ENGINE=InnoDB"""
COMPARED = frozenset({"WriteRowsEvent", "UpdateRowsEvent", "DeleteRowsEvent", "QueryEvent", "GtidEvent",
                      "MariadbGtidEvent", "TaggedGtidEvent", "XidEvent", "TableMapEvent"})
# mysql-replication 1.0.x has no VECTOR (its metadata reader misaligns) and decodes MySQL's big-endian
# utf16/ucs2/utf32 with Python's host-order codecs (garbage, or an exception for utf32 that ends the stream):
# those are written to a file of their own and checked against the values written.
WIDE_TABLE = """CREATE TABLE t_wide (id INT PRIMARY KEY, cu16 VARCHAR(20) CHARACTER SET utf16,
  cucs CHAR(5) CHARACTER SET ucs2, cu32 VARCHAR(10) CHARACTER SET utf32, cle VARCHAR(10) CHARACTER SET utf16le)"""
WIDE_ROWS = [(1, "utf16 😀 é", "ucs2", "u32 ☃ 😀", "le ü"), (2, "", "", "", "")]


_FRESH: dict[int, tuple[str, str]] = {}  # server port -> (file, GTID state) right after a flush by these tests


def _gtid_state(conn: Any) -> str:
    with conn.cursor() as cur:
        try:
            cur.execute("SELECT @@global.gtid_binlog_pos")  # MariaDB
        except Exception:
            cur.execute("SELECT @@global.gtid_executed")
        return str(cur.fetchone()[0])


def flush(conn: Any) -> tuple[str, int]:
    """Close the current binlog; the position where the next one starts. A file these tests just opened and
    no transaction was written to is kept (no empty binlogs on the shared server: `binlog list` expects events;
    the position cannot tell, as MariaDB adds its Binlog_checkpoint event a moment after the flush)."""
    here = binlog_position(conn)
    if _FRESH.get(conn.port) == (here[0], _gtid_state(conn)):
        return here[0], 4
    with conn.cursor() as cur:
        cur.execute("FLUSH BINARY LOGS")
    here = binlog_position(conn)
    _FRESH[conn.port] = (here[0], _gtid_state(conn))
    return here


def _types_row(rnd: random.Random, row_id: int) -> dict[str, Any]:
    base = dt.datetime(1000, 1, 1) + dt.timedelta(seconds=rnd.randint(0, 9000 * 365 * 86400))
    stamp = dt.datetime(1970, 1, 2) + dt.timedelta(seconds=rnd.randint(0, 2_000_000_000))
    sign = rnd.choice(["", "-"])
    whole = f"{sign}{rnd.randint(0, 838):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}"
    time = f"{whole}.{rnd.randint(0, 999999):06d}"
    text = "".join(rnd.choice("abcé日本'\\\"") for _ in range(rnd.randint(0, 12)))
    return {
        "id": row_id, "ti": rnd.choice([0, 255, rnd.randint(0, 255)]), "si": rnd.choice([-32768, 32767, 0]),
        "mi": rnd.choice([0, 16777215, rnd.randint(0, 16777215)]), "iu": rnd.choice([0, 4294967295]),
        "bs": rnd.choice([-2**63, 2**63 - 1, rnd.randint(-2**63, 2**63 - 1)]),
        "d1": f"{rnd.choice(['-', ''])}{rnd.randint(0, 10**35 - 1)}.{rnd.randint(0, 10**30 - 1):030d}",
        "d2": rnd.choice([-9999999999, 9999999999, 0, rnd.randint(-10**9, 10**9)]),
        "d3": rnd.choice(["0.00001", "-0.99999", "0.5"]),
        "d4": f"{rnd.randint(-10**9, 10**9)}.{rnd.randint(0, 10**9 - 1)}",
        "fl": rnd.choice([0.1, -3.4e38, 1e-38, rnd.uniform(-1e9, 1e9)]),
        "du": rnd.choice([5e-324, -1.7976931348623157e308, rnd.random()]),
        "b1": rnd.randint(0, 1), "b64": rnd.choice([0, 2**64 - 1, rnd.randint(0, 2**64 - 1)]),
        "t0": whole, "t1": time, "t3": time, "t5": time, "t6": rnd.choice([time, "-838:59:59", "838:59:59"]),
        "dt0": base.isoformat(sep=" "), "dt1": base.replace(microsecond=rnd.randint(0, 999999)).isoformat(sep=" "),
        "dt3": rnd.choice(["9999-12-31 23:59:59.999", "1000-01-01 00:00:00"]),
        "dt5": base.replace(microsecond=rnd.randint(0, 999999)).isoformat(sep=" "),
        "ts0": stamp.isoformat(sep=" "),
        "ts2": stamp.replace(microsecond=rnd.randint(0, 99) * 10000).isoformat(sep=" "),
        "ts6": rnd.choice([None, stamp.replace(microsecond=rnd.randint(0, 999999)).isoformat(sep=" ")]),
        "y": rnd.choice([1901, 2155, 0]), "da": rnd.choice(["1000-01-01", "9999-12-31", base.date().isoformat()]),
        "c255": "ü" * rnd.randint(0, 255), "cl": "é" * rnd.randint(0, 10), "cg": "中文" + text[:4],
        "cr": "Привет", "cs": "日本語",
        "v300": "x" * rnd.randint(250, 300), "tb": bytes(rnd.randint(0, 255) for _ in range(rnd.randint(0, 255))),
        "mb": b"\x00" * rnd.randint(0, 70000), "lb": rnd.choice([None, b"", bytes(range(256))]), "tt": text,
        "mt": "latin1 text é" * rnd.randint(0, 30), "lt": text * 100, "bn": rnd.choice([b"\x01", b"", b"\x00\x01\x02"]),
        "e2": f"v{rnd.randint(0, 299)}", "s8": rnd.choice(["", "m0", "m63", "m0,m5,m63"]),
        "j": rnd.choice(['{"a": [1, 2, {"b": null}], "n": -1.5e300, "s": "é"}', '[]', '"x"', "1",
                         '{"big": [' + ",".join(str(i) for i in range(20000)) + "]}", "true", "null"]),
        "g": f"POINT({rnd.uniform(-90, 90)} {rnd.uniform(-90, 90)})", "g2": "POLYGON((0 0,10 0,10 10,0 10,0 0))",
        "gc": "GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))",
    }


def _assign(values: dict[str, Any]) -> tuple[str, list[Any]]:
    parts, args = [], []
    for name, value in values.items():
        if name in ("g", "g2", "gc") and value is not None:
            parts.append(f"`{name}` = ST_GeomFromText(%s)")
        elif name in ("b1", "b64"):
            parts.append(f"`{name}` = CAST(%s AS UNSIGNED)")
        else:
            parts.append(f"`{name}` = %s")
        args.append(value)
    return ", ".join(parts), args


def write_types_rows(conn: Any, table: str, seed: int = 5, rows: int = 12, first_id: int = 0) -> None:
    """Inserts, updates and deletes over every column type of TYPES_TABLE (plus one all-NULL row), with ids
    first_id .. first_id + rows."""
    rnd = random.Random(seed)
    ids = [first_id + i for i in range(1, rows + 1)]
    with conn.cursor() as cur:
        cur.execute("SET SESSION time_zone = '+00:00'")
        cur.execute(f"INSERT INTO {table} (id) VALUES (%s)", (first_id,))
        for i in ids:
            sql, args = _assign(_types_row(rnd, i))
            cur.execute(f"INSERT INTO {table} SET {sql}", args)
        for i in ids[::3]:
            values = _types_row(rnd, i)
            chosen = dict(rnd.sample(sorted(v for v in values.items() if v[0] != "id"), 6))
            sql, args = _assign(chosen)
            cur.execute(f"UPDATE {table} SET {sql} WHERE id = %s", [*args, i])
        cur.execute(f"DELETE FROM {table} WHERE id IN (%s, %s, %s)", (first_id, first_id + 2, first_id + 5))


def write_everything(conn: Any, db: str, flavor: str) -> None:
    """The all-types workloads: replay_support's random one, every type above, MINIMAL and NOBLOB images;
    MySQL also compressed transactions (TRANSACTION_PAYLOAD), a tagged GTID and VECTOR columns."""
    run_workload(conn, db, seed=11, transactions=40, flavor=flavor)
    write_types_rows(conn, "t_types")
    with conn.cursor() as cur:
        for image in ("MINIMAL", "NOBLOB"):
            cur.execute(f"SET SESSION binlog_row_image = '{image}'")
            cur.execute("UPDATE t_types SET si = si - 1, tt = 'image' WHERE id IN (1, 3, 4)")
            cur.execute("UPDATE t_nokey SET b = 'img' LIMIT 2")
            cur.execute("UPDATE t_all SET i = 7 LIMIT 3")
            cur.execute("DELETE FROM t_types WHERE id = 4")
            cur.execute("INSERT INTO t_types (id, tt) VALUES (40, 'minimal insert')")
            cur.execute("DELETE FROM t_types WHERE id = 40")
        cur.execute("SET SESSION binlog_row_image = 'FULL'")
        if flavor == "mysql":
            cur.execute("SET SESSION binlog_transaction_compression = ON")
            write_types_rows(conn, "t_types", seed=6, rows=4, first_id=100)
            cur.execute("UPDATE t_all SET vc = 'compressed' LIMIT 5")
            cur.execute("SET SESSION binlog_transaction_compression = OFF")
            cur.execute("SET gtid_next = 'AUTOMATIC:decoder_tag'")
            cur.execute("UPDATE t_comp SET w = 'tagged' LIMIT 2")
            cur.execute("SET gtid_next = 'AUTOMATIC'")


def write_library_unreadable(conn: Any, flavor: str) -> None:
    """Types mysql-replication cannot read (it fails on the whole stream): wide charsets, MySQL VECTOR."""
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO t_wide VALUES (%s, %s, %s, %s, %s)", WIDE_ROWS)
        if flavor == "mysql":
            cur.execute("CREATE TABLE t_vec (id INT PRIMARY KEY, v VECTOR(3), w VECTOR(2) NULL)")
            cur.execute("INSERT INTO t_vec VALUES (1, STRING_TO_VECTOR('[1.5, -2, 0.1]'), NULL), "
                        "(2, STRING_TO_VECTOR('[3.25e10, -1.5e-3, 0]'), STRING_TO_VECTOR('[7, 8]'))")


def prepare(conn: Any, db: str, flavor: str) -> None:
    create_schema(conn, db, flavor)
    with conn.cursor() as cur:
        cur.execute(TYPES_TABLE.format(name="t_types"))
        cur.execute(WIDE_TABLE)


def workload_file(server: Any, db: str, write_more: Callable[[Any], None] | None = None) -> Path:
    """A closed binlog file holding only the every-type workload (written into `db`), then what `write_more`
    writes on the same connection."""
    conn = server.connect(db)
    try:
        prepare(conn, db, server.flavor)
        first = flush(conn)
        with conn.cursor() as cur:
            cur.execute(f"USE `{db}`")
        write_everything(conn, db, server.flavor)
        if write_more is not None:
            write_more(conn)
        flush(conn)
    finally:
        conn.close()
    return binlog_path(server, first[0])


def binlog_path(server: Any, name: str) -> Path:
    return Path(server.datadir) / name


def decode_files(paths: list[Path], verify: bool = True) -> tuple[list[EventRecord], LocalBinlogSource]:
    source = LocalBinlogSource(paths, verify_checksum=verify)
    decoder = EventDecoder()
    records = [rec for raw in source for rec in decoder.decode(raw)]
    return records, source


def library_records(server: Any, file: str) -> list[EventRecord]:
    """mysql-replication's own decoding (fastrows off) of one whole binlog file, through the server."""
    fastrows.ENABLED = False
    try:
        options = StreamOptions(read_timeout=None, decoder="library")
        with BinlogStream(server.settings(), BinlogPosition(file, 4), options=options) as s:
            return [r for r in s.events() if r.file == file]
    finally:
        fastrows.ENABLED = True


_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


_BINARY_TYPES = frozenset({"blob", "varbinary", "binary", "geometry"})


def _library_value(value: Any, type_name: str) -> Any:
    """The library's known slips, put right: the zero TIMESTAMP (0 seconds) read as 1970-01-01 00:00:00 UTC
    (it is 0000-00-00 00:00:00); an empty binary string returned as '' (str) instead of b''."""
    if value == _EPOCH_UTC:
        return ZERO_DATETIME
    if value == "" and type_name in _BINARY_TYPES:
        return b""
    return value


def comparable(records: list[EventRecord], library: bool = False) -> list[tuple[Any, ...]]:
    def row(values: dict[str, Any] | None, types: dict[str, str]) -> Any:
        if values is None:
            return None
        return {k: _library_value(v, types[k]) for k, v in values.items()} if library else values

    out = []
    for r in records:
        if r.event_type not in COMPARED:
            continue
        rows = []
        for c in r.rows:
            types = {i.name: i.type_name for i in c.columns}
            rows.append((c.op, list(types.items()), c.primary_key, row(c.before, types), row(c.after, types)))
        out.append((r.start_pos, r.end_pos, r.event_type, r.op, r.gtid, r.xid, r.schema, r.table, r.query,
                    r.compressed, rows))
    return out


def assert_same(mine: list[tuple[Any, ...]], theirs: list[tuple[Any, ...]]) -> None:
    """comparable() lists equal, failing on the first differing event with the differing values."""
    for a, b in zip(mine, theirs, strict=False):
        assert a[:-1] == b[:-1]
        assert len(a[-1]) == len(b[-1]), a[:-1]
        for row_a, row_b in zip(a[-1], b[-1], strict=True):
            assert row_a[:3] == row_b[:3], a[:-1]
            for image_a, image_b in zip(row_a[3:], row_b[3:], strict=True):
                diff = {k: (v, (image_b or {}).get(k)) for k, v in (image_a or {}).items()
                        if v != (image_b or {}).get(k)}
                assert image_a == image_b, (a[:8], diff)
    assert len(mine) == len(theirs)
