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


# A type of the source's flavor that the other flavor does not have, in a table the range changes after a plain one:
# (source DDL, target DDL of the same table, the type named in the refusal).
ONE_FLAVOR_TYPES = {
    "mysql": ("CREATE TABLE t (id INT PRIMARY KEY, v VECTOR(3))", "CREATE TABLE t (id INT PRIMARY KEY, v BLOB)",
              "INSERT INTO t VALUES (1, STRING_TO_VECTOR('[1.5, -2, 0.1]'))", ("VECTOR",)),
    "mariadb": ("CREATE TABLE t (id INT PRIMARY KEY, u UUID, a INET6, b INET4)",
                "CREATE TABLE t (id INT PRIMARY KEY, u BINARY(16), a BINARY(16), b BINARY(4))",
                "INSERT INTO t VALUES (1, '123e4567-e89b-12d3-a456-426655440000', '2001:db8::1', '10.0.0.1')",
                ("UUID", "INET6", "INET4")),
}


def test_cross_flavor_types_the_target_lacks_are_refused_up_front(server: Any, other_server: Any, db: str,  # noqa: F811
                                                                 run_cli: Any) -> None:
    """Issue 9 item 9: what cannot cross is refused before anything is written: MySQL's VECTOR for a MariaDB
    target, MariaDB's UUID, INET6 and INET4 for a MySQL target (both log them as plain binary strings, so the
    source's definitions say which they are). The target's table of the same name, with a column it can hold,
    stays empty, and so does the plain table changed first."""
    source_ddl, target_ddl, insert, names = ONE_FLAVOR_TYPES[server.flavor]
    conn, target = server.connect(), other_server.connect()
    run_sql(target, f"DROP DATABASE IF EXISTS `{db}`", f"CREATE DATABASE `{db}`", f"USE `{db}`",
            "CREATE TABLE t0 (id INT PRIMARY KEY)", target_ddl)
    try:
        run_sql(conn, f"USE `{db}`", "CREATE TABLE t0 (id INT PRIMARY KEY)", source_ddl)
        start = binlog_position(conn)
        run_sql(conn, f"USE `{db}`", "INSERT INTO t0 VALUES (1)", insert)
        stop = binlog_position(conn)
        for options in ([], ["--apply-mode", "sql"]):
            result = run_cli(*range_args(server, start, stop), "--table", f"{db}.*", "--execute", "--target",
                             f"127.0.0.1:{other_server.port}", "--yes", *options)
            assert result.exit_code == ExitCode.UNAVAILABLE, result.stderr
            assert all(name in result.stderr for name in names), result.stderr
            assert f"{db}.t" in result.stderr and "nothing was applied" in result.stderr, result.stderr
            assert "Traceback" not in result.stderr, result.stderr
            with target.cursor() as cur:
                cur.execute(f"SELECT (SELECT COUNT(*) FROM `{db}`.t0) + (SELECT COUNT(*) FROM `{db}`.t)")
                assert cur.fetchone()[0] == 0, "the refused replay wrote rows"
    finally:
        run_sql(target, f"DROP DATABASE IF EXISTS `{db}`")
        conn.close()
        target.close()
