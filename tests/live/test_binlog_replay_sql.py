"""The SQL that `binlog replay` writes (dry run piped into the server's own client, and `--apply-mode sql`) leaves
the target as `mysqlbinlog | mysql` (MariaDB: `mariadb-binlog | mariadb`) of the same range does: expression
defaults and ON UPDATE columns, CREATE/DROP DATABASE without USE, DDL in version comments, routines with their
DELIMITER and source session, decimals inside JSON, and --rewrite-db on DDL (issue 9)."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from mysqlinspect.sandbox.distributions import distribution
from tests.live.replay_support import binlog_files_between, binlog_position, table_dump

pytestmark = pytest.mark.live

Position = tuple[str, int]


def range_args(start: Position, stop: Position) -> list[str]:
    return ["--start-file", start[0], "--start-pos", str(start[1]), "--stop-file", stop[0], "--stop-pos", str(stop[1])]


def client_argv(server: Any) -> list[str]:
    base = ["mariadb"] if server.flavor == "mariadb" else distribution("mysql").program("mysql")
    return [*base, "--no-defaults", "-h", "127.0.0.1", "-P", str(server.port), "-u", "root", "--binary-mode"]


def pipe_into_client(server: Any, sql: bytes) -> None:
    done = subprocess.run(client_argv(server), input=sql, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")


def reference_sql(server: Any, conn: Any, start: Position, stop: Position, src: str | None, dst: str | None) -> bytes:
    """mysqlbinlog (mariadb-binlog) of the range, rewriting src to dst when given."""
    files = binlog_files_between(conn, start[0], stop[0])
    if server.flavor == "mariadb":
        tool, extra = ["mariadb-binlog"], [f"--rewrite-db={src}->{dst}"] if src else []
    else:
        tool, extra = server.program("mysqlbinlog"), ["--skip-gtids", *([f"--rewrite-db={src}->{dst}"] if src else [])]
    done = subprocess.run([*tool, "--no-defaults", "--read-from-remote-server", "--host=127.0.0.1",
                           f"--port={server.port}", "--user=root", f"--start-position={start[1]}",
                           f"--stop-position={stop[1]}", *extra, *files], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def dry_run_sql(run_cli: Any, server: Any, start: Position, stop: Position, *options: str) -> str:
    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), *options)
    assert result.exit_code == 0, result.stderr
    return str(result.stdout)


def execute_sql_mode(run_cli: Any, server: Any, start: Position, stop: Position, *options: str) -> dict[str, Any]:
    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), *options, "--execute",
                     "--target", f"127.0.0.1:{server.port}", "--allow-same-server", "--yes", "--apply-mode", "sql",
                     "--format", "json")
    assert result.exit_code == 0, result.stderr
    return dict(result.json())


def replay_three_ways(server: Any, conn: Any, run_cli: Any, start: Position, stop: Position, db: str,
                      extra_dbs: list[str]) -> dict[str, str]:
    """The range of `db` replayed into three new databases: dry-run SQL piped into the client, --apply-mode sql,
    and the reference tool piped into the client. Returns {way: database}."""
    targets = {way: f"{db}_{way}" for way in ("pipe", "sql", "ref")}
    extra_dbs += list(targets.values())
    with conn.cursor() as cur:
        for name in targets.values():
            cur.execute(f"CREATE DATABASE `{name}`")
    scope = ["--table", f"{db}.*"]
    sql = dry_run_sql(run_cli, server, start, stop, *scope, "--rewrite-db", f"{db}={targets['pipe']}")
    pipe_into_client(server, sql.encode("utf-8", "surrogateescape"))
    execute_sql_mode(run_cli, server, start, stop, *scope, "--rewrite-db", f"{db}={targets['sql']}")
    pipe_into_client(server, reference_sql(server, conn, start, stop, db, targets["ref"]))
    return targets


# 1, 2: expression defaults are ordinary columns; ON UPDATE CURRENT_TIMESTAMP columns are always assigned -------
def test_expression_defaults_and_on_update_columns_are_written(server: Any, db: str, extra_dbs: list[str],
                                                               run_cli: Any) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")
        cur.execute("SET SESSION time_zone = '+00:00'")
        cur.execute("SET TIMESTAMP = 1000000000")
        start = binlog_position(conn)
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL, created DATETIME DEFAULT CURRENT_TIMESTAMP, "
                    "last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, "
                    "u VARCHAR(36) DEFAULT (uuid()), g INT AS (v * 2) STORED, gv INT AS (v + 1) VIRTUAL, KEY (gv))")
        cur.execute("INSERT INTO t (id, v) VALUES (1, 1), (2, 2), (3, 3)")
        cur.execute("INSERT INTO t (id, v, last_update) VALUES (4, 4, '2010-01-01 00:00:00')")
        cur.execute("SET TIMESTAMP = 1000000100")
        cur.execute("UPDATE t SET v = v + 10 WHERE id = 1")
        cur.execute("UPDATE t SET v = v + 10 WHERE id = 1")  # the same second: last_update keeps its value
        cur.execute("UPDATE t SET last_update = '2020-02-29 23:59:59', v = 7 WHERE id = 2")
        middle = binlog_position(conn)
        before_batch = table_dump(conn, db)
        cur.execute("SET TIMESTAMP = 1000000200")
        cur.execute("UPDATE t SET v = v + 1 WHERE id = 4")
        cur.execute("UPDATE t SET last_update = '2021-01-01 00:00:00' WHERE id = 3")
        cur.execute("DELETE FROM t WHERE id = 2")
        cur.execute("INSERT INTO t (id, v) VALUES (5, 5)")
        cur.execute("UPDATE t SET v = 50 WHERE id = 5")  # the same second: its undo must keep last_update
        stop = binlog_position(conn)
    source = table_dump(conn, db)
    for way, name in replay_three_ways(server, conn, run_cli, start, stop, db, extra_dbs).items():
        assert table_dump(conn, name) == source, way
    for way, options in {"one_process": ["--no-parallel"], "auto": ["--apply-mode", "auto"]}.items():
        name = f"{db}_{way}"
        extra_dbs.append(name)
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
        result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.*",
                         "--rewrite-db", f"{db}={name}", "--execute", "--target", f"127.0.0.1:{server.port}",
                         "--allow-same-server", "--yes", *options, "--format", "json")
        assert result.exit_code == 0, result.stderr
        assert table_dump(conn, name) == source, way

    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(middle, stop), "--table", f"{db}.*",
                     "--flashback", "--execute", "--target", f"127.0.0.1:{server.port}", "--allow-same-server",
                     "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert table_dump(conn, db) == before_batch
    conn.close()


# 5: CREATE/DROP DATABASE run without USE --------------------------------------------------------------------------
def test_range_that_creates_its_database_replays_on_an_empty_target(server: Any, db: str, extra_dbs: list[str],
                                                                     run_cli: Any) -> None:
    conn = server.connect()
    new = f"{db}_new"
    extra_dbs.append(new)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{new}`")
        cur.execute(f"USE `{new}`")
        start = binlog_position(conn)
        cur.execute(f"DROP DATABASE IF EXISTS `{new}`")
        cur.execute(f"CREATE DATABASE `{new}`")
        cur.execute(f"USE `{new}`")
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(10))")
        cur.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        stop = binlog_position(conn)
    expected = table_dump(conn, new)
    sql = dry_run_sql(run_cli, server, start, stop)
    assert f"USE `{new}`;\nDROP DATABASE" not in sql
    appliers = {
        "reference": lambda: pipe_into_client(server, reference_sql(server, conn, start, stop, None, None)),
        "pipe": lambda: pipe_into_client(server, sql.encode()),
        "sql": lambda: execute_sql_mode(run_cli, server, start, stop),
    }
    for way, apply in appliers.items():
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE `{new}`")
        apply()
        assert table_dump(conn, new) == expected, way
    conn.close()


# 6: DDL in a version comment, and statements the tool does not know, are replayed as logged -----------------------
def test_versioned_comment_ddl_and_other_statements_are_not_dropped(server: Any, db: str, extra_dbs: list[str],
                                                                    run_cli: Any) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")
        start = binlog_position(conn)
        cur.execute("CREATE TABLE m (id INT PRIMARY KEY, v INT) ENGINE=MyISAM")
        cur.execute("/*!50610 ALTER TABLE m ENGINE=InnoDB */")
        cur.execute("/* a plain comment */ CREATE TABLE c (id INT PRIMARY KEY)")
        cur.execute("CREATE TABLE c3 (id INT PRIMARY KEY) -- a trailing comment")
        cur.execute("FLUSH TABLES")
        cur.execute("INSERT INTO m VALUES (1, 1)")
        cur.execute("INSERT INTO c VALUES (1)")
        cur.execute("BEGIN")
        cur.execute("INSERT INTO c VALUES (2)")
        cur.execute("SAVEPOINT a")
        cur.execute("INSERT INTO c VALUES (3)")
        cur.execute("ROLLBACK TO SAVEPOINT a")
        cur.execute("INSERT INTO c VALUES (4)")
        cur.execute("COMMIT")
        stop = binlog_position(conn)
    sql = dry_run_sql(run_cli, server, start, stop, "--table", f"{db}.*")
    assert "/*!50610 ALTER TABLE m ENGINE=InnoDB */;" in sql and "FLUSH TABLES;" in sql
    if b"SAVEPOINT" in reference_sql(server, conn, start, stop, None, None):  # logged inside the transaction
        assert "SAVEPOINT" in sql
    targets = replay_three_ways(server, conn, run_cli, start, stop, db, extra_dbs)
    engines = {way: _engines(conn, name) for way, name in targets.items()}
    assert engines == {way: {"c": "InnoDB", "c3": "InnoDB", "m": "InnoDB"} for way in targets}
    for name in targets.values():
        assert table_dump(conn, name) == table_dump(conn, db)
    conn.close()


def test_rows_logged_with_ddl_are_replayed(server: Any, db: str, extra_dbs: list[str], run_cli: Any) -> None:
    """CREATE TABLE ... SELECT logs the CREATE and the rows in one transaction: the rows must not vanish."""
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")
        start = binlog_position(conn)
        cur.execute("CREATE TABLE s (id INT PRIMARY KEY, v VARCHAR(10))")
        cur.execute("INSERT INTO s VALUES (1, 'a'), (2, 'b')")
        cur.execute("CREATE TABLE c (PRIMARY KEY (id)) AS SELECT id, v FROM s")
        cur.execute("INSERT INTO c VALUES (3, 'c')")
        stop = binlog_position(conn)
    source = table_dump(conn, db)
    assert len(source["c"]) == 3
    for way, name in replay_three_ways(server, conn, run_cli, start, stop, db, extra_dbs).items():
        assert table_dump(conn, name) == source, way
    conn.close()


def _engines(conn: Any, db: str) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (db,))
        return {str(r[0]): str(r[1]) for r in cur.fetchall()}


# 7: routines, triggers, views and events: DELIMITER framing, the source's sql_mode and character set --------------
ROUTINE_DDL = [
    'CREATE TABLE "t" ("id" INT PRIMARY KEY, "s" VARCHAR(40))',
    'CREATE TABLE "log" ("n" INT)',
    'CREATE PROCEDURE "p"(IN x INT) BEGIN INSERT INTO "log" VALUES (x); INSERT INTO "log" VALUES (x + 1); END',
    'CREATE FUNCTION "f"(a VARCHAR(10)) RETURNS VARCHAR(20) DETERMINISTIC BEGIN DECLARE r VARCHAR(20); '
    "SET r = a || '!'; RETURN r; END",
    'CREATE TRIGGER "tr" BEFORE INSERT ON "t" FOR EACH ROW BEGIN SET NEW."s" = NEW."s" || \'+\'; '
    'SET NEW."s" = LOWER(NEW."s"); END',
    'CREATE VIEW "v" AS SELECT "id", "s" || \'?\' AS "q" FROM "t"',
    'CREATE EVENT "e" ON SCHEDULE EVERY 1 DAY DISABLE DO BEGIN INSERT INTO "log" VALUES (1); '
    'INSERT INTO "log" VALUES (2); END',
]


def test_routines_replay_with_delimiters_and_the_source_session(server: Any, db: str, extra_dbs: list[str],
                                                                run_cli: Any) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")
        cur.execute("SET SESSION sql_mode = 'ANSI_QUOTES,PIPES_AS_CONCAT,STRICT_ALL_TABLES'")
        start = binlog_position(conn)
        for ddl in ROUTINE_DDL:
            cur.execute(ddl)
        stop = binlog_position(conn)
    sql = dry_run_sql(run_cli, server, start, stop, "--table", f"{db}.*")
    assert "DELIMITER /*!*/;\nCREATE" in sql and "END\n/*!*/;\nDELIMITER ;" in sql
    source = _definitions(conn, db)
    assert len(source["routines"]) == 2 and len(source["triggers"]) == 1 and len(source["events"]) == 1
    for way, name in replay_three_ways(server, conn, run_cli, start, stop, db, extra_dbs).items():
        assert _definitions(conn, name) == source, way
        with conn.cursor() as cur:
            cur.execute(f"SELECT `{name}`.f('A')")
            assert cur.fetchone()[0] == "A!", way  # || concatenates: the function kept PIPES_AS_CONCAT
    conn.close()


def test_legacy_timestamp_defaults_of_the_source_session(server: Any, db: str, extra_dbs: list[str],
                                                          run_cli: Any) -> None:
    """explicit_defaults_for_timestamp = 0 on the source: CREATE TABLE gave a TIMESTAMP column NOT NULL DEFAULT
    CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP; the replayed CREATE TABLE must too (mysqlbinlog sets it)."""
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")
        cur.execute("SET SESSION explicit_defaults_for_timestamp = 0")
        start = binlog_position(conn)
        cur.execute("CREATE TABLE legacy (id INT PRIMARY KEY, ts TIMESTAMP)")
        cur.execute("SET SESSION explicit_defaults_for_timestamp = 1")
        cur.execute("CREATE TABLE modern (id INT PRIMARY KEY, ts TIMESTAMP)")
        stop = binlog_position(conn)
    source = _create_tables(conn, db)
    assert "CURRENT_TIMESTAMP" in source["legacy"].upper() and "CURRENT_TIMESTAMP" not in source["modern"].upper()
    for way, name in replay_three_ways(server, conn, run_cli, start, stop, db, extra_dbs).items():
        assert _create_tables(conn, name) == source, way
    conn.close()


def _create_tables(conn: Any, db: str) -> dict[str, str]:
    out = {}
    with conn.cursor() as cur:
        for table in ("legacy", "modern"):
            cur.execute(f"SHOW CREATE TABLE `{db}`.`{table}`")
            out[table] = str(cur.fetchone()[1])
    return out


def _definitions(conn: Any, db: str) -> dict[str, list[tuple[Any, ...]]]:
    """Routines, triggers, views and events of `db` with the session they were created in (db name masked)."""
    queries = {
        "routines": "SELECT ROUTINE_NAME, ROUTINE_DEFINITION, SQL_MODE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, "
                    "DATABASE_COLLATION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s",
        "triggers": "SELECT TRIGGER_NAME, ACTION_STATEMENT, SQL_MODE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, "
                    "DATABASE_COLLATION FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s",
        "views": "SELECT TABLE_NAME, VIEW_DEFINITION, CHARACTER_SET_CLIENT, COLLATION_CONNECTION "
                 "FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s",
        "events": "SELECT EVENT_NAME, EVENT_DEFINITION, SQL_MODE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, "
                  "DATABASE_COLLATION FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s",
    }
    out: dict[str, list[tuple[Any, ...]]] = {}
    with conn.cursor() as cur:
        for kind, sql in queries.items():
            cur.execute(sql + " ORDER BY 1", (db,))
            out[kind] = [tuple(str(v).replace(db, "<db>") for v in row) for row in cur.fetchall()]
    return out


# 8: decimals inside JSON documents stay decimals ------------------------------------------------------------------
def test_decimals_inside_json_stay_exact(server: Any, db: str, extra_dbs: list[str], run_cli: Any) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")
        start = binlog_position(conn)
        cur.execute("CREATE TABLE j (id INT PRIMARY KEY, doc JSON)")
        cur.execute("INSERT INTO j VALUES (1, JSON_OBJECT('price', CAST(1.50 AS DECIMAL(5,2)), 'list', "
                    "JSON_ARRAY(CAST(-0.000001 AS DECIMAL(10,6)), 0.1e0, 'x', 7, NULL, TRUE))), "
                    "(2, JSON_ARRAY(CAST(12345678901234567890.12 AS DECIMAL(30,2)), JSON_OBJECT())), (3, NULL)")
        cur.execute("UPDATE j SET doc = JSON_OBJECT('total', CAST(100.000 AS DECIMAL(8,3))) WHERE id = 2")
        stop = binlog_position(conn)
    source = table_dump(conn, db)
    types = _json_types(conn, db)
    for way, name in replay_three_ways(server, conn, run_cli, start, stop, db, extra_dbs).items():
        assert table_dump(conn, name) == source, way
        assert _json_types(conn, name) == types, way
    conn.close()


def _json_types(conn: Any, db: str) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, JSON_TYPE(JSON_EXTRACT(doc, '$.price')), JSON_TYPE(JSON_EXTRACT(doc, '$.total')), "
                    f"JSON_TYPE(JSON_EXTRACT(doc, '$.list[0]')) FROM `{db}`.j ORDER BY id")
        return [tuple(r) for r in cur.fetchall()]


# 10: --rewrite-db changes the default database of statements only, as the reference tools do ----------------------
def test_rewrite_db_reaches_ddl_as_the_reference_does(server: Any, db: str, extra_dbs: list[str],
                                                      run_cli: Any) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")
        start = binlog_position(conn)
        cur.execute("CREATE TABLE t1 (a INT PRIMARY KEY)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS `{db}`.t2 (a INT PRIMARY KEY)")  # qualified: not rewritten
        cur.execute("CREATE VIEW v AS SELECT a FROM t1")  # unqualified: resolves in the rewritten database
        cur.execute(f"CREATE VIEW vq AS SELECT a FROM `{db}`.t1")  # qualified: keeps naming the source
        cur.execute("INSERT INTO t1 VALUES (1), (2)")
        stop = binlog_position(conn)
    result = run_cli("binlog", "replay", *server.cli_args(), *range_args(start, stop), "--table", f"{db}.*",
                     "--rewrite-db", f"{db}=elsewhere")
    assert result.exit_code == 0, result.stderr
    assert f"CREATE TABLE IF NOT EXISTS `{db}`.t2" in result.stdout and "USE `elsewhere`;" in result.stdout
    assert f"names database {db} in its text, which --rewrite-db does not rewrite" in result.stderr
    targets = replay_three_ways(server, conn, run_cli, start, stop, db, extra_dbs)  # t2: exists in db, a no-op
    assert "t2" not in _engines(conn, targets["ref"])
    reference = _views(conn, targets["ref"], db)
    assert reference["vq"].count(f"`{db}`.") >= 1 and f"`{db}`" not in reference["v"]
    for way in ("pipe", "sql"):
        assert _views(conn, targets[way], db) == reference, way
        assert table_dump(conn, targets[way]) == table_dump(conn, targets["ref"]), way
    conn.close()


def _views(conn: Any, target: str, source: str) -> dict[str, str]:
    """View definitions with the target's name masked (the source's stays visible)."""
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s",
                    (target,))
        return {str(r[0]): str(r[1]).replace(f"`{target}`", "`<target>`") for r in cur.fetchall()}
