"""MariaDB system-versioned tables: SQL cannot reproduce them (row_start/row_end are the server's, and the target's
versioning would make the logged history rows again), so the SQL ways refuse up front; row events reproduce them.
On MySQL, which has no such tables, the same table without versioning is not refused."""

from __future__ import annotations

from typing import Any

import pytest

from mysqlinspect.exit_codes import ExitCode
from tests.live.replay_support import binlog_position
from tests.live.test_binlog_replay_rules import execute_args, range_args, run_sql

pytestmark = pytest.mark.live


def _rows(conn: Any, db: str, versioned: bool) -> list[tuple[Any, ...]]:
    history = "FOR SYSTEM_TIME ALL " if versioned else ""
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, v FROM `{db}`.t {history}ORDER BY 1, 2")
        return list(cur.fetchall())


def test_system_versioned_tables_are_refused_as_sql_and_applied_as_row_events(
        server: Any, db: str, extra_dbs: list[str], run_cli: Any) -> None:
    versioned = server.flavor == "mariadb"
    conn = server.connect()
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    for name in (db, dst):
        run_sql(conn, f"CREATE DATABASE IF NOT EXISTS `{name}`", f"CREATE TABLE `{name}`.t (id INT PRIMARY KEY, "
                f"v VARCHAR(20)){' WITH SYSTEM VERSIONING' if versioned else ''}")
    start = binlog_position(conn)
    run_sql(conn, f"INSERT INTO `{db}`.t VALUES (1, 'a'), (2, 'b')", f"UPDATE `{db}`.t SET v = 'c' WHERE id = 1",
            f"DELETE FROM `{db}`.t WHERE id = 2")
    stop = binlog_position(conn)
    expected = _rows(conn, db, versioned)

    dry = run_cli(*range_args(server, start, stop), "--table", f"{db}.*")
    sql = run_cli(*execute_args(server, db, dst, start, stop), "--apply-mode", "sql")
    if not versioned:
        assert dry.exit_code == ExitCode.OK, dry.stderr
        assert sql.exit_code == ExitCode.OK, sql.stderr
        assert _rows(conn, dst, False) == expected
        return
    for result in (dry, sql):
        assert result.exit_code == ExitCode.USAGE, result.stderr
        assert f"system-versioned tables ({db}.t" in result.stderr and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1
    assert dry.stdout == ""
    assert _rows(conn, dst, True) == []
    auto = run_cli(*execute_args(server, db, dst, start, stop), "--apply-mode", "auto")
    assert auto.exit_code == ExitCode.OK, auto.stderr
    assert _rows(conn, dst, True) == expected
    conn.close()
