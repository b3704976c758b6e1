"""kill -9 a `binlog replay --execute --checkpoint` at random moments and restart it: every source transaction is
applied exactly once (a keyless log table would show a duplicate or a gap), and the target ends identical."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.live.replay_support import Workload, binlog_position, create_schema, table_dump
from tests.servers import drop_database

pytestmark = pytest.mark.live
TRANSACTIONS = 300
KILLS = 4


def run_logged_workload(conn: Any, db: str, flavor: str) -> None:
    """Each transaction also inserts its number into a keyless table: applied twice -> a duplicate row."""
    workload = Workload(conn, db, seed=5, flavor=flavor)
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")
        cur.execute("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'")
        for n in range(TRANSACTIONS):
            cur.execute("BEGIN")
            cur.execute("INSERT INTO t_log VALUES (%s)", (n,))
            for _ in range(workload.rnd.randint(1, 3)):
                workload.rnd.choice([workload.insert_all, workload.update_all, workload.comp_op, workload.uk_op])(cur)
            cur.execute("COMMIT")


def test_kill_and_resume_applies_each_transaction_once(server: Any, db: str, tmp_path: Path) -> None:
    conn = server.connect()
    dst = f"{db}_dst"
    try:
        for name in (db, dst):
            create_schema(conn, name, server.flavor)
            with conn.cursor() as cur:
                cur.execute(f"CREATE TABLE `{name}`.t_log (n INT)")
        start = binlog_position(conn)
        run_logged_workload(conn, db, server.flavor)
        stop = binlog_position(conn)
        checkpoint = tmp_path / "replay.checkpoint"
        argv = [sys.executable, "-m", "mysqlinspect", "binlog", "replay", *server.cli_args(),
                "--start-file", start[0], "--start-pos", str(start[1]), "--stop-file", stop[0],
                "--stop-pos", str(stop[1]), "--table", f"{db}.*", "--rewrite-db", f"{db}={dst}", "--execute",
                "--target", f"127.0.0.1:{server.port}", "--allow-same-server", "--yes", "--rate", "250",
                "--checkpoint", str(checkpoint), "--format", "json"]
        rnd = random.Random(2024)
        kills = 0
        for _ in range(KILLS):
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(rnd.uniform(0.6, 1.6))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.communicate(timeout=60)
            if checkpoint.exists():
                json.loads(checkpoint.read_text())  # never torn
        final = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert final.returncode == 0, final.stderr
        summary = json.loads(final.stdout)
        assert kills >= 2, "the replay finished before it could be killed: make the workload longer"
        assert summary["checkpoint"]["transactions"] == TRANSACTIONS
        with conn.cursor() as cur:
            cur.execute(f"SELECT n, COUNT(*) FROM `{dst}`.t_log GROUP BY n HAVING COUNT(*) <> 1")
            assert cur.fetchall() == ()
            cur.execute(f"SELECT COUNT(*) FROM `{dst}`.t_log")
            assert cur.fetchone()[0] == TRANSACTIONS
        assert table_dump(conn, dst) == table_dump(conn, db)
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
        for _ in range(3):
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(rnd.uniform(0.8, 1.6))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=60)
            assert proc.returncode in (0, -signal.SIGKILL), err
        final = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert final.returncode == 0, final.stderr
        assert json.loads(final.stdout)["skipped_applied"] > 0
        assert table_dump(conn, db) == snapshot
    finally:
        conn.close()
