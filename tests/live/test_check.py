"""`check` on the shared servers: output formats, thresholds from options and TOML, an open read view making the
history-list-length and oldest-transaction rules fire, a USAGE-only account, and `--hosts`."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.servers import wait_for, write_load

SETTINGS_OK_ON_SANDBOX = "redo_log_enabled,doublewrite,binlog,binlog_format,binlog_row_image,binlog_checksum"


def findings(result: Any) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in result.json()["findings"]}


def status_value(server: Any, name: str) -> int:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS LIKE %s", (name,))
            row = cur.fetchone()
    finally:
        conn.close()
    return int(row[1])


def test_json_has_one_finding_per_selected_rule(server: Any, run_cli: Callable[..., Any]) -> None:
    result = run_cli("check", *server.cli_args(), "--format", "json", "--only", SETTINGS_OK_ON_SANDBOX)
    assert result.exit_code == 0, result.stdout + result.stderr
    doc = result.json()
    assert doc["status"] == "OK" and doc["exit_code"] == 0 and doc["server"]["flavor"] == server.flavor
    names = [f["name"] for f in doc["findings"]]
    assert names == SETTINGS_OK_ON_SANDBOX.split(",")
    for f in doc["findings"]:
        assert set(f) >= {"id", "name", "status", "value", "thresholds", "message", "hint"}
        assert set(f["thresholds"]) == {"op", "warn", "crit"}
    assert findings(result)["binlog_format"]["value"] == "ROW"


def test_table_output_lists_rules_and_status(server: Any, run_cli: Callable[..., Any]) -> None:
    result = run_cli("check", *server.cli_args(), "--format", "table", "--only", "doublewrite,binlog")
    assert result.exit_code == 0
    assert "doublewrite" in result.stdout and "binlog" in result.stdout and "OK" in result.stdout


def test_override_and_toml_thresholds_make_a_rule_fire(server: Any, run_cli: Callable[..., Any],
                                                       tmp_path: Path) -> None:
    # the sandbox keeps binary logs 30 days (MySQL) or forever (MariaDB 0): raise the bar above 30 days
    result = run_cli("check", *server.cli_args(), "--format", "json", "--only", "R9",
                     "--crit", "doublewrite=ON,DETECT_AND_RECOVER")
    assert result.exit_code == 2 and findings(result)["doublewrite"]["status"] == "CRITICAL"
    config = tmp_path / "thresholds.toml"
    config.write_text('only = ["doublewrite", "binlog_checksum"]\n'
                      '[rules.doublewrite]\nwarn = "ON,DETECT_AND_RECOVER"\ncrit = "never"\n'
                      '[rules.binlog_checksum]\nenabled = false\n')
    result = run_cli("check", *server.cli_args(), "--format", "json", "--config", str(config))
    assert result.exit_code == 1
    f = findings(result)
    assert list(f) == ["doublewrite"] and f["doublewrite"]["thresholds"]["crit"] is None
    # the command line wins over the file
    result = run_cli("check", *server.cli_args(), "--format", "json", "--config", str(config),
                     "--warn", "doublewrite=never")
    assert result.exit_code == 0


def test_unknown_rule_is_a_usage_error(server: Any, run_cli: Callable[..., Any]) -> None:
    result = run_cli("check", *server.cli_args(), "--only", "no_such_rule")
    assert result.exit_code == 64 and "unknown rule" in result.stderr
    result = run_cli("check", *server.cli_args(), "--warn", "checkpoint_age")
    assert result.exit_code == 64


def _hold_read_view(server: Any, db: str, started: threading.Event, release: threading.Event) -> None:
    conn = server.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            cur.execute("SELECT COUNT(*) FROM load_t")
            started.set()
            release.wait(60)
            cur.execute("COMMIT")
    finally:
        conn.close()


def test_open_read_view_fires_history_and_oldest_transaction(server: Any, db: str, writer: Any,
                                                             run_cli: Callable[..., Any]) -> None:
    writer.start()
    started, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_read_view, args=(server, db, started, release))
    holder.start()
    try:
        assert started.wait(30)
        time.sleep(2.5)
        wait_for(lambda: writer.committed > 50, timeout=30)
        result = run_cli("check", *server.cli_args(), "--format", "json", "--only", "R15,R16",
                         "--warn", "history_list_length=20", "--warn", "oldest_transaction=1")
        # the server's own view agrees, read while the read view is still open (regression: read after the
        # COMMIT, purge could bring it back to 0 on a busy machine)
        hll = server_history_list_length(server)
    finally:
        release.set()
        holder.join()
        writer.stop()
    assert not writer.errors
    f = findings(result)
    assert f["history_list_length"]["status"] == "WARNING" and f["history_list_length"]["value"] > 20
    assert f["oldest_transaction"]["status"] == "WARNING" and f["oldest_transaction"]["value"] >= 2
    assert result.exit_code == 1
    assert hll > 20


def server_history_list_length(server: Any) -> int:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW ENGINE INNODB STATUS")
            text = cur.fetchone()[2]
    finally:
        conn.close()
    return int(re.search(r"History list length\s+(\d+)", text).group(1))  # type: ignore[union-attr]


def test_usage_only_account_gives_unknown_findings_naming_the_grant(
        server: Any, usage_only_account: tuple[str, str], run_cli: Callable[..., Any]) -> None:
    user, password = usage_only_account
    args = list(server.cli_args())
    args[args.index("-u") + 1] = user
    env = {"MYSQL_PWD": password}
    result = run_cli("check", *args, "--format", "json", env=env)
    assert result.exit_code in (1, 2, 3), result.stderr
    f = findings(result)
    assert f["oldest_transaction"]["status"] == "UNKNOWN"
    assert "PROCESS" in f["oldest_transaction"]["message"] and f["oldest_transaction"]["missing_grant"]
    for finding in f.values():
        if finding["status"] == "UNKNOWN":
            assert finding["missing_grant"] and finding["missing_grant"] in finding["message"], finding
    result = run_cli("check", *args, "--format", "json", "--only", "oldest_transaction,doublewrite", env=env)
    assert result.exit_code == 3
    assert result.json()["status"] == "UNKNOWN"
    result = run_cli("check", *args, "--format", "nagios", "--only", "oldest_transaction", env=env)
    assert result.exit_code == 3 and result.stdout.startswith("MYSQLINSPECT UNKNOWN - ")


def test_nagios_line_has_status_summary_and_perfdata(server: Any, run_cli: Callable[..., Any]) -> None:
    result = run_cli("check", *server.cli_args(), "--format", "nagios", "--only", "checkpoint_age,doublewrite",
                     "--crit", "doublewrite=ON,DETECT_AND_RECOVER")
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    head, perf = lines[0].split(" | ")
    assert head.startswith("MYSQLINSPECT CRITICAL - 1 critical: doublewrite CRITICAL")
    assert re.fullmatch(r"'checkpoint_age'=[\d.]+%;@75:;@85:;0;100", perf)


def test_prometheus_text(server: Any, run_cli: Callable[..., Any]) -> None:
    result = run_cli("check", *server.cli_args(), "--format", "prometheus", "--only", "checkpoint_age,binlog")
    assert result.exit_code == 0 and result.stdout.endswith("\n")
    text = result.stdout
    assert "# TYPE mysqlinspect_check_status gauge" in text
    assert re.search(r'mysqlinspect_check_status\{host="[^"]+",rule="binlog",id="R10"\} 0\n', text)
    assert re.search(r'mysqlinspect_check_value\{host="[^"]+",rule="checkpoint_age",id="R1",unit="%"\} [\d.e-]+\n',
                     text)
    assert re.search(r'mysqlinspect_check_threshold\{[^}]*level="crit"\} 85\n', text)


def test_hosts_file_checks_servers_concurrently_and_exits_with_the_worst(server: Any, run_cli: Callable[..., Any],
                                                                      tmp_path: Path) -> None:
    host, port = getattr(server, "host", "127.0.0.1"), server.port
    plain = tmp_path / "hosts.txt"
    plain.write_text(f"# servers\n{host}:{port}\nroot@{host}:{port}   # same server, named differently\n")
    base = ["check", "-u", "root", "--ssl-mode", "DISABLED", "--no-defaults", "--only", "doublewrite,binlog"]
    result = run_cli(*base, "--hosts", str(plain), "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    doc = result.json()
    assert [h["host"] for h in doc["hosts"]] == [f"{host}:{port}", f"root@{host}:{port}"]
    assert doc["status"] == "OK" and all(h["status"] == "OK" for h in doc["hosts"])
    toml = tmp_path / "hosts.toml"
    toml.write_text(f'[[hosts]]\nname = "good"\nhost = "{host}"\nport = {port}\n'
                    f'[[hosts]]\nname = "down"\nhost = "{host}"\nport = 1\nconnect_timeout = 2\n')
    result = run_cli(*base, "--hosts", str(toml), "--format", "json")
    assert result.exit_code == 2
    hosts = {h["host"]: h for h in result.json()["hosts"]}
    assert hosts["good"]["status"] == "OK" and hosts["down"]["status"] == "CRITICAL"
    assert hosts["down"]["findings"][0]["name"] == "connection"
    result = run_cli(*base, "--hosts", str(toml), "--format", "nagios", "--unreachable", "unknown")
    assert result.exit_code == 3 and "down:connection UNKNOWN" in result.stdout


def test_hosts_file_refuses_passwords(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    toml = tmp_path / "hosts.toml"
    toml.write_text('[[hosts]]\nhost = "db1"\npassword = "secret"\n')
    result = run_cli("check", "--hosts", str(toml))
    assert result.exit_code == 64 and "login_path" in result.stderr


def test_rate_rules_sample_twice_interval_apart(server: Any, db: str, run_cli: Callable[..., Any]) -> None:
    with write_load(server, db):
        before = status_value(server, "Innodb_os_log_written")
        started = time.monotonic()
        result = run_cli("check", *server.cli_args(), "--format", "json", "--interval", "1",
                         "--only", "redo_capacity_minutes,log_waits")
        elapsed = time.monotonic() - started
        after = status_value(server, "Innodb_os_log_written")
    doc = result.json()
    assert 1.0 <= doc["interval_seconds"] <= elapsed
    f = findings(result)
    rate = f["redo_capacity_minutes"]["evidence"]["redo_bytes_per_second"]
    assert 0 < rate * doc["interval_seconds"] <= after - before
    assert "two samples" in f["log_waits"]["source"]


def test_unreachable_server_is_critical_not_a_crash(run_cli: Callable[..., Any]) -> None:
    result = run_cli("check", "-h", "127.0.0.1", "-P", "1", "--no-defaults", "--format", "json",
                     "--connect-timeout", "2")
    assert result.exit_code == 2
    assert result.json()["findings"][0]["name"] == "connection"


def test_bad_tls_file_is_a_usage_error_not_an_unreachable_server(server: Any, run_cli: Callable[..., Any],
                                                                 tmp_path: Path) -> None:
    """Regression: an unreadable --ssl-ca used to crash (exit 70); it is the caller's mistake, so exit 64."""
    result = run_cli("check", *server.cli_args(), "--ssl-mode", "REQUIRED", "--ssl-ca", str(tmp_path / "none.pem"),
                     "--format", "json")
    assert result.exit_code == 64, result.stderr
    assert "cannot load --ssl-ca" in result.stderr
