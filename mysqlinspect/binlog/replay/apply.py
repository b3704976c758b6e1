"""Apply replayed transactions to a target server: one source transaction per target transaction, each statement
checked for the exact number of matched rows, with an exactly-once checkpoint stored on the target.

Exactly-once: the checkpoint row (`mysqlinspect_replay.checkpoint`, one row per job) is updated by the same target
transaction that applies the source transaction, so the data change and the "applied up to here" mark commit or
vanish together. A kill -9 at any instant leaves either both or neither; on restart the target row (not the local
file) says which source transaction was applied last, and everything up to it is skipped.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pymysql
from pymysql.constants import CLIENT

from mysqlinspect.binlog.model import RowChange, Transaction
from mysqlinspect.binlog.position import file_sequence
from mysqlinspect.binlog.replay.sqlgen import SESSION_SETTINGS, Statement, choose_key
from mysqlinspect.binlog.replay.sqlliteral import qualified_name, quote_identifier, render_literal
from mysqlinspect.connection.connect import connect_preferring_tls, pymysql_kwargs, translate_error
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import DataError, MysqlInspectError, UsageError

CHECKPOINT_SCHEMA = "mysqlinspect_replay"
CHECKPOINT_TABLE = f"`{CHECKPOINT_SCHEMA}`.`checkpoint`"
CHECKPOINT_DDL = (
    f"CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} ("
    " job VARCHAR(64) NOT NULL PRIMARY KEY,"
    " source_file VARCHAR(255) NOT NULL, source_pos BIGINT UNSIGNED NOT NULL,"
    " end_file VARCHAR(255) NOT NULL, end_pos BIGINT UNSIGNED NOT NULL,"
    " gtid VARCHAR(255) NULL, transactions BIGINT UNSIGNED NOT NULL, row_changes BIGINT UNSIGNED NOT NULL,"
    " updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB"
)
MAX_PACKET_STATEMENTS = 1000
MAX_PACKET_BYTES = 4 * 1024 * 1024
ER_DUP_ENTRY = 1062


class ReplayConflictError(DataError):
    """The target does not hold what the replay expects: nothing of the transaction was applied."""


@dataclass(frozen=True)
class SourcePoint:
    """The source transaction last applied: its start (the ordering key) and end positions, and GTID."""

    file: str
    pos: int
    end_file: str
    end_pos: int
    gtid: str | None
    transactions: int = 0
    row_changes: int = 0

    @property
    def key(self) -> tuple[int, int]:
        """Ordered like BinlogPosition: by the file's sequence number (binlog.999999 < binlog.1000000)."""
        return (file_sequence(self.file), self.pos)

    @classmethod
    def of(cls, txn: Transaction, transactions: int, row_changes: int) -> SourcePoint:
        return cls(txn.file, txn.start_pos, txn.end_file, txn.end_pos, txn.gtid, transactions, row_changes)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "pos": self.pos, "end_file": self.end_file, "end_pos": self.end_pos,
                "gtid": self.gtid, "transactions": self.transactions, "row_changes": self.row_changes}


@dataclass(frozen=True)
class ApplyOptions:
    sql_log_bin: bool = True
    rate: float | None = None  # row changes per second
    checkpoint_job: str | None = None
    cascades_logged: bool = True  # the source logs foreign-key cascades as rows (see foreign_key_checks())
    allow_triggers: bool = False  # apply as SQL although triggers on touched tables fire again


def source_logs_cascades(flavor: str, version: tuple[int, int, int]) -> bool:
    """MySQL 9.7 logs the rows changed by ON DELETE/UPDATE CASCADE and SET NULL; MariaDB (and older MySQL, whose
    InnoDB cascades inside the engine) logs only the statement's own rows, so the target has to cascade."""
    return flavor != "mariadb" and version >= (9, 7, 0)


def foreign_key_checks(txn: Transaction, cascades_logged: bool) -> int:
    """The session foreign_key_checks a transaction is applied with, as `mysqlbinlog | mysql` applies its row
    events: the source session's setting (the rows events' NO_FOREIGN_KEY_CHECKS_F flag), except that a source
    which logs cascaded rows is applied with checks off (the logged rows are the cascade; doing it again on the
    target would leave the logged child rows nothing to match)."""
    return 0 if cascades_logged or txn.no_foreign_key_checks else 1


@dataclass
class ApplyStats:
    transactions: int = 0
    row_changes: int = 0
    statements: int = 0
    ddl: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def open_target(settings: ConnectionSettings) -> pymysql.connections.Connection:
    """A read-write connection with FOUND_ROWS (matched, not changed, rows) and multi-statement packets."""
    kwargs = pymysql_kwargs(settings)
    kwargs["client_flag"] = CLIENT.MULTI_STATEMENTS | CLIENT.FOUND_ROWS
    kwargs["autocommit"] = True
    try:
        return connect_preferring_tls(settings, kwargs)
    except (pymysql.err.MySQLError, OSError) as exc:
        raise translate_error(exc, settings) from exc


def flavor_family(flavor: str) -> str:
    """"mariadb" or "mysql" (Percona Server applies MySQL's row events and SQL)."""
    return "mariadb" if flavor == "mariadb" else "mysql"


def target_flavor(conn: pymysql.connections.Connection) -> str:
    """The target's flavor family, from VERSION() and @@version_comment (no privileges needed)."""
    from mysqlinspect.connection.server import detect_flavor

    with conn.cursor() as cur:
        _execute(cur, "SELECT VERSION(), @@version_comment")
        row = cur.fetchone()
    return flavor_family(detect_flavor(str(row[0]), str(row[1] or ""))) if row else "mysql"


def server_identity(conn: pymysql.connections.Connection) -> str:
    """@@server_uuid where it exists (MySQL), else server_id, hostname, port and datadir (MariaDB)."""
    with conn.cursor() as cur:
        try:
            cur.execute("SELECT @@server_uuid")
            row = cur.fetchone()
            if row and row[0]:
                return f"uuid:{row[0]}"
        except pymysql.err.MySQLError:
            pass
        cur.execute("SELECT @@server_id, @@hostname, @@port, @@datadir")
        row = cur.fetchone()
    return "id:" + "/".join(str(v) for v in (row or ()))


def _execute(cur: Any, sql: str, args: Sequence[Any] | None = None) -> None:
    try:
        cur.execute(sql, args)
    except pymysql.err.MySQLError as exc:
        raise _translate(exc) from exc


def _translate(exc: pymysql.err.MySQLError) -> MysqlInspectError:
    from mysqlinspect.connection.query import _translate as translate_query

    return translate_query(exc, "", None)


class TargetCheckpoint:
    """The checkpoint row on the target, read at start and written inside every applied transaction."""

    def __init__(self, conn: pymysql.connections.Connection, job: str) -> None:
        self.conn = conn
        self.job = job

    def ensure(self) -> None:
        with self.conn.cursor() as cur:
            _execute(cur, f"CREATE DATABASE IF NOT EXISTS `{CHECKPOINT_SCHEMA}`")
            _execute(cur, CHECKPOINT_DDL)

    def load(self) -> SourcePoint | None:
        with self.conn.cursor() as cur:
            _execute(cur, f"SELECT source_file, source_pos, end_file, end_pos, gtid, transactions, row_changes "
                          f"FROM {CHECKPOINT_TABLE} WHERE job = %s", (self.job,))
            row = cur.fetchone()
        if row is None:
            return None
        return SourcePoint(str(row[0]), int(row[1]), str(row[2]), int(row[3]), row[4], int(row[5]), int(row[6]))

    def update_sql(self, point: SourcePoint) -> str:
        values = ", ".join(self.conn.escape(v) for v in (
            self.job, point.file, point.pos, point.end_file, point.end_pos, point.gtid, point.transactions,
            point.row_changes))
        return (f"INSERT INTO {CHECKPOINT_TABLE} (job, source_file, source_pos, end_file, end_pos, gtid, transactions,"
                f" row_changes) VALUES ({values}) ON DUPLICATE KEY UPDATE source_file = VALUES(source_file),"
                " source_pos = VALUES(source_pos), end_file = VALUES(end_file), end_pos = VALUES(end_pos),"
                " gtid = VALUES(gtid), transactions = VALUES(transactions), row_changes = VALUES(row_changes),"
                " updated_at = CURRENT_TIMESTAMP(6)")


def _packets(statements: Iterable[Statement]) -> Iterator[list[Statement]]:
    batch: list[Statement] = []
    size = 0
    for st in statements:
        if batch and (len(batch) >= MAX_PACKET_STATEMENTS or size + len(st.sql) > MAX_PACKET_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(st)
        size += len(st.sql) + 2
    if batch:
        yield batch


class Applier:
    """Applies transactions on one target connection (session prepared once)."""

    def __init__(self, conn: pymysql.connections.Connection, options: ApplyOptions, flavor: str,
                 checkpoint: TargetCheckpoint | None = None, target_schema: Callable[[str], str] = str) -> None:
        self.conn = conn
        self.target_schema = target_schema
        self.options = options
        self.flavor = flavor
        self.checkpoint = checkpoint
        self.stats = ApplyStats()
        self.session_fk_checks = 0  # SESSION_SETTINGS
        self._prepare_session()

    def _prepare_session(self) -> None:
        with self.conn.cursor() as cur:
            for sql in SESSION_SETTINGS:
                _execute(cur, sql)
            if not self.options.sql_log_bin:
                _execute(cur, "SET SESSION sql_log_bin = 0")

    def apply(self, txn: Transaction, statements: Iterable[Statement], point: SourcePoint,
              row_count: int | None = None) -> None:
        """Apply one source transaction (and the checkpoint) as one target transaction, or nothing of it.
        `statements` may be a stream (a large transaction's, written as they are sent); `row_count`: the
        transaction's row changes when its rows were stripped (parallel decoding)."""
        if txn.is_ddl:
            self._apply_ddl(txn, statements, point)
        else:
            stream = iter(statements)
            first = next(stream, None)
            if first is not None:
                self._apply_rows(txn, itertools.chain((first,), stream), point)
        self.stats.transactions += 1
        self.stats.row_changes += txn.row_count if row_count is None else row_count
        self._throttle()

    def _apply_rows(self, txn: Transaction, statements: Iterable[Statement], point: SourcePoint) -> None:
        """BEGIN rides in the first packet and the checkpoint in the last; COMMIT only after every count checked."""
        counted = [0]

        def counting() -> Iterator[Statement]:
            for st in statements:
                counted[0] += 1
                yield st

        ending = [Statement(self.checkpoint.update_sql(point), "control", None)] if self.checkpoint else []
        framed = itertools.chain(self._fk_setting(txn), (Statement("START TRANSACTION", "control", None),),
                                 counting(), ending)
        with self.conn.cursor() as cur:
            try:
                for packet in _packets(framed):
                    self._run_packet(cur, txn, packet)
                _execute(cur, "COMMIT")
            except BaseException:
                self._rollback()
                raise
        self.stats.statements += counted[0]

    def _fk_setting(self, txn: Transaction) -> list[Statement]:
        wanted = foreign_key_checks(txn, self.options.cascades_logged)
        if wanted == self.session_fk_checks:
            return []
        self.session_fk_checks = wanted
        return [Statement(f"SET SESSION foreign_key_checks = {wanted}", "control", None)]

    def _run_packet(self, cur: Any, txn: Transaction, packet: list[Statement]) -> None:
        index = 0
        try:
            cur.execute(";\n".join(st.sql for st in packet))
            while True:
                self._check_matched(txn, packet[index], cur.rowcount)
                index += 1
                if not cur.nextset():
                    break
        except pymysql.err.MySQLError as exc:
            self._drain(cur)
            code = exc.args[0] if exc.args else None
            if code == ER_DUP_ENTRY:
                raise self._duplicate(txn, packet[index], str(exc.args[-1])) from exc
            raise DataError(f"{_where(txn)}: statement failed: {exc.args[-1]} [{_short(packet[index].sql)}]") from exc

    @staticmethod
    def _drain(cur: Any) -> None:
        try:
            while cur.nextset():
                pass
        except pymysql.err.MySQLError:
            pass

    def _check_matched(self, txn: Transaction, st: Statement, matched: int) -> None:
        if st.expected_rows is None or matched == st.expected_rows:
            return
        reason = "no row matches the expected current image" if matched == 0 else f"{matched} rows matched"
        raise self._conflict(txn, st, reason)

    def _conflict(self, txn: Transaction, st: Statement, reason: str) -> ReplayConflictError:
        self._rollback()
        change = st.rows[0] if st.rows else None
        detail = describe_conflict(self.conn, change, self.flavor, self.target_schema) if change else ""
        return ReplayConflictError(f"{_where(txn)}: {st.kind} on {detail or 'the target'}: {reason}; "
                                   "the transaction was rolled back and nothing of it was applied")

    def _duplicate(self, txn: Transaction, st: Statement, server_message: str) -> ReplayConflictError:
        """A statement that creates a key found it taken: name the row it meant to create and what holds the key."""
        self._rollback()
        found = ""
        for change in st.rows:
            if change.after is None:
                continue
            table, key_text, current = key_and_current(self.conn, change, change.after, self.flavor,
                                                       self.target_schema)
            if current != "absent" or not found:
                found = (f"{table} row ({key_text}); expected no row with this key; found "
                         + (current if current != "absent" else "no such row before the transaction (the key is "
                            "taken by a row this transaction writes first, or by another unique key)"))
            if current != "absent":
                break
        return ReplayConflictError(f"{_where(txn)}: {st.kind} on {found or 'the target'}; the server says: "
                                   f"{server_message}; the transaction was rolled back and nothing of it was applied")

    def _rollback(self) -> None:
        try:
            with self.conn.cursor() as cur:
                cur.execute("ROLLBACK")
        except pymysql.err.MySQLError:
            pass

    def _apply_ddl(self, txn: Transaction, statements: Iterable[Statement], point: SourcePoint) -> None:
        with self.conn.cursor() as cur:
            for st in statements:
                try:
                    cur.execute(st.sql)
                except pymysql.err.MySQLError as exc:
                    raise DataError(f"{_where(txn)}: DDL failed: {exc.args[-1]} [{_short(st.sql)}]") from exc
            if self.checkpoint:
                _execute(cur, self.checkpoint.update_sql(point))
        self.stats.ddl += 1

    def _throttle(self) -> None:
        rate = self.options.rate
        if not rate:
            return
        ahead = self.stats.row_changes / rate - self.stats.elapsed
        if ahead > 0:
            time.sleep(ahead)


def _where(txn: Transaction) -> str:
    gtid = f" gtid {txn.gtid}" if txn.gtid else ""
    return f"source transaction {txn.number} at {txn.file}:{txn.start_pos}{gtid}"


def _short(sql: str, limit: int = 160) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_conflict(conn: pymysql.connections.Connection, change: RowChange, flavor: str,
                      target_schema: Callable[[str], str] = str) -> str:
    """`db.t` key (...) expected (...) current (...) for the report of a mismatch."""
    image = change.before if change.before is not None else (change.after or {})
    table, key_text, current = key_and_current(conn, change, image, flavor, target_schema)
    expected = "absent" if change.before is None else _short(_image_text(change, change.before, flavor), 400)
    return f"{table} row ({key_text}); expected {expected}; current {current}"


def key_and_current(conn: pymysql.connections.Connection, change: RowChange, image: dict[str, Any], flavor: str,
                    target_schema: Callable[[str], str] = str) -> tuple[str, str, str]:
    """`db.t`, the key of `image` as text, and the target's row with that key (or "absent")."""
    key = choose_key(change, image)
    cols = {c.name: c for c in change.columns}
    key_text = ", ".join(f"{k}={render_literal(image.get(k), cols[k], flavor)}" for k in key.columns)
    schema = target_schema(change.schema)
    return f"{schema}.{change.table}", key_text, _current_row(conn, change, schema, key.columns, image, flavor)


def _image_text(change: RowChange, image: dict[str, Any], flavor: str) -> str:
    return "(" + ", ".join(f"{c.name}={render_literal(image.get(c.name), c, flavor)}" for c in change.columns) + ")"


def _current_row(conn: pymysql.connections.Connection, change: RowChange, schema: str, key: Sequence[str],
                 image: dict[str, Any], flavor: str) -> str:
    cols = {c.name: c for c in change.columns}
    where = " AND ".join(f"{quote_identifier(k)} <=> {render_literal(image.get(k), cols[k], flavor, True)}"
                         for k in key)
    sql = f"SELECT * FROM {qualified_name(schema, change.table)} WHERE {where} LIMIT 1"
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql)
            row = cur.fetchone()
    except pymysql.err.MySQLError as exc:
        return f"unknown ({exc.args[-1]})"
    if row is None:
        return "absent"
    return _short("(" + ", ".join(f"{k}={v!r}" for k, v in row.items()) + ")", 400)


def target_settings(dsn: str, base: ConnectionSettings) -> ConnectionSettings:
    """The target's settings: `base` (the source's) with what the DSN names replaced.

    Forms: mysql://user:password@host:port[?socket=PATH], h=HOST,P=PORT,u=USER,p=PASSWORD,S=SOCKET, HOST[:PORT].
    """
    from dataclasses import replace

    text = dsn.strip()
    if "://" in text:
        changes = _url_dsn(text, dsn)
    elif "=" in text:
        changes = _keyword_dsn(text, dsn)
    else:
        host, _, port = text.partition(":")
        changes = {"host": host, **({"port": port} if port else {})}
    _settle_transport(changes, dsn)
    return replace(base, **changes)


def _url_dsn(text: str, dsn: str) -> dict[str, Any]:
    from urllib.parse import parse_qs, unquote, urlsplit

    url = urlsplit(text)
    if url.scheme not in ("mysql", "mariadb"):
        raise UsageError(f"--target {dsn!r}: use mysql://user:password@host:port")
    changes: dict[str, Any] = {}
    if url.hostname:
        changes["host"] = url.hostname
    try:
        url_port = url.port
    except ValueError:
        raise UsageError(f"--target {dsn!r}: the port must be a number from 1 to 65535") from None
    if url_port:
        changes["port"] = url_port
    if url.username is not None:
        changes["user"] = unquote(url.username)
    if url.password is not None:
        changes["password"] = unquote(url.password)
    socket = parse_qs(url.query).get("socket")
    if socket:
        changes.update(socket=socket[0], host="localhost")
    return changes


def _keyword_dsn(text: str, dsn: str) -> dict[str, Any]:
    names = {"h": "host", "P": "port", "u": "user", "p": "password", "S": "socket"}
    changes: dict[str, Any] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key.strip() not in names:
            raise UsageError(f"--target {dsn!r}: unknown key {key.strip()!r} (use h, P, u, p, S)")
        changes[names[key.strip()]] = value
    if "socket" in changes and "host" not in changes:
        changes["host"] = "localhost"
    return changes


def _settle_transport(changes: dict[str, Any], dsn: str) -> None:
    """Port checked; TCP for a port or a remote host, the socket for a socket without a port - never the source's
    transport by inheritance (a source reached over its socket must not send `--target db2` to that socket)."""
    if "port" in changes:
        try:
            changes["port"] = int(changes["port"])
        except ValueError:
            raise UsageError(f"--target {dsn!r}: the port must be a number") from None
        if not 0 < changes["port"] < 65536:
            raise UsageError(f"--target {dsn!r}: the port must be a number from 1 to 65535")
        changes.setdefault("protocol", "TCP")
    if changes.get("socket") and "port" not in changes:
        changes["protocol"] = "SOCKET"
    if "host" in changes and changes["host"] != "localhost" and "socket" not in changes:
        changes["socket"] = None
        changes.setdefault("protocol", "TCP")


class ApplyThread:
    """Applies in order on one worker thread while the caller reads on: the caller's submit() raises the
    worker's error; close() waits for everything submitted. At most `depth` pieces of work wait, and - with
    `max_weight` - at most that much weight (row changes, bytes: what they hold in memory), unless the worker is
    idle."""

    def __init__(self, depth: int = 64, max_weight: int | None = None) -> None:
        self._queue: queue.Queue[tuple[Callable[[], None], int] | None] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._max_weight = max_weight
        self._weight = 0
        self._room = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="mysqlinspect-apply-events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            work, weight = item
            if self._error is None:
                try:
                    work()
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc
            with self._room:
                self._weight -= weight
                self._room.notify_all()

    def submit(self, work: Callable[[], None], weight: int = 0) -> None:
        if self._error is not None:
            self.close()
        if self._max_weight is not None:
            with self._room:
                while self._weight > 0 and self._weight + weight > self._max_weight and self._error is None:
                    self._room.wait(1.0)
                self._weight += weight
        self._queue.put((work, weight))

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error
