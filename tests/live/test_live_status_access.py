"""Live status commands with a USAGE-only account, Ctrl-C in `watch`, and `watch` on a real terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.exit_codes import ExitCode
from tests.servers import repo_root, restore_sigint, sigint_ignored


def user_args(server: Any, user: tuple[str, str]) -> list[str]:
    host = getattr(server, "host", "127.0.0.1")
    return ["-h", host, "-P", str(server.port), "-u", user[0], f"-p{user[1]}"]


def test_usage_account_redo_status_degrades_with_notes(server: Any, run_cli: Any, usage_only_account: Any) -> None:
    result = run_cli("redo", "status", *user_args(server, usage_only_account), "--format", "json")
    # MySQL 8.0.30+ and MariaDB publish LSNs as status variables, which need no privilege.
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["checkpoint_age_bytes"] is not None
    assert "PROCESS" in data["missing_grants"]
    assert any("needs PROCESS" in n for n in data["notes"])
    assert "Traceback" not in result.stderr


def test_usage_account_undo(server: Any, run_cli: Any, usage_only_account: Any) -> None:
    result = run_cli("undo", *user_args(server, usage_only_account), "--format", "json")
    assert "Traceback" not in result.stderr
    if server.flavor == "mariadb":
        # Innodb_history_list_length is a status variable there; only the transaction list needs PROCESS.
        assert result.exit_code == 0, result.stderr
        data = result.json()
        assert data["history_list_length"] is not None and data["oldest_transactions"] == []
        assert any("INNODB_TRX unavailable: needs PROCESS" in n for n in data["notes"])
    else:
        assert result.exit_code == ExitCode.NO_PERMISSION
        line = result.stderr.strip().splitlines()[-1]
        assert line.startswith("mysqlinspect: error:") and "history list length" in line and "PROCESS" in line


@pytest.mark.parametrize("command", [["doublewrite"], ["durability"], ["watch", "--count", "1"]])
def test_usage_account_other_commands_work(
    server: Any, run_cli: Any, usage_only_account: Any, command: list[str]
) -> None:
    result = run_cli(*command, *user_args(server, usage_only_account), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.jsonl() if command[0] == "watch" else result.json()


def cli_argv(server: Any, *args: str) -> list[str]:
    return [sys.executable, "-m", "mysqlinspect", *args, *server.cli_args()]


def test_watch_ctrl_c_exits_130_cleanly(server: Any) -> None:
    """Also when the suite runs as a background job (SIGINT ignored): the child gets SIGINT back (regression)."""
    with sigint_ignored():
        proc = subprocess.Popen(cli_argv(server, "watch", "--interval", "0.2", "--format", "json"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=repo_root(),
                                preexec_fn=restore_sigint)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert json.loads(first)["sample"] == 1
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=30)
    assert proc.returncode == ExitCode.INTERRUPTED
    assert "Traceback" not in err
    for line in rest.splitlines():
        json.loads(line)


def test_watch_on_a_terminal_draws_a_live_table(server: Any) -> None:
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    proc = subprocess.Popen(cli_argv(server, "watch", "--interval", "0.2", "--count", "3"), stdin=slave,
                            stdout=slave, stderr=slave, cwd=repo_root(), env=env, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, text
    assert "checkpoint age" in text and "history list length" in text
    assert "sample 3" in text and "\x1b[" in text  # redrawn in place with terminal control codes
    assert not text.lstrip().startswith("{")


def test_usage_account_status_shows_what_it_can_read(server: Any, run_cli: Any, usage_only_account: Any) -> None:
    """Regression (issue 13): `status` refused as a whole (77) although most of it needs no privilege."""
    result = run_cli("status", *user_args(server, usage_only_account), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["server"]["version"] and data["durability"]["sync_binlog"] is not None
    assert data["redo"]["checkpoint_age_bytes"] is not None  # status variables, no privilege needed
    assert data["binlog"]["position"] is None
    grant = "BINLOG MONITOR" if server.flavor == "mariadb" else "REPLICATION CLIENT"
    assert any(note.startswith("binary log position unavailable: needs") and grant in note for note in data["notes"])
    assert any(grant in g for g in data["missing_grants"])
    table = run_cli("status", *user_args(server, usage_only_account), "--format", "table")
    assert table.exit_code == 0 and "note:" in table.stdout and grant in table.stdout


def test_usage_account_status_counts_undo_tablespaces_like_root(server: Any, run_cli: Any,
                                                                usage_only_account: Any) -> None:
    """Regression (issue 13): on MySQL the count came from INFORMATION_SCHEMA.INNODB_TABLESPACES (PROCESS) with
    the removed innodb_undo_tablespaces variable as fallback: `-` without a note; the status counters need no
    privilege."""
    root = run_cli("status", *server.cli_args(), "--format", "json").json()["undo"]["tablespace_count"]
    assert root
    usage = run_cli("status", *user_args(server, usage_only_account), "--format", "json").json()
    assert usage["undo"]["tablespace_count"] == root


def test_password_is_hidden_from_ps_like_the_mysql_client(server: Any, usage_only_account: Any) -> None:
    """Regression (issue 13): `-pSECRET` stayed readable in `ps` / /proc/PID/cmdline of a running `watch`."""
    name, password = usage_only_account
    argv = [sys.executable, "-m", "mysqlinspect", "watch", "-h", getattr(server, "host", "127.0.0.1"), "-P",
            str(server.port), "-u", name, f"-p{password}", "--interval", "0.2", "--format", "json"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=repo_root())
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # connected and sampling: the title was rewritten before this
        assert json.loads(first)["sample"] == 1, proc.stderr.read() if proc.stderr else ""
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
        assert password not in cmdline
        assert "mysqlinspect" in cmdline and "-pxxxxx" in cmdline
    finally:
        proc.kill()
        proc.communicate(timeout=30)
