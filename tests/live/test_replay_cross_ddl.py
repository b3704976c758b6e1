"""Cross-flavor SQL replay of a range holding DDL: the source session written before each logged statement
(sql_mode names, collations) must be one the target accepts."""

from __future__ import annotations

from typing import Any

import pytest

from mysqlinspect.exit_codes import ExitCode
from tests.live.replay_support import binlog_position
from tests.live.test_binlog_replay_rules import other_server, range_args, run_sql  # noqa: F401 (fixture)

pytestmark = pytest.mark.live


def test_cross_flavor_sql_replay_of_a_range_with_ddl(server: Any, other_server: Any, db: str,  # noqa: F811
                                                     run_cli: Any) -> None:
    conn, target = server.connect(), other_server.connect()
    run_sql(target, f"DROP DATABASE IF EXISTS `{db}`", f"CREATE DATABASE `{db}`")
    try:
        start = binlog_position(conn)
        run_sql(conn, f"USE `{db}`", "CREATE TABLE t2 (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB",
                "INSERT INTO t2 VALUES (1, 'x')")
        stop = binlog_position(conn)
        result = run_cli(*range_args(server, start, stop), "--table", f"{db}.*", "--execute", "--target",
                         f"127.0.0.1:{other_server.port}", "--yes", "--format", "json")
        assert result.exit_code == ExitCode.OK, result.stderr
        with target.cursor() as cur:
            cur.execute(f"SELECT id, v FROM `{db}`.t2")
            assert cur.fetchall() == ((1, "x"),)
    finally:
        run_sql(target, f"DROP DATABASE IF EXISTS `{db}`")
        conn.close()
        target.close()
