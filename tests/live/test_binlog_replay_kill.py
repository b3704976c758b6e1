"""kill -9 a `binlog replay --execute --checkpoint` at random moments and restart it: every source transaction is
applied exactly once (a keyless log table would show a duplicate or a gap), and the target ends identical."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.live.replay_support import (
    LOGGED_TRANSACTIONS,
    Workload,
    assert_each_transaction_applied_once,
    binlog_position,
    create_schema,
    killed_then_finished,
    logged_range,
    table_dump,
    target_checkpoint_progress,
)
from tests.servers import drop_database

pytestmark = pytest.mark.live
KILLS = 4


def test_kill_and_resume_applies_each_transaction_once(server: Any, db: str, tmp_path: Path) -> None:
    conn = server.connect()
    dst = f"{db}_dst"
    try:
        start, stop = logged_range(conn, db, dst, server.flavor)
        checkpoint = tmp_path / "replay.checkpoint"
        argv = [sys.executable, "-m", "mysqlinspect", "binlog", "replay", *server.cli_args(),
                "--start-file", start[0], "--start-pos", str(start[1]), "--stop-file", stop[0],
                "--stop-pos", str(stop[1]), "--table", f"{db}.*", "--rewrite-db", f"{db}={dst}", "--execute",
                "--target", f"127.0.0.1:{server.port}", "--allow-same-server", "--yes", "--rate", "250",
                "--checkpoint", str(checkpoint), "--format", "json"]
        rnd = random.Random(2024)
        kills, final = killed_then_finished(argv, [rnd.uniform(0.1, 0.5) for _ in range(KILLS)], checkpoint,
                                            target_checkpoint_progress(server))
        summary = json.loads(final.stdout)
        assert kills >= 2, "the replay finished before it could be killed: make the workload longer"
        assert summary["checkpoint"]["transactions"] == LOGGED_TRANSACTIONS
        assert_each_transaction_applied_once(conn, db, dst)
    finally:
        drop_database(server, dst)
        conn.close()


def test_flashback_killed_and_resumed_restores_the_snapshot(server: Any, db: str, tmp_path: Path) -> None:
    conn = server.connect()
    try:
        create_schema(conn, db, server.flavor)
        workload = Workload(conn, db, seed=9, flavor=server.flavor)
        workload.run(30)
        snapshot = table_dump(conn, db)
        start = binlog_position(conn)
        workload.run(150)
        stop = binlog_position(conn)
        checkpoint = tmp_path / "undo.checkpoint"
        argv = [sys.executable, "-m", "mysqlinspect", "binlog", "replay", *server.cli_args(),
                "--start-file", start[0], "--start-pos", str(start[1]), "--stop-file", stop[0],
                "--stop-pos", str(stop[1]), "--table", f"{db}.*", "--flashback", "--execute",
                "--target", f"127.0.0.1:{server.port}", "--allow-same-server", "--yes", "--rate", "200",
                "--checkpoint", str(checkpoint), "--format", "json"]
        rnd = random.Random(7)
        _, final = killed_then_finished(argv, [rnd.uniform(0.1, 0.5) for _ in range(3)], checkpoint,
                                        target_checkpoint_progress(server))
        assert json.loads(final.stdout)["skipped_applied"] > 0
        assert table_dump(conn, db) == snapshot
    finally:
        conn.close()
