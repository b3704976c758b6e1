"""Partial JSON updates (binlog_row_value_options=PARTIAL_JSON, which a session may set on its own). Our own decoder
(the default) applies every diff of the update to the before image: the replay writes whole documents, forwards and
as a flashback, like any other update. mysql-replication (`--decoder library`) gives a diff, and only the first
one: there the replay stops at it naming the event (exit 65; was an internal error, exit 70, in every mode) and a
flashback stops before anything is undone. MariaDB has no partial JSON: the same statements replay and undo
normally there."""

from __future__ import annotations

from typing import Any

import pytest

from mysqlinspect.exit_codes import ExitCode
from tests.live.replay_support import binlog_position
from tests.live.test_binlog_replay_rules import execute_args, range_args, run_sql

pytestmark = pytest.mark.live

TABLE = "CREATE TABLE t (id INT PRIMARY KEY, j JSON, n INT)"
ROWS = "INSERT INTO t VALUES (1, '{\"a\": 1, \"b\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}', 0), (2, '[1]', 0)"


def _rows(conn: Any, db: str) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, CAST(j AS CHAR), n FROM `{db}`.t ORDER BY id")
        return list(cur.fetchall())


@pytest.mark.parametrize("decoder", ["own", "library"])
def test_partial_json_updates_replay_whole_or_stop_up_front(server: Any, db: str, extra_dbs: list[str],
                                                            run_cli: Any, decoder: str) -> None:
    partial = server.flavor == "mysql"
    conn = server.connect()
    dst = f"{db}_dst"
    extra_dbs.append(dst)
    for name in (db, dst):
        run_sql(conn, f"CREATE DATABASE IF NOT EXISTS `{name}`", f"USE `{name}`", TABLE, ROWS)
    before = _rows(conn, db)
    start = binlog_position(conn)
    run_sql(conn, f"USE `{db}`", "UPDATE t SET n = 1 WHERE id = 2")
    if partial:
        run_sql(conn, "SET SESSION binlog_row_value_options = 'PARTIAL_JSON'")
    run_sql(conn, "UPDATE t SET j = JSON_SET(j, '$.a', 2), n = 3 WHERE id = 1", "UPDATE t SET n = 5 WHERE id = 2")
    stop = binlog_position(conn)
    if partial:
        run_sql(conn, "SET SESSION binlog_row_value_options = ''")
    after = _rows(conn, db)

    chosen = ["--decoder", decoder]
    forward = run_cli(*execute_args(server, db, dst, start, stop), "--apply-mode", "sql", *chosen)
    dry = run_cli(*range_args(server, start, stop), "--table", f"{db}.*", *chosen)
    back = run_cli(*range_args(server, start, stop), "--table", f"{db}.*", "--flashback", "--execute", "--target",
                   f"127.0.0.1:{server.port}", "--allow-same-server", "--yes", "--format", "json", *chosen)
    if not partial or decoder == "own":
        assert "JSON_SET" not in dry.stdout and '"a": 2' in dry.stdout.replace("\\", "")
        assert forward.exit_code == ExitCode.OK, forward.stderr
        assert _rows(conn, dst) == after
        assert dry.exit_code == ExitCode.OK, dry.stderr
        assert back.exit_code == ExitCode.OK, back.stderr
        assert _rows(conn, db) == before
        return
    for result in (forward, dry, back):
        assert result.exit_code == ExitCode.DATA_ERROR, result.stderr
        assert "partial JSON update" in result.stderr and "Traceback" not in result.stderr
    assert _rows(conn, db) == after  # nothing undone
    conn.close()
