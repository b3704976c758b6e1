"""Helpers for the replay/flashback tests and benchmark: an all-types schema, a seeded random workload, ordered
table dumps, binlog positions and the reference replay through mysqlbinlog | mysql."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymysql

TABLES = ("t_all", "t_comp", "t_uk", "t_nokey")


def schema_statements(flavor: str) -> list[str]:
    vector = ""
    return [
        "CREATE TABLE t_all (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, ti TINYINT, si SMALLINT UNSIGNED, "
        "mi MEDIUMINT, i INT, bi BIGINT UNSIGNED, dec1 DECIMAL(30,10), f FLOAT, d DOUBLE, b BIT(13), "
        "bn BINARY(6), vb VARBINARY(40), bl BLOB, tx TEXT CHARACTER SET utf8mb4, "
        "vc VARCHAR(60) CHARACTER SET utf8mb4, ch CHAR(8) CHARACTER SET latin1, j JSON, dt6 DATETIME(6), "
        "dt0 DATETIME, da DATE, ts TIMESTAMP(3) NULL DEFAULT NULL, tm TIME(4), y YEAR, "
        "e ENUM('a','b','c d','é'), s SET('x','y','z w'), g GEOMETRY NULL" + vector + ") ENGINE=InnoDB",
        "CREATE TABLE t_comp (a INT NOT NULL, b VARCHAR(20) NOT NULL, v DOUBLE, w VARCHAR(30), "
        "PRIMARY KEY (a, b)) ENGINE=InnoDB",
        "CREATE TABLE t_uk (u INT NOT NULL, v INT, w VARCHAR(20), UNIQUE KEY uk (u)) ENGINE=InnoDB",
        "CREATE TABLE t_nokey (a INT, b VARCHAR(10), f FLOAT) ENGINE=InnoDB",
    ]


def create_schema(conn: pymysql.connections.Connection, db: str, flavor: str) -> None:
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{db}`")
        cur.execute(f"USE `{db}`")
        for sql in schema_statements(flavor):
            cur.execute(sql)


class Workload:
    """A seeded random mix of inserts, updates (key changes included) and deletes over all column types."""

    def __init__(self, conn: pymysql.connections.Connection, db: str, seed: int, flavor: str) -> None:
        self.conn = conn
        self.db = db
        self.rnd = random.Random(seed)
        self.flavor = flavor
        self.next_id = 1
        self.ids: list[int] = []
        self.comp: list[tuple[int, str]] = []
        self.uks: list[int] = []

    # values -------------------------------------------------------------------------------------
    def _text(self, n: int) -> str:
        alphabet = "abcxyz ABC'\"\\\n\t%_éü日本語🍣\x01"
        return "".join(self.rnd.choice(alphabet) for _ in range(self.rnd.randint(0, n)))

    def _float(self) -> float:
        return self.rnd.choice([0.1, 0.3, -0.0, 1e-30, 3.4e38, 123.456, self.rnd.uniform(-1e6, 1e6),
                                self.rnd.random()])

    def _double(self) -> float:
        return self.rnd.choice([0.1, 1 / 3, -2.5e-300, 1.7976931348623157e308, 5e-324,
                                self.rnd.random() * 10 ** self.rnd.randint(-30, 30)])

    def _json(self, depth: int = 0) -> Any:
        kind = self.rnd.randint(0, 6 if depth < 2 else 3)
        if kind == 0:
            return self.rnd.choice([None, True, False])
        if kind == 1:
            return self.rnd.choice([0, -1, 2**53 + 1, self.rnd.randint(-10**9, 10**9)])
        if kind == 2:
            return self.rnd.choice([0.1, 1.5, -2.25e-10, 1e300, self.rnd.random()])
        if kind == 3:
            return self._text(8)
        if kind in (4, 5):
            return [self._json(depth + 1) for _ in range(self.rnd.randint(0, 3))]
        return {f"k{i}{self._text(2)}": self._json(depth + 1) for i in range(self.rnd.randint(0, 3))}

    def _datetime(self, fsp: bool) -> str:
        if self.rnd.random() < 0.1:
            return "0000-00-00 00:00:00"
        base = dt.datetime(1000, 1, 1) + dt.timedelta(seconds=self.rnd.randint(0, 9000 * 365 * 86400))
        micro = self.rnd.randint(0, 999999) if fsp else 0
        return base.replace(microsecond=micro).isoformat(sep=" ")

    def _timestamp(self) -> str | None:
        r = self.rnd.random()
        if r < 0.1:
            return "0000-00-00 00:00:00"
        if r < 0.15:
            return None
        base = dt.datetime(1970, 1, 2) + dt.timedelta(seconds=self.rnd.randint(0, 2_000_000_000))
        return base.replace(microsecond=self.rnd.randint(0, 999) * 1000).isoformat(sep=" ")

    def _time(self) -> str:
        sign = self.rnd.choice(["", "-"])
        return (f"{sign}{self.rnd.randint(0, 838):02d}:{self.rnd.randint(0, 59):02d}:{self.rnd.randint(0, 59):02d}"
                f".{self.rnd.randint(0, 9999):04d}")

    def all_values(self) -> dict[str, Any]:
        import json

        r = self.rnd
        return {
            "ti": r.randint(-128, 127), "si": r.randint(0, 65535), "mi": r.randint(-8388608, 8388607),
            "i": r.choice([None, r.randint(-2**31, 2**31 - 1)]),
            "bi": r.choice([0, 2**64 - 1, r.randint(0, 2**64 - 1)]),
            "dec1": Decimal(f"{r.randint(-10**19, 10**19)}.{r.randint(0, 10**10 - 1):010d}"),
            "f": self._float(), "d": self._double(), "b": r.randint(0, 8191),
            "bn": bytes(r.randint(0, 255) for _ in range(6)),
            "vb": bytes(r.randint(0, 255) for _ in range(r.randint(0, 40))),
            "bl": r.choice([None, b"", bytes(r.randint(0, 255) for _ in range(r.randint(1, 300)))]),
            "tx": self._text(80), "vc": self._text(40), "ch": "".join(r.choice("abé'") for _ in range(r.randint(0, 8))),
            "j": json.dumps(self._json()), "dt6": self._datetime(True), "dt0": self._datetime(False),
            "da": r.choice(["0000-00-00", f"{r.randint(1000, 9999)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"]),
            "ts": self._timestamp(), "tm": self._time(), "y": r.choice([0, 1901, 2155, r.randint(1901, 2155)]),
            "e": r.choice(["a", "b", "c d", "é", None]), "s": r.choice(["", "x", "y,x", "z w,x,y", None]),
            "g": r.choice([None, f"POINT({r.uniform(-90, 90)} {r.uniform(-90, 90)})",
                           f"LINESTRING(0 0, {r.random()} {r.random()}, 1 1)"]),
        }

    # statements ---------------------------------------------------------------------------------------
    def _assign(self, values: dict[str, Any]) -> tuple[str, list[Any]]:
        parts, args = [], []
        for name, value in values.items():
            if name == "g" and value is not None:
                parts.append(f"`{name}` = ST_GeomFromText(%s)")
            elif name == "b" and value is not None:
                parts.append(f"`{name}` = CAST(%s AS UNSIGNED)")
            else:
                parts.append(f"`{name}` = %s")
            args.append(value)
        return ", ".join(parts), args

    def insert_all(self, cur: Any) -> None:
        values = self.all_values()
        row_id = self.next_id
        self.next_id += 1
        if self.rnd.random() < 0.02:
            row_id = 0 if 0 not in self.ids else row_id  # id 0 needs NO_AUTO_VALUE_ON_ZERO on replay
        sql, args = self._assign({"id": row_id, **values})
        cur.execute(f"INSERT INTO t_all SET {sql}", args)
        self.ids.append(row_id)

    def update_all(self, cur: Any) -> None:
        if not self.ids:
            return self.insert_all(cur)
        row_id = self.rnd.choice(self.ids)
        values = self.all_values()
        chosen = dict(self.rnd.sample(sorted(values.items()), self.rnd.randint(1, 5)))
        if self.rnd.random() < 0.1:
            new_id = self.next_id
            self.next_id += 1
            chosen["id"] = new_id
            self.ids[self.ids.index(row_id)] = new_id
        sql, args = self._assign(chosen)
        cur.execute(f"UPDATE t_all SET {sql} WHERE id = %s", [*args, row_id])

    def delete_all(self, cur: Any) -> None:
        if self.ids:
            row_id = self.ids.pop(self.rnd.randrange(len(self.ids)))
            cur.execute("DELETE FROM t_all WHERE id = %s", (row_id,))

    def comp_op(self, cur: Any) -> None:
        r = self.rnd
        if not self.comp or r.random() < 0.5:
            key = (r.randint(1, 50), self._text(6).replace("\x01", "") or "k")
            if key in self.comp:
                return
            cur.execute("INSERT INTO t_comp VALUES (%s, %s, %s, %s)", (*key, self._double(), self._text(20)))
            self.comp.append(key)
        elif r.random() < 0.6:
            key = r.choice(self.comp)
            new_b = key[1] if r.random() < 0.7 else key[1] + "+"
            if new_b != key[1] and (key[0], new_b) in self.comp:
                return
            cur.execute("UPDATE t_comp SET b = %s, v = %s WHERE a = %s AND b = %s", (new_b, self._double(), *key))
            self.comp[self.comp.index(key)] = (key[0], new_b)
        else:
            key = self.comp.pop(r.randrange(len(self.comp)))
            cur.execute("DELETE FROM t_comp WHERE a = %s AND b = %s", key)

    def uk_op(self, cur: Any) -> None:
        r = self.rnd
        if not self.uks or r.random() < 0.5:
            u = r.randint(1, 10**6)
            if u not in self.uks:
                cur.execute("INSERT INTO t_uk VALUES (%s, %s, %s)", (u, r.randint(0, 100), self._text(10)))
                self.uks.append(u)
        elif r.random() < 0.6:
            u = r.choice(self.uks)
            cur.execute("UPDATE t_uk SET v = v + 1, w = %s WHERE u = %s", (self._text(10), u))
        else:
            u = self.uks.pop(r.randrange(len(self.uks)))
            cur.execute("DELETE FROM t_uk WHERE u = %s", (u,))

    def nokey_op(self, cur: Any) -> None:
        r = self.rnd
        choice = r.random()
        if choice < 0.5:
            cur.execute("INSERT INTO t_nokey VALUES (%s, %s, %s)", (r.randint(0, 5), r.choice(["p", "q", None]),
                                                                     r.choice([0.1, 0.3, 2.5])))
        elif choice < 0.8:
            cur.execute("UPDATE t_nokey SET f = %s WHERE a = %s LIMIT 1", (self._float(), r.randint(0, 5)))
        else:
            cur.execute("DELETE FROM t_nokey WHERE a = %s LIMIT 1", (r.randint(0, 5),))

    def run(self, transactions: int) -> None:
        ops = [self.insert_all] * 4 + [self.update_all] * 3 + [self.delete_all, self.comp_op, self.comp_op,
                                                                self.uk_op, self.nokey_op]
        with self.conn.cursor() as cur:
            cur.execute(f"USE `{self.db}`")
            cur.execute("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'")
            cur.execute("SET SESSION time_zone = '+05:30'")
            for _ in range(transactions):
                cur.execute("BEGIN")
                for _ in range(self.rnd.randint(1, 5)):
                    self.rnd.choice(ops)(cur)
                cur.execute("COMMIT")


def run_workload(conn: pymysql.connections.Connection, db: str, seed: int, transactions: int,
                 flavor: str) -> Workload:
    workload = Workload(conn, db, seed, flavor)
    workload.run(transactions)
    return workload


def table_dump(conn: pymysql.connections.Connection, db: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table ordered by all its columns, read with a UTC session (exact text of every value)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with conn.cursor() as cur:
        cur.execute("SET SESSION time_zone = '+00:00'")
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s ORDER BY 1", (db,))
        for (table,) in cur.fetchall():
            cur.execute("SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                        "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION", (db, table))
            cols = cur.fetchall()
            select = ", ".join(f"HEX(ST_AsBinary(`{c}`))" if t in ("geometry", "point", "linestring") else
                               f"CAST(`{c}` AS CHAR)" if t in ("float", "double") else f"`{c}`" for c, t in cols)
            order = ", ".join(str(i + 1) for i in range(len(cols)))
            cur.execute(f"SELECT {select} FROM `{db}`.`{table}` ORDER BY {order}")
            out[str(table)] = [tuple(row) for row in cur.fetchall()]
    return out


def binlog_position(conn: pymysql.connections.Connection) -> tuple[str, int]:
    for statement in ("SHOW BINARY LOG STATUS", "SHOW MASTER STATUS"):
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                row = cur.fetchone()
            return str(row[0]), int(row[1])
        except pymysql.err.MySQLError:
            continue
    raise AssertionError("no binlog position")


def binlog_files_between(conn: pymysql.connections.Connection, first: str, last: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SHOW BINARY LOGS")
        names = [str(r[0]) for r in cur.fetchall()]
    return [n for n in names if first <= n <= last]


def reference_replay(server: Any, conn: pymysql.connections.Connection, start: tuple[str, int],
                     stop: tuple[str, int], src: str, dst: str) -> None:
    """mysqlbinlog --read-from-remote-server ... | mysql, rewriting src to dst (the reference tools)."""
    files = binlog_files_between(conn, start[0], stop[0])
    if server.flavor == "mariadb":  # mariadb-binlog filters on the original name, mysqlbinlog on the rewritten one
        binlog_tool, client = ["mariadb-binlog"], ["mariadb"]
        rewrite = [f"--rewrite-db={src}->{dst}", f"--database={src}"]
    else:
        binlog_tool, client = server.program("mysqlbinlog"), server.program("mysql")
        rewrite = [f"--rewrite-db={src}->{dst}", f"--database={dst}", "--skip-gtids"]
    conn_args = ["--host=127.0.0.1", f"--port={server.port}", "--user=root"]
    dump = subprocess.run(
        [*binlog_tool, "--no-defaults", "--read-from-remote-server", *conn_args, f"--start-position={start[1]}",
         f"--stop-position={stop[1]}", *rewrite, *files],
        capture_output=True, check=True, timeout=300)
    subprocess.run([*client, "--no-defaults", *conn_args, "--binary-mode"], input=dump.stdout,
                   capture_output=True, check=True, timeout=300)


LOGGED_TRANSACTIONS = 300


def run_logged_workload(conn: Any, db: str, flavor: str) -> None:
    """Each transaction also inserts its number into a keyless table: applied twice -> a duplicate row."""
    workload = Workload(conn, db, seed=5, flavor=flavor)
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")
        cur.execute("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'")
        for n in range(LOGGED_TRANSACTIONS):
            cur.execute("BEGIN")
            cur.execute("INSERT INTO t_log VALUES (%s)", (n,))
            for _ in range(workload.rnd.randint(1, 3)):
                workload.rnd.choice([workload.insert_all, workload.update_all, workload.comp_op, workload.uk_op])(cur)
            cur.execute("COMMIT")


def logged_range(conn: Any, db: str, dst: str, flavor: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """Schemas (with the t_log table) in `db` and `dst`, then the logged workload on `db`: its (start, stop)."""
    for name in (db, dst):
        create_schema(conn, name, flavor)
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE `{name}`.t_log (n INT)")
    start = binlog_position(conn)
    run_logged_workload(conn, db, flavor)
    return start, binlog_position(conn)


def kill_during_runs(argv: list[str], delays: Iterable[float], checkpoint: Path | None = None,
                     progress: Callable[[], Any] | None = None, out_dir: Path | None = None) -> int:
    """Start `argv` once per delay and kill -9 it that long after it has made progress (`progress()` changed;
    without it, after the start); return how many runs were killed. Waiting for progress rather than for a fixed
    time keeps the kills inside the work on a loaded machine, where start-up alone can take seconds. Each run
    ends killed or successful, and the checkpoint file, when there is one, is never torn. With `out_dir`, run
    i's standard output is kept in out_dir/run-NN.out."""
    kills = 0
    for i, delay in enumerate(delays):
        before = progress() if progress is not None else None
        with contextlib.ExitStack() as stack:
            stdout: Any = subprocess.PIPE
            if out_dir is not None:
                stdout = stack.enter_context(open(out_dir / f"run-{i:02d}.out", "wb"))
            proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while progress is not None and proc.poll() is None and time.monotonic() < deadline:
            if progress() != before:
                break
            time.sleep(0.02)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, -signal.SIGKILL), err
        if checkpoint is not None and checkpoint.exists():
            json.loads(checkpoint.read_text())
    return kills


def killed_then_finished(argv: list[str], delays: Iterable[float], checkpoint: Path | None = None,
                         progress: Callable[[], Any] | None = None, out_dir: Path | None = None,
                         timeout: float = 300) -> tuple[int, subprocess.CompletedProcess[str]]:
    """kill_during_runs, then one more run to the end, which must succeed: (runs killed, the last run)."""
    kills = kill_during_runs(argv, delays, checkpoint, progress, out_dir)
    final = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    assert final.returncode == 0, final.stderr
    return kills, final


def target_checkpoint_progress(server: Any) -> Callable[[], Any]:
    """A progress probe for kill_during_runs: the replay checkpoint rows of the target, which move with each
    applied transaction (tests run one at a time, so only the replay under test moves them)."""

    def probe() -> Any:
        conn = server.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT COALESCE(SUM(transactions), 0), MAX(updated_at)"
                            " FROM mysqlinspect_replay.checkpoint")
                return cur.fetchone()
        except (pymysql.err.ProgrammingError, pymysql.err.OperationalError):  # no checkpoint table yet
            return None
        finally:
            conn.close()

    return probe


def assert_each_transaction_applied_once(conn: Any, db: str, dst: str) -> None:
    """No duplicate and no gap in dst's t_log, and dst equal to db."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT n, COUNT(*) FROM `{dst}`.t_log GROUP BY n HAVING COUNT(*) <> 1")
        assert cur.fetchall() == ()
        cur.execute(f"SELECT COUNT(*) FROM `{dst}`.t_log")
        assert cur.fetchone()[0] == LOGGED_TRANSACTIONS
    assert table_dump(conn, dst) == table_dump(conn, db)
