"""The sandbox exactly as `make demo` starts it (scripts/demo.sh): `check` on it is OK; `sandbox stop` errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.exit_codes import ExitCode

pytestmark = [pytest.mark.live, pytest.mark.dedicated]


@pytest.fixture
def demo_dir() -> Iterator[Path]:
    """A short directory (Unix sockets are limited to 107 bytes) for a sandbox the CLI starts."""
    base = Path(tempfile.mkdtemp(prefix="mi-demo-", dir="/tmp"))
    yield base
    from mysqlinspect.sandbox.server import STATE_FILE, SandboxServer

    if (base / STATE_FILE).exists():
        SandboxServer.load(base).destroy()
    shutil.rmtree(base, ignore_errors=True)


def test_check_on_the_demo_sandbox_is_ok(sandbox_flavor: str, demo_dir: Path,
                                         run_cli: Callable[..., Any]) -> None:
    """Regression (issue 13): MySQL 9.7 was started with --binlog-format=ROW, so R19 warned on the demo itself."""
    started = run_cli("sandbox", "start", "--flavor", sandbox_flavor, "--dir", str(demo_dir), "--load", "3")
    assert started.exit_code == 0, started.stderr
    port = json.loads((demo_dir / "sandbox.json").read_text())["port"]
    result = run_cli("check", "-h", "127.0.0.1", "-P", str(port), "-u", "root", "--format", "json")
    not_ok = {f["name"]: f["message"] for f in result.json()["findings"] if f["status"] != "OK"}
    assert result.exit_code == ExitCode.OK, not_ok
    # first-use cosmetics on the demo's own server (issue 13, item 13)
    client_line = next(line for line in started.stdout.splitlines() if "client:" in line)
    assert len(client_line) < 120, client_line  # was ~300 characters of loader and library paths
    wrapper = client_line.split()[1]
    query = subprocess.run([wrapper, "-N", "-e", "SELECT 40 + 2"], capture_output=True, text=True, timeout=60)
    assert query.returncode == 0 and query.stdout.strip() == "42", query.stderr
    conn = ["-h", "127.0.0.1", "-P", str(port), "-u", "root", "--format", "table"]
    status = run_cli("status", *conn)
    assert status.exit_code == 0 and "((" not in status.stdout
    durability = run_cli("durability", *conn)
    assert durability.exit_code == 0 and "Crash-recovery messages" not in durability.stdout
    stopped = run_cli("sandbox", "stop", "--dir", str(demo_dir))
    assert stopped.exit_code == 0 and "stopped" in stopped.stdout


def test_sandbox_stop_on_an_empty_directory_is_no_input(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    """Regression (issue 13): exit 69 (unavailable) where there is simply no sandbox to stop (66)."""
    result = run_cli("sandbox", "stop", "--dir", str(tmp_path))
    assert result.exit_code == ExitCode.NO_INPUT
    assert result.stderr.startswith("mysqlinspect: error: no sandbox in ")
    assert len(result.stderr.splitlines()) == 1
