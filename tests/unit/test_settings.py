"""Connection settings precedence: command line > login path > option files > environment > defaults."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mysqlinspect.connection.login_path import decrypt_login_file, encrypt_login_file, read_login_file
from mysqlinspect.connection.settings import CommandLineOptions, resolve_settings
from mysqlinspect.errors import UsageError


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = Path(os.environ["HOME"])
    (home / ".my.cnf").write_text("[client]\nhost=from-my-cnf\nport=1111\nuser=mycnf_user\n"
                                  "[mysqlinspect]\nport=2222\n")
    login = tmp_path / "mylogin.cnf"
    login.write_bytes(encrypt_login_file("[client]\nuser=login_user\n[prod]\nhost=prod-host\npassword=s3cret\n"))
    monkeypatch.setenv("MYSQL_TEST_LOGIN_FILE", str(login))
    return home


def resolve(environ: dict[str, str] | None = None, **kwargs: object) -> object:
    return resolve_settings(CommandLineOptions(**kwargs), environ=environ or {})  # type: ignore[arg-type]


def test_defaults_only(monkeypatch: pytest.MonkeyPatch) -> None:
    s = resolve_settings(CommandLineOptions(no_defaults=True), environ={})
    assert (s.host, s.port, s.ssl_mode) == ("localhost", 3306, "PREFERRED")
    assert "host" not in s.sources  # nothing set it: the dataclass default
    assert s.uses_socket


def test_environment_is_lowest_priority_source(files: Path) -> None:
    env = {"MYSQL_HOST": "env-host", "MYSQL_TCP_PORT": "3333", "MYSQL_PWD": "envpw", "MYSQL_UNIX_PORT": "/tmp/e.sock"}
    s = resolve_settings(CommandLineOptions(no_defaults=True), environ=env)
    assert (s.host, s.port, s.password, s.socket) == ("env-host", 3333, "envpw", "/tmp/e.sock")
    assert s.sources["host"] == "environment MYSQL_HOST"
    # option files beat the environment
    s = resolve_settings(CommandLineOptions(), environ=env)
    assert s.host == "from-my-cnf"
    assert s.password == "envpw"  # nothing else sets it


def test_option_files_groups_later_wins(files: Path) -> None:
    s = resolve_settings(CommandLineOptions(), environ={})
    assert s.port == 2222  # [mysqlinspect] after [client]
    assert "[mysqlinspect]" in s.sources["port"]


def test_login_path_beats_option_files(files: Path) -> None:
    s = resolve_settings(CommandLineOptions(login_path="prod"), environ={})
    assert s.host == "prod-host"
    assert s.user == "login_user"  # [client] of .mylogin.cnf beats ~/.my.cnf
    assert s.password == "s3cret"
    assert s.sources["host"].startswith("login path prod")


def test_command_line_beats_everything(files: Path) -> None:
    s = resolve_settings(
        CommandLineOptions(login_path="prod", host="cli-host", port=4444, password="clipw"),
        environ={"MYSQL_HOST": "env-host"},
    )
    assert (s.host, s.port, s.password) == ("cli-host", 4444, "clipw")
    assert s.sources["host"] == "command line"


def test_defaults_file_replaces_search_path_extra_file_adds(files: Path, tmp_path: Path) -> None:
    only = tmp_path / "only.cnf"
    only.write_text("[client]\nuser=only_user\n")
    s = resolve_settings(CommandLineOptions(defaults_file=str(only)), environ={})
    assert s.user == "login_user"  # the login file is still read after --defaults-file, as MySQL does
    assert s.host == "localhost"  # ~/.my.cnf was not read
    extra = tmp_path / "extra.cnf"
    extra.write_text("[client]\nhost=extra-host\nport=7777\n")
    s = resolve_settings(CommandLineOptions(defaults_extra_file=str(extra)), environ={})
    assert s.host == "from-my-cnf"  # ~/.my.cnf is read after the extra file
    assert s.port == 2222


def test_unknown_login_path(files: Path) -> None:
    with pytest.raises(UsageError, match="unknown login path 'nope'"):
        resolve_settings(CommandLineOptions(login_path="nope"), environ={})


def test_password_is_redacted(files: Path) -> None:
    s = resolve_settings(CommandLineOptions(login_path="prod"), environ={})
    assert "s3cret" not in repr(s)
    assert "s3cret" not in str(s)
    assert "s3cret" not in str(s.redacted())


def test_bad_port_in_option_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cnf"
    bad.write_text("[client]\nport=abc\n")
    with pytest.raises(UsageError, match=r"bad.cnf:2: port must be a number"):
        resolve_settings(CommandLineOptions(defaults_file=str(bad)), environ={})


def test_login_file_roundtrip() -> None:
    blob = encrypt_login_file("[client]\nuser=a\n[x]\nhost=b\n")
    assert decrypt_login_file(blob, "f") == "[client]\nuser=a\n[x]\nhost=b\n"


def test_reads_file_written_by_mysql_config_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference writer: MySQL 9.7's own mysql_config_editor (from the sandbox distribution)."""
    from mysqlinspect.sandbox.distributions import mysql_97

    argv = mysql_97().program("mysql_config_editor")
    target = tmp_path / "editor.cnf"
    monkeypatch.setenv("MYSQL_TEST_LOGIN_FILE", str(target))
    env = {**os.environ, "MYSQL_TEST_LOGIN_FILE": str(target)}
    subprocess.run([*argv, "set", "--login-path=ed", "--host=editor-host", "--user=ed_user", "--port=3999"],
                   check=True, env=env, capture_output=True)
    parsed = read_login_file(target)
    assert parsed is not None
    ed = parsed.group("ed")
    assert ed["host"].value == "editor-host"
    assert ed["user"].value == "ed_user"
    s = resolve_settings(CommandLineOptions(login_path="ed"), environ={})
    assert (s.host, s.user, s.port) == ("editor-host", "ed_user", 3999)
    assert shutil.which("true")


def test_source_names_the_included_file(tmp_path: Path) -> None:
    """Regression: a value read through !include was credited to the including file."""
    (tmp_path / "extra.cnf").write_text("[client]\nport=4000\n")
    main = tmp_path / "my.cnf"
    main.write_text(f"[client]\nhost=h1\n!include {tmp_path / 'extra.cnf'}\n")
    s = resolve(defaults_file=str(main))
    assert s.sources["host"] == f"option file {main} [client] line 2"  # type: ignore[attr-defined]
    assert s.sources["port"] == f"option file {tmp_path / 'extra.cnf'} [client] line 2"  # type: ignore[attr-defined]


def test_loose_prefix_in_option_files(tmp_path: Path) -> None:
    """Regression: `loose-ssl-mode` (MySQL's "ignore if unknown" prefix) was silently ignored."""
    cnf = tmp_path / "my.cnf"
    cnf.write_text("[client]\nloose-ssl-mode=DISABLED\nloose_port=3307\n")
    s = resolve(defaults_file=str(cnf))
    assert (s.ssl_mode, s.port) == ("DISABLED", 3307)  # type: ignore[attr-defined]


def test_no_defaults_still_reads_the_login_path_file(files: Path) -> None:
    s = resolve_settings(CommandLineOptions(no_defaults=True, login_path="prod"), environ={})
    assert (s.host, s.password) == ("prod-host", "s3cret")
    assert s.sources["host"] == f"login path prod ({os.environ['MYSQL_TEST_LOGIN_FILE']}) line 4"
    s = resolve_settings(CommandLineOptions(no_defaults=True), environ={})
    assert s.host == "localhost"  # ~/.my.cnf was not read
