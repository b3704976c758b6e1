"""Crash and clean-shutdown previews agree with what the server itself prints when it starts on the same files.

One dedicated server per flavor with a small redo log: write load, kill -9, decode a copy of the redo files,
start the server (crash recovery) and compare its log lines; then a clean stop, decode, start, compare.
On MySQL the same crash set also checks a hole: a copy without one `#ib_redoN` from the middle, and the server
started once with that file moved aside (it refuses, MY-013882) before it is put back for the real recovery.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.errors import SandboxError
from mysqlinspect.sandbox.server import SandboxServer
from tests.servers import Writer, create_database, wait_for

pytestmark = [pytest.mark.live, pytest.mark.dedicated]

SMALL_REDO = {"mysql": ["--innodb-redo-log-capacity=8M"], "mariadb": ["--innodb-log-file-size=8M"]}
MYSQL_CHECKPOINT = re.compile(r"The latest found checkpoint is at lsn = (\d+) in redo log file \S*?([^/\s]+?)\.?$",
                              re.M)
MYSQL_SCANNED = re.compile(r"Doing recovery: scanned up to log sequence number (\d+)")
MARIADB_START = re.compile(r"Starting crash recovery from checkpoint LSN=(\d+)")
MARIADB_END = re.compile(r"End of log at LSN=(\d+)")
MYSQL_MISSING = re.compile(r"\[MY-013882\] \[InnoDB\] (Missing redo log file \S+ \(with start_lsn = \d+\))")


def server_log(server: SandboxServer) -> str:
    """The error log written since the server was created."""
    return server.error_log_text()


def copy_redo(server: SandboxServer, target: Path) -> Path:
    """Copy exactly the files the server will recover from (it rewrites them while it starts)."""
    target.mkdir()
    redo_dir = server.datadir / "#innodb_redo"
    if redo_dir.is_dir():
        shutil.copytree(redo_dir, target / "#innodb_redo")
    for log in server.datadir.glob("ib_logfile*"):
        shutil.copy2(log, target / log.name)
    return target


def start_and_read_log(server: SandboxServer) -> str:
    before = len(server_log(server))
    server.start()
    return server_log(server)[before:]


def server_numbers(flavor: str, log: str) -> dict[str, Any]:
    if flavor == "mysql":
        ckpt = MYSQL_CHECKPOINT.findall(log)
        scanned = MYSQL_SCANNED.findall(log)
        assert ckpt, f"no checkpoint line in the MySQL log:\n{log[-3000:]}"
        return {"checkpoint_lsn": int(ckpt[-1][0]), "checkpoint_file": ckpt[-1][1],
                "end_lsn": int(scanned[-1]) if scanned else None}
    start = MARIADB_START.findall(log)
    end = MARIADB_END.findall(log)
    assert end, f"no 'End of log' line in the MariaDB log:\n{log[-3000:]}"
    return {"checkpoint_lsn": int(start[-1]) if start else None, "end_lsn": int(end[-1])}


def middle_redo_file(files: list[dict[str, Any]], preview: dict[str, Any]) -> dict[str, Any]:
    """A #ib_redoN strictly between the first and the last one; between the checkpoint's and the end's if any."""
    logs = sorted((f for f in files if f["role"] == "log"), key=lambda f: f["file_id"])
    assert len(logs) >= 3, [f["name"] for f in logs]
    inner = logs[1:-1]
    end_lsn = preview["end_lsn"]
    ckpt_id = next(f["file_id"] for f in logs if f["name"] == preview["checkpoint_file"])
    # the end may sit exactly at the end of the newest file, when the next one is still a spare (#ib_redoN_tmp)
    holding_end = [f["file_id"] for f in logs if f["start_lsn"] <= end_lsn <= f["end_lsn"]]
    assert holding_end, (end_lsn, [(f["name"], f["start_lsn"], f["end_lsn"]) for f in logs])
    end_id = holding_end[0]
    between = [f for f in inner if ckpt_id < f["file_id"] < end_id]
    return (between or inner)[len(between or inner) // 2]


def check_hole_like_the_server(server: SandboxServer, files: list[dict[str, Any]], preview: dict[str, Any],
                               run_cli: Callable[..., Any], tmp_path: Path) -> None:
    """Regression (issue 13): a set with a file missing from the middle was a clean recovery, exit 0."""
    hole = middle_redo_file(files, preview)
    holed = copy_redo(server, tmp_path / "holed")
    (holed / "#innodb_redo" / hole["name"]).unlink()
    result = run_cli("redo", "recovery", str(holed), "--format", "json")
    assert result.exit_code == 65, result.stdout
    ours = f"Missing redo log file ./#innodb_redo/{hole['name']} (with start_lsn = {hole['start_lsn']})"
    assert result.json()["status"] == "missing_file"
    assert ours in result.json()["problems"]
    assert ours in result.stderr
    listed = run_cli("redo", "files", str(holed), "--format", "json")
    assert listed.exit_code == 65 and listed.json()["missing_files"] == [ours]

    redo_dir = server.datadir / "#innodb_redo"
    aside = tmp_path / "aside"
    aside.mkdir()
    shutil.move(redo_dir / hole["name"], aside / hole["name"])
    before = len(server_log(server))
    with pytest.raises(SandboxError):
        server.start()
    server_says = MYSQL_MISSING.findall(server_log(server)[before:])
    shutil.move(aside / hole["name"], redo_dir / hole["name"])
    assert server_says == [ours]


def test_preview_agrees_with_server_after_crash_and_clean_stop(
        sandbox_flavor: str, make_server: Callable[..., SandboxServer], run_cli: Callable[..., Any],
        tmp_path: Path) -> None:
    server = make_server(sandbox_flavor, extra_args=SMALL_REDO[sandbox_flavor])
    writer = Writer(server, create_database(server), rows_per_txn=20, payload_bytes=1500).start()
    time.sleep(6)
    # kill right after fresh commits, so that redo lies past the last checkpoint (under load the writer can stall
    # long enough for the checkpoint to catch up with it, and then the server has nothing to scan or print)
    seen = writer.committed
    wait_for(lambda: writer.committed >= seen + 3 or writer.errors, timeout=60, interval=0.01)
    server.kill()
    writer.stop()
    assert writer.committed > 0

    files = run_cli("redo", "files", str(server.datadir), "--format", "json")
    assert files.exit_code == 0, files.stdout + files.stderr
    crashed = run_cli("redo", "recovery", str(copy_redo(server, tmp_path / "crash")), "--format", "json")
    assert crashed.exit_code == 0, crashed.stdout + crashed.stderr
    preview = crashed.json()
    assert files.json()["latest_checkpoint"]["lsn"] == preview["checkpoint_lsn"]

    if sandbox_flavor == "mysql":
        check_hole_like_the_server(server, files.json()["files"], preview, run_cli, tmp_path)
    printed = server_numbers(sandbox_flavor, start_and_read_log(server))
    assert preview["clean_shutdown"] is False
    assert preview["checkpoint_lsn"] == printed["checkpoint_lsn"]
    assert preview["end_lsn"] == printed["end_lsn"]
    assert preview["bytes_to_apply"] == preview["end_lsn"] - preview["checkpoint_lsn"] > 0
    if sandbox_flavor == "mysql":
        assert preview["checkpoint_file"] == printed["checkpoint_file"]
    else:
        assert preview["record_counts"]["WRITE"] > 0

    server.stop()
    clean = run_cli("redo", "recovery", str(copy_redo(server, tmp_path / "clean")), "--format", "json")
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    after_stop = clean.json()
    printed = server_numbers(sandbox_flavor, start_and_read_log(server))
    assert after_stop["clean_shutdown"] is True
    assert after_stop["bytes_to_apply"] == 0
    assert after_stop["end_lsn"] == (printed["end_lsn"] or after_stop["checkpoint_lsn"])
    if sandbox_flavor == "mysql":
        assert printed["end_lsn"] is None  # nothing to recover: MySQL does not scan
        assert after_stop["checkpoint_lsn"] == printed["checkpoint_lsn"] == after_stop["end_lsn"]
    else:
        assert printed["checkpoint_lsn"] is None  # no crash recovery
