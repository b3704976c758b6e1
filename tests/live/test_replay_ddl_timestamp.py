"""A logged statement runs at the source's statement time (mysqlbinlog writes SET TIMESTAMP before each one):
`ALTER TABLE ... ADD COLUMN ... DEFAULT CURRENT_TIMESTAMP` fills the existing rows with the time of the ALTER on
the source, and the replay must leave the same values, not the time of the replay."""

from __future__ import annotations

from typing import Any

import pytest

from mysqlinspect.exit_codes import ExitCode
from tests.live.replay_support import binlog_position
from tests.live.test_binlog_replay_rules import execute_args, run_sql

pytestmark = pytest.mark.live


def _rows(conn: Any, db: str) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute("SET SESSION time_zone = '+00:00'")
        cur.execute(f"SELECT id, CAST(added AS CHAR) FROM `{db}`.t ORDER BY id")
        return list(cur.fetchall())


@pytest.mark.parametrize("mode", ["sql", "auto"])
def test_ddl_runs_at_the_source_statement_time(server: Any, db: str, extra_dbs: list[str], run_cli: Any,
                                              mode: str) -> None:
    conn = server.connect()
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    for name in (db, dst):
        run_sql(conn, f"CREATE DATABASE IF NOT EXISTS `{name}`",
                f"CREATE TABLE `{name}`.t (id INT PRIMARY KEY) ENGINE=InnoDB",
                f"INSERT INTO `{name}`.t VALUES (1), (2)")
    start = binlog_position(conn)
    run_sql(conn, f"USE `{db}`", "SET SESSION timestamp = 1500000000",
            "ALTER TABLE t ADD COLUMN added TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP",
            "SET SESSION timestamp = DEFAULT")
    stop = binlog_position(conn)
    expected = _rows(conn, db)
    assert expected == [(1, "2017-07-14 02:40:00"), (2, "2017-07-14 02:40:00")]
    result = run_cli(*execute_args(server, db, dst, start, stop), "--apply-mode", mode)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert _rows(conn, dst) == expected
    conn.close()
