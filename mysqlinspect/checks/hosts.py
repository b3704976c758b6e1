"""`--hosts FILE`: the servers to check, as plain lines or as TOML with per-host connection options.

Plain text, one server per line (`#` starts a comment):

    db1.example.com             # port from option files, else 3306
    monitor@db2.example.com:3307
    [2001:db8::5]:3306
    /run/mysqld/mysqld.sock      # a Unix socket

TOML, one `[[hosts]]` table per server (keys: name, host, port, socket, user, login_path, defaults_file,
defaults_extra_file, ssl_mode, ssl_ca, ssl_cert, ssl_key, connect_timeout). Passwords are not accepted in either
form: they come from option files, login paths (~/.mylogin.cnf) or MYSQL_PWD, as for a single server.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.checks.config import read_text_file
from mysqlinspect.errors import InputNotFoundError, UsageError

TOML_KEYS = {
    "name": str, "host": str, "port": int, "socket": str, "user": str, "login_path": str, "defaults_file": str,
    "defaults_extra_file": str, "ssl_mode": str, "ssl_ca": str, "ssl_cert": str, "ssl_key": str,
    "connect_timeout": int,
}
_LINE = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\s]+))(?::(?P<port>\d+))?$")


@dataclass(frozen=True)
class HostSpec:
    """One server to check: a display name and the connection options that differ from the command line."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


def parse_host_line(line: str, origin: str) -> HostSpec:
    text = line.strip()
    user, _, rest = text.rpartition("@") if "@" in text else ("", "", text)
    if rest.startswith("/"):
        options: dict[str, Any] = {"socket": rest, "host": "localhost"}
    else:
        match = _LINE.match(text)
        if not match:
            raise UsageError(f"{origin}: cannot read {text!r} (expected [user@]host[:port] or a socket path)")
        options = {"host": match.group("v6") or match.group("host")}
        user = match.group("user") or ""
        if match.group("port"):
            options["port"] = int(match.group("port"))
    if user:
        options["user"] = user
    return HostSpec(name=text, options=options)


def parse_plain_hosts(text: str, path: str) -> list[HostSpec]:
    hosts = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            hosts.append(parse_host_line(line, f"{path}:{number}"))
    return hosts


def parse_toml_hosts(data: dict[str, Any], path: str) -> list[HostSpec]:
    entries = data.get("hosts")
    if not isinstance(entries, list) or not entries:
        raise UsageError(f"{path}: expected one or more [[hosts]] tables")
    hosts = []
    for index, entry in enumerate(entries, start=1):
        where = f"{path}: [[hosts]] #{index}"
        if not isinstance(entry, dict):
            raise UsageError(f"{where} is not a table")
        if "password" in entry:
            raise UsageError(f"{where}: passwords do not belong here; use login_path or defaults_file")
        unknown = set(entry) - set(TOML_KEYS)
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        for key, value in entry.items():
            if not isinstance(value, TOML_KEYS[key]) or isinstance(value, bool):
                raise UsageError(f"{where}: {key} must be a {TOML_KEYS[key].__name__}")
        options = {k: v for k, v in entry.items() if k != "name"}
        if "ssl_mode" in options:
            options["ssl_mode"] = str(options["ssl_mode"]).upper()
        name = entry.get("name") or _default_name(options, index)
        hosts.append(HostSpec(name=str(name), options=options))
    return hosts


def _default_name(options: dict[str, Any], index: int) -> str:
    if "socket" in options:
        return str(options["socket"])
    if "host" in options:
        return f"{options['host']}:{options['port']}" if "port" in options else str(options["host"])
    return f"host{index}"


def load_hosts(path: str) -> list[HostSpec]:
    file = Path(path)
    if not file.is_file():
        raise InputNotFoundError(f"hosts file {path} does not exist")
    text = read_text_file(file, "hosts file")
    if file.suffix.lower() == ".toml" or text.lstrip().startswith("[[hosts]]"):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: not valid TOML: {exc}") from None
        hosts = parse_toml_hosts(data, path)
    else:
        hosts = parse_plain_hosts(text, path)
    if not hosts:
        raise UsageError(f"{path} names no server")
    names = [h.name for h in hosts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"{path}: duplicate host name(s) {', '.join(duplicates)}")
    return hosts
