"""The MySQL 8.0.30+ record walk reads every record type a varied write load logs, as the server's recovery does.

A dedicated MySQL server with a small redo log runs, in parallel, inserts/updates/deletes on a ROW_FORMAT=COMPRESSED
table with a secondary index and BLOBs (MLOG_ZIP_*), a REDUNDANT table, a table with instantly added and dropped
columns (versioned index logging), a spatial index (R-tree pages), a FULLTEXT index, CREATE/RENAME/DROP TABLE
(MLOG_FILE_*), OPTIMIZE TABLE and AUTO_INCREMENT (MLOG_TABLE_DYNAMIC_META), plus the common write load; then
kill -9. On a copy, the walk from the checkpoint must reach the end of the valid log through whole
mini-transactions (each checked against its block's first_rec_group), the same when the stream is read a few
blocks at a time, and start where the server says it starts parsing when it recovers from the original.
"""

from __future__ import annotations

import random
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pymysql
import pytest

from mysqlinspect.redo.mysql.stream import BlockSource, LogStream, read_stream
from mysqlinspect.redo.mysql.walk import walk_mysql_mtrs
from mysqlinspect.redo.recovery import block_layout_for, preview_recovery
from mysqlinspect.sandbox.server import SandboxServer
from tests.servers import Writer, create_database, wait_for

pytestmark = [pytest.mark.live, pytest.mark.dedicated]

PARSE_START = re.compile(r"Starting to parse redo log at lsn = (\d+), whereas checkpoint_lsn = (\d+)")
SCHEMA = [
    "CREATE DATABASE s",
    "CREATE TABLE s.c (id INT PRIMARY KEY AUTO_INCREMENT, a INT, b BLOB, KEY(a))"
    " ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=4",
    "CREATE TABLE s.r (id INT PRIMARY KEY, a VARCHAR(100), KEY(a)) ROW_FORMAT=REDUNDANT",
    "CREATE TABLE s.i (id INT PRIMARY KEY, a INT)",
    "INSERT INTO s.i VALUES (1, 1), (2, 2), (3, 3)",
    "ALTER TABLE s.i ADD COLUMN z INT DEFAULT 5, ALGORITHM=INSTANT",
    "ALTER TABLE s.i ADD COLUMN y VARCHAR(10) DEFAULT 'q' FIRST, ALGORITHM=INSTANT",
    "ALTER TABLE s.i DROP COLUMN a, ALGORITHM=INSTANT",
    "CREATE TABLE s.g (id INT PRIMARY KEY, p GEOMETRY NOT NULL SRID 0, SPATIAL KEY(p))",
    "CREATE TABLE s.f (id INT PRIMARY KEY, t TEXT, FULLTEXT KEY(t))",
]


def varied_load(server: SandboxServer, stop: threading.Event, k: int, rounds: list[int]) -> None:
    rnd = random.Random(k)
    conn = server.connect()
    conn.autocommit(True)
    n = 0
    try:
        with conn.cursor() as cur:
            while not stop.is_set():
                n += 1
                try:
                    one_round(cur, rnd, k, n)
                except pymysql.err.MySQLError as exc:
                    if exc.args[0] not in (1205, 1213):  # a lock wait timeout or deadlock between the loads
                        return  # the kill
                rounds[k] = n
    finally:
        conn.close()


def one_round(cur: pymysql.cursors.Cursor, rnd: random.Random, k: int, n: int) -> None:
    cur.execute("INSERT INTO s.c (a, b) VALUES (%s, REPEAT('b', %s))",
                (rnd.randint(0, 999), rnd.randint(1, 9000)))
    cur.execute("UPDATE s.c SET a = a + 1 WHERE id = %s", (rnd.randint(1, n),))
    cur.execute("REPLACE INTO s.r VALUES (%s, REPEAT('r', %s))", (rnd.randint(0, 500), rnd.randint(1, 90)))
    cur.execute("INSERT INTO s.i (id, z, y) VALUES (%s, 1, 'x') ON DUPLICATE KEY UPDATE z = z + 1",
                (rnd.randint(4, 900),))
    cur.execute("INSERT INTO s.g VALUES (%s, POINT(%s, %s)) ON DUPLICATE KEY UPDATE p = POINT(1, 2)",
                (rnd.randint(0, 900), rnd.random(), rnd.random()))
    cur.execute("REPLACE INTO s.f VALUES (%s, %s)", (rnd.randint(0, 300), f"word{rnd.randint(0, 99)} x"))
    if n % 40 == 0:
        cur.execute("INSERT INTO s.c (a, b) SELECT a, b FROM s.c ORDER BY id DESC LIMIT 60")
        cur.execute("DELETE FROM s.r WHERE id < %s", (rnd.randint(0, 200),))
        cur.execute("DELETE FROM s.g WHERE id < %s", (rnd.randint(0, 300),))
        cur.execute("DELETE FROM s.c ORDER BY id LIMIT 20")
    if n % 97 == 0:
        cur.execute(f"CREATE TABLE s.t{k}_{n} (id INT PRIMARY KEY)")
        cur.execute(f"RENAME TABLE s.t{k}_{n} TO s.u{k}_{n}")
        cur.execute(f"DROP TABLE s.u{k}_{n}")
    if n % 131 == 0:
        cur.execute("OPTIMIZE TABLE s.r")


def test_walk_reads_a_varied_load_to_the_end_of_the_log(make_server: Callable[..., SandboxServer],
                                                         tmp_path: Path) -> None:
    server = make_server("mysql", extra_args=["--innodb-redo-log-capacity=8M"])
    conn = server.connect()
    with conn.cursor() as cur:
        for statement in SCHEMA:
            cur.execute(statement)
    conn.close()
    stop, rounds = threading.Event(), [0, 0, 0]
    loads = [threading.Thread(target=varied_load, args=(server, stop, k, rounds), daemon=True) for k in range(3)]
    writer = Writer(server, create_database(server), rows_per_txn=30, payload_bytes=800).start()
    for load in loads:
        load.start()
    wait_for(lambda: sum(rounds) >= 400, timeout=240, interval=0.2)
    server.kill()
    stop.set()
    writer.stop()
    for load in loads:
        load.join()
    copy = tmp_path / "copy"
    shutil.copytree(server.datadir, copy)

    preview = preview_recovery(copy)
    assert preview.ok and preview.checkpoint is not None and preview.end_lsn is not None, preview.problems
    holder = next(f for f in preview.file_set.files if f.path == preview.checkpoint.path)
    stream = read_stream(block_layout_for(preview.file_set, holder, preview.checkpoint), preview.checkpoint.lsn,
                         preview.end_lsn)
    types: set[int] = set()
    walk = walk_mysql_mtrs(stream, preview.checkpoint.lsn, lambda _data, rec, _start, _end: types.add(rec.type))
    assert walk.complete, walk.note
    assert walk.mtrs > 100, (walk, sorted(types))
    assert preview.end_lsn - walk.recovered_lsn < 64 * 1024  # at most an mtr cut by the kill is left
    source = BlockSource(block_layout_for(preview.file_set, holder, preview.checkpoint), preview.checkpoint.lsn,
                         preview.end_lsn, chunk_bytes=4096)  # a window sliding over 8 blocks at a time
    windowed = walk_mysql_mtrs(LogStream(b"", source.first_block_lsn), preview.checkpoint.lsn,
                               lambda *_: None, source)
    source.close()
    assert (windowed.parse_start_lsn, windowed.recovered_lsn, windowed.mtrs, windowed.records, windowed.stop) == (
        walk.parse_start_lsn, walk.recovered_lsn, walk.mtrs, walk.records, walk.stop)

    before = len(server.error_log_text())
    server.start()
    found = PARSE_START.findall(server.error_log_text()[before:])
    assert found, server.error_log_text()[before:][-3000:]
    assert (int(found[0][0]), int(found[0][1])) == (walk.parse_start_lsn, preview.checkpoint.lsn)
