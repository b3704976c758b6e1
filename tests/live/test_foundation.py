"""Foundation against real servers: status, connection options, read-only sessions and every bad-input case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.connection.connect import open_connection
from mysqlinspect.connection.login_path import encrypt_login_file
from mysqlinspect.connection.server import detect_server
from mysqlinspect.exit_codes import ExitCode


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("mysqlinspect: error: ")
    return lines[0]


def test_status_json(server: Any, run_cli: Any) -> None:
    result = run_cli("status", *server.cli_args(), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["server"]["flavor"] == server.flavor
    assert data["binlog"]["enabled"] is True
    assert data["binlog"]["format"] == "ROW"
    assert isinstance(data["binlog"]["position"], int)
    assert data["redo"]["capacity_bytes"] > 0
    assert data["redo"]["current_lsn"] >= data["redo"]["checkpoint_lsn"] > 0
    assert data["redo"]["checkpoint_age_bytes"] == data["redo"]["current_lsn"] - data["redo"]["checkpoint_lsn"]
    assert data["doublewrite"]["mode"].startswith(("ON", "DETECT"))
    assert data["durability"]["innodb_flush_log_at_trx_commit"] in (0, 1, 2)
    assert isinstance(data["durability"]["sync_binlog"], int)


def test_status_binlog_position_matches_server(server: Any, run_cli: Any) -> None:
    conn = server.connect()
    statement = "SHOW BINLOG STATUS" if server.flavor == "mariadb" else "SHOW BINARY LOG STATUS"
    with conn.cursor() as cur:
        cur.execute(statement)
        file, pos = cur.fetchone()[:2]
    result = run_cli("status", *server.cli_args(), "--format", "json")
    assert (result.json()["binlog"]["file"], result.json()["binlog"]["position"]) == (file, pos)
    info = detect_server(conn)
    assert info.features["binlog_status_statement"] == statement
    assert info.features["redo_log_files_table"] is (server.flavor == "mysql")
    conn.close()


def test_status_table(server: Any, run_cli: Any) -> None:
    result = run_cli("status", *server.cli_args(), "--format", "table")
    assert result.exit_code == 0, result.stderr
    for heading in ("Server", "Binary log", "Redo log", "checkpoint age", "doublewrite", "sync_binlog"):
        assert heading in result.stdout


def test_localhost_means_socket(server: Any, run_cli: Any) -> None:
    if not hasattr(server, "socket_path"):
        pytest.skip("docker services have no local socket")
    result = run_cli("status", "-h", "localhost", "-S", str(server.socket_path), "-u", "root", "--format", "json")
    assert result.exit_code == 0, result.stderr
    shown = run_cli("config", "show", "-h", "localhost", "-S", str(server.socket_path), "--format", "json")
    assert shown.json()["socket"] == str(server.socket_path)


def test_session_is_read_only(server: Any) -> None:
    conn = open_connection(server.settings())
    with conn.cursor() as cur:
        cur.execute("SELECT @@session.autocommit")
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT @@session.transaction_read_only" if server.flavor == "mysql"
                    else "SELECT @@session.tx_read_only")
        assert cur.fetchone()[0] == 1
    conn.close()


def test_wrong_password_exits_77(server: Any, run_cli: Any, usage_only_account: tuple[str, str]) -> None:
    name, _ = usage_only_account
    result = run_cli("status", "-h", "127.0.0.1", "-P", str(server.port), "-u", name, "-pwrong", "--ssl-mode",
                     "DISABLED")
    assert result.exit_code == ExitCode.NO_PERMISSION
    line = one_line_error(result.stderr)
    assert "authentication failed" in line and name in line
    assert "wrong" not in line


def test_missing_privilege_exits_77_naming_grant(
    server: Any, run_cli: Any, usage_only_account: tuple[str, str]
) -> None:
    """A command whose core needs a grant (`binlog list`; `status` shows what it can read instead, see
    test_usage_account_status_shows_what_it_can_read)."""
    name, password = usage_only_account
    result = run_cli("binlog", "list", "-h", "127.0.0.1", "-P", str(server.port), "-u", name, f"-p{password}")
    assert result.exit_code == ExitCode.NO_PERMISSION, result.stdout + result.stderr
    line = one_line_error(result.stderr)
    assert "PROCESS" in line or "REPLICATION CLIENT" in line or "BINLOG MONITOR" in line
    assert password not in result.stderr


def test_password_prompt_from_stdin(server: Any, run_cli: Any, usage_only_account: tuple[str, str]) -> None:
    name, password = usage_only_account
    result = run_cli("config", "show", "-u", name, "-p", "--format", "json", input=password + "\n")
    assert result.exit_code == 0
    assert result.json()["password"] == "********"


def test_unreachable_port_exits_69(run_cli: Any) -> None:
    from mysqlinspect.sandbox.server import free_port

    result = run_cli("status", "-h", "127.0.0.1", "-P", str(free_port()), "-u", "root", "--connect-timeout", "3")
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "cannot connect to 127.0.0.1:" in one_line_error(result.stderr)


def test_missing_socket_exits_69(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("status", "-S", str(tmp_path / "none.sock"), "-u", "root")
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "socket file does not exist" in one_line_error(result.stderr)


def test_bad_option_file_exits_64_naming_file_and_line(run_cli: Any, tmp_path: Path) -> None:
    cnf = tmp_path / "broken.cnf"
    cnf.write_text("[client]\nuser=root\n[oops\n")
    result = run_cli("status", "--defaults-file", str(cnf))
    assert result.exit_code == ExitCode.USAGE
    line = one_line_error(result.stderr)
    assert f"{cnf}:3:" in line and "group" in line


def test_unknown_login_path_exits_64(run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    login = tmp_path / "login.cnf"
    login.write_bytes(encrypt_login_file("[client]\nuser=root\n"))
    monkeypatch.setenv("MYSQL_TEST_LOGIN_FILE", str(login))
    result = run_cli("status", "--login-path", "nosuch")
    assert result.exit_code == ExitCode.USAGE
    assert "unknown login path 'nosuch'" in one_line_error(result.stderr)


def test_login_path_connects(server: Any, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    login = tmp_path / "login.cnf"
    login.write_bytes(encrypt_login_file(f"[sbx]\nhost=127.0.0.1\nport={server.port}\nuser=root\n"))
    monkeypatch.setenv("MYSQL_TEST_LOGIN_FILE", str(login))
    result = run_cli("status", "--login-path", "sbx", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["server"]["flavor"] == server.flavor


def test_option_file_and_environment_connect(server: Any, run_cli: Any, tmp_path: Path) -> None:
    cnf = tmp_path / "my.cnf"
    cnf.write_text(f"[client]\nhost=127.0.0.1\nport=1\n[mysqlinspect]\nport={server.port}\nuser=root\n")
    result = run_cli("status", "--defaults-file", str(cnf), "--format", "json")
    assert result.exit_code == 0, result.stderr
    env_result = run_cli("status", "--no-defaults", "-u", "root", "--format", "json",
                         env={"MYSQL_HOST": "127.0.0.1", "MYSQL_TCP_PORT": str(server.port)})
    assert env_result.exit_code == 0, env_result.stderr


def test_config_show_sources_redacts_password(run_cli: Any, tmp_path: Path) -> None:
    cnf = tmp_path / "my.cnf"
    cnf.write_text("[client]\npassword=topsecret\nhost=db.example\n")
    result = run_cli("config", "show", "--sources", "--defaults-file", str(cnf), "--format", "json", "-P", "3310")
    data = result.json()
    assert data["password"]["value"] == "********"
    assert data["host"] == {"value": "db.example", "source": f"option file {cnf} [client] line 3"}
    assert data["port"]["source"] == "command line"
    table = run_cli("config", "show", "--sources", "--defaults-file", str(cnf), "--format", "table")
    assert "topsecret" not in table.stdout + table.stderr
    assert "[client]" in table.stdout  # regression: rich took the group name for markup and dropped it


def test_usage_error_exits_64(run_cli: Any) -> None:
    result = run_cli("status", "--no-such-option")
    assert result.exit_code == ExitCode.USAGE
    one_line_error(result.stderr)
    assert run_cli("nosuchcommand").exit_code == ExitCode.USAGE
    assert run_cli("status", "--ssl-mode", "BOGUS").exit_code == ExitCode.USAGE


def test_debug_shows_traceback(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("--debug", "status", "-S", str(tmp_path / "none.sock"), "-u", "root")
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "Traceback" in result.stderr


def test_bad_connect_timeout_and_tls_files_exit_64(server: Any, run_cli: Any, tmp_path: Path) -> None:
    """Regression: these used to escape as internal errors (exit 70) from PyMySQL and the ssl module."""
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("not a certificate\n")
    cases = [
        (["--connect-timeout", "0"], "connect-timeout must be between"),
        (["--ssl-mode", "REQUIRED", "--ssl-ca", str(tmp_path / "none.pem")], "cannot load --ssl-ca"),
        (["--ssl-mode", "VERIFY_CA", "--ssl-ca", str(not_pem)], "cannot load --ssl-ca"),
        (["--ssl-mode", "PREFERRED", "--ssl-cert", str(not_pem)], "cannot load --ssl-cert"),
    ]
    for extra, expected in cases:
        result = run_cli("status", *server.cli_args(), *extra)
        assert result.exit_code == ExitCode.USAGE, (extra, result.stderr)
        assert expected in one_line_error(result.stderr)


def test_sandbox_start_refuses_a_directory_of_the_other_flavor(run_cli: Any, tmp_path: Path) -> None:
    """Regression: `sandbox start --flavor mysql` on a MariaDB sandbox directory silently started MariaDB."""
    import json

    from mysqlinspect.sandbox.server import STATE_FILE

    (tmp_path / STATE_FILE).write_text(json.dumps({"flavor": "mariadb", "port": 1}))
    result = run_cli("sandbox", "start", "--flavor", "mysql", "--dir", str(tmp_path))
    assert result.exit_code == ExitCode.USAGE
    assert "is mariadb, not mysql" in one_line_error(result.stderr)


def test_sandbox_servers_keep_temporary_files_in_their_own_directory(server: Any) -> None:
    """Internal temporary tables and sort files of a sandbox live under its base directory, not the shared /tmp,
    where another process's clean-up could remove them while in use."""
    if not hasattr(server, "tmpdir"):
        pytest.skip("Docker services keep their own /tmp")
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@tmpdir")
            assert Path(cur.fetchone()[0]).resolve() == server.tmpdir.resolve()
    finally:
        conn.close()
