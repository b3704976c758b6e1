"""Resolve connection settings the way the mysql client does, recording where each value came from.

Precedence (highest first): command line > login path (~/.mylogin.cnf) > option files ([client] then
[mysqlinspect], later files override earlier) > environment (MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_UNIX_PORT,
MYSQL_PWD) > built-in defaults.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mysqlinspect.connection.login_path import login_file_path, read_login_file
from mysqlinspect.connection.option_files import (
    OptionFile,
    OptionValue,
    default_option_file_paths,
    read_option_file,
)
from mysqlinspect.errors import UsageError

OPTION_GROUPS = ("client", "mysqlinspect")
SSL_MODES = ("DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY")
DEFAULT_SOCKETS = ("/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock", "/tmp/mysql.sock")
REDACTED = "********"
MAX_CONNECT_TIMEOUT = 31_536_000  # PyMySQL's upper bound (one year)

_ENV_KEYS = {"host": "MYSQL_HOST", "port": "MYSQL_TCP_PORT", "socket": "MYSQL_UNIX_PORT", "password": "MYSQL_PWD"}
_FILE_KEYS = {
    "host": "host",
    "port": "port",
    "user": "user",
    "password": "password",
    "socket": "socket",
    "ssl-mode": "ssl_mode",
    "ssl-ca": "ssl_ca",
    "ssl-cert": "ssl_cert",
    "ssl-key": "ssl_key",
    "connect-timeout": "connect_timeout",
    "protocol": "protocol",
}


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to open a connection. The password never appears in repr or str."""

    host: str = "localhost"
    port: int = 3306
    user: str = ""
    password: str | None = field(default=None, repr=False)
    socket: str | None = None
    protocol: str | None = None
    ssl_mode: str = "PREFERRED"
    ssl_ca: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = None
    connect_timeout: int = 10
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __repr__(self) -> str:
        pw = REDACTED if self.password else None
        return (
            f"ConnectionSettings(host={self.host!r}, port={self.port}, user={self.user!r}, password={pw!r}, "
            f"socket={self.socket!r}, ssl_mode={self.ssl_mode!r})"
        )

    __str__ = __repr__

    @property
    def uses_socket(self) -> bool:
        """`localhost` means the Unix socket, as in the mysql client, unless --protocol=TCP."""
        if self.protocol == "TCP":
            return False
        if self.protocol == "SOCKET":
            return True
        return self.host == "localhost"

    @property
    def endpoint(self) -> str:
        return f"socket {self.socket}" if self.uses_socket else f"{self.host}:{self.port}"

    def redacted(self) -> dict[str, Any]:
        """The resolved values for display, the password replaced."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "sources":
                continue
            value = getattr(self, f.name)
            out[f.name] = REDACTED if f.name == "password" and value else value
        return out


@dataclass(frozen=True)
class CommandLineOptions:
    """What the user typed. None means not given."""

    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    socket: str | None = None
    protocol: str | None = None
    ssl_mode: str | None = None
    ssl_ca: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = None
    connect_timeout: int | None = None
    defaults_file: str | None = None
    defaults_extra_file: str | None = None
    login_path: str | None = None
    no_defaults: bool = False


def _option_file_values(opts: CommandLineOptions) -> list[tuple[dict[str, OptionValue], str]]:
    """Option groups from the option files in reading order (later wins), each with a label."""
    files: list[OptionFile] = []
    if not opts.no_defaults:
        if opts.defaults_file:
            parsed = read_option_file(opts.defaults_file, required=True)
            files.extend([parsed] if parsed else [])
        else:
            for path in default_option_file_paths()[:-1]:
                parsed = read_option_file(path)
                files.extend([parsed] if parsed else [])
            if opts.defaults_extra_file:
                parsed = read_option_file(opts.defaults_extra_file, required=True)
                files.extend([parsed] if parsed else [])
            parsed = read_option_file(default_option_file_paths()[-1])
            files.extend([parsed] if parsed else [])
    groups = list(OPTION_GROUPS)
    out: list[tuple[dict[str, OptionValue], str]] = []
    for f in files:
        for g in groups:
            out.append((f.group(g), f"option file {{path}} [{g}]"))
    return out


def _login_path_values(opts: CommandLineOptions) -> list[tuple[dict[str, OptionValue], str]]:
    """The login path file is read even with --no-defaults, as the mysql client does."""
    login = read_login_file()
    path = login_file_path()
    if login is None:
        if opts.login_path:
            raise UsageError(f"unknown login path {opts.login_path!r}: {path} does not exist")
        return []
    names = ["client", "mysqlinspect"]
    if opts.login_path:
        if opts.login_path.lower() not in login.groups:
            known = ", ".join(sorted(login.groups)) or "none"
            raise UsageError(f"unknown login path {opts.login_path!r} in {path} (known: {known})")
        names.append(opts.login_path.lower())
    return [(login.group(n), f"login path {n} ({path})") for n in names]


def _coerce(name: str, value: str | None, origin: str) -> Any:
    if name in ("port", "connect_timeout"):
        try:
            return int(str(value))
        except ValueError:
            raise UsageError(f"{origin}: {name.replace('_', '-')} must be a number, got {value!r}") from None
    if name in ("ssl_mode", "protocol"):
        return (value or "").upper()
    return value if value is not None else ""


def resolve_settings(opts: CommandLineOptions, environ: Mapping[str, str] | None = None) -> ConnectionSettings:
    """Merge every source in MySQL's order; return settings with the source of each value."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def put(name: str, value: Any, origin: str) -> None:
        values[name] = value
        sources[name] = origin

    put("user", _default_user(), "default (login name)")
    for name, var in _ENV_KEYS.items():
        if env.get(var):
            put(name, _coerce(name, env[var], f"environment {var}"), f"environment {var}")
    layers = _option_file_values(opts) + _login_path_values(opts)
    for group, label in layers:
        for key, ov in group.items():
            attr = _FILE_KEYS.get(key.removeprefix("loose-"))  # `loose-ssl-mode` is ssl-mode, as in MySQL
            if attr:
                # ov.path, not the top file: a value may come from an !include'd file
                origin = label.format(path=ov.path)
                put(attr, _coerce(attr, ov.value, f"{ov.path}:{ov.line}"), f"{origin} line {ov.line}")
    for f in fields(CommandLineOptions):
        attr = f.name
        if attr in ("defaults_file", "defaults_extra_file", "login_path", "no_defaults"):
            continue
        value = getattr(opts, attr)
        if value is not None:
            put(attr, _coerce(attr, value, "command line") if attr != "password" else value, "command line")
    settings = ConnectionSettings(**values)
    settings = _finish(settings, sources)
    return replace(settings, sources=sources)


def _finish(settings: ConnectionSettings, sources: dict[str, str]) -> ConnectionSettings:
    if settings.ssl_mode not in SSL_MODES:
        raise UsageError(f"--ssl-mode must be one of {', '.join(SSL_MODES)}, got {settings.ssl_mode!r}")
    if settings.protocol and settings.protocol not in ("TCP", "SOCKET"):
        raise UsageError(f"--protocol must be TCP or SOCKET, got {settings.protocol!r}")
    if settings.ssl_mode in ("VERIFY_CA", "VERIFY_IDENTITY") and not settings.ssl_ca:
        raise UsageError(f"--ssl-mode={settings.ssl_mode} needs --ssl-ca")
    if not 0 < settings.port < 65536:
        raise UsageError(f"port must be between 1 and 65535, got {settings.port}")
    if not 0 < settings.connect_timeout <= MAX_CONNECT_TIMEOUT:
        raise UsageError(f"connect-timeout must be between 1 and {MAX_CONNECT_TIMEOUT}, got {settings.connect_timeout}")
    if settings.socket is None:
        found = next((s for s in DEFAULT_SOCKETS if Path(s).exists()), DEFAULT_SOCKETS[0])
        sources.setdefault("socket", "default")
        return replace(settings, socket=found)
    return settings


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "root"


def describe_sources(settings: ConnectionSettings) -> list[tuple[str, Any, str]]:
    """(name, displayed value, source) rows for `config show --sources`."""
    shown = settings.redacted()
    return [(name, value, settings.sources.get(name, "default")) for name, value in shown.items()]
