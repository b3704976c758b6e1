"""The settings recovery depends on. The durability story: innodb_flush_log_at_trx_commit and sync_binlog from a
my.cnf given with --defaults-file, else from where the data directory records them (MySQL's persisted
mysqld-auto.cnf). Where the binary logs are: log-bin / log-bin-index / log-basename / skip-log-bin from that
my.cnf (paths relative to the data directory, as the server takes them), else the data directory."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.collectors.durability_rules import DurabilityInputs, mysqld_crash, os_crash
from mysqlinspect.connection.option_files import normalize_key, read_option_file

SERVER_GROUPS = ("mysqld", "server", "mariadb", "mariadbd")
WATCHED = ("innodb-flush-log-at-trx-commit", "sync-binlog")
BINLOG_OFF = ("skip-log-bin", "disable-log-bin")


@dataclass
class DurabilitySettings:
    values: dict[str, str] = field(default_factory=dict)  # option (with dashes) -> value
    sources: dict[str, str] = field(default_factory=dict)  # option -> where it was read
    story: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"innodb_flush_log_at_trx_commit": self.values.get(WATCHED[0]),
                "sync_binlog": self.values.get(WATCHED[1]), "sources": self.sources, "story": self.story}


def _from_defaults_file(path: Path, out: DurabilitySettings) -> None:
    parsed = read_option_file(path, required=True)
    assert parsed is not None
    for group in SERVER_GROUPS:
        for key, value in parsed.group(group).items():
            key = normalize_key(key)
            if key in WATCHED and value.value is not None:
                out.values[key] = value.value.strip()
                out.sources[key] = f"{value.path}:{value.line} [{group}]"


def _from_persisted(datadir: Path, out: DurabilitySettings) -> None:
    path = datadir / "mysqld-auto.cnf"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    for section in ("mysql_server", "mysql_server_static_options"):
        for name, entry in (doc.get(section) or {}).items():
            key = normalize_key(name)
            if key in WATCHED and key not in out.values and isinstance(entry, dict) and "Value" in entry:
                out.values[key] = str(entry["Value"])
                out.sources[key] = f"{path.name} (SET PERSIST)"


def _recorded_int(out: DurabilitySettings, key: str, default: int) -> int:
    """The recorded value, else the server default (said in the story)."""
    value = out.values.get(key)
    if value is None:
        out.story.append(f"{key.replace('-', '_')} is not recorded in the data directory (give --defaults-file):"
                         f" the default {default} is assumed")
        return default
    try:
        return int(value)
    except ValueError:
        out.story.append(f"{key.replace('-', '_')}={value} is not a number: the default {default} is assumed")
        return default


def _story(out: DurabilitySettings, binlog_on: bool) -> None:
    """What a server crash and an OS crash or power loss could have lost with these settings: the live durability
    report's own rules (collectors/durability_rules.py), applied to the settings recorded offline."""
    flush = _recorded_int(out, WATCHED[0], 1)
    sync = _recorded_int(out, WATCHED[1], 1) if binlog_on else None
    inputs = DurabilityInputs(binlog_enabled=binlog_on, sync_binlog=sync, flush_log_at_trx_commit=flush)
    for scenario in (mysqld_crash(inputs), os_crash(inputs)):
        for consequence in scenario.consequences:
            out.story.append(f"{scenario.title}: {consequence.what}"
                             + (f" ({consequence.setting})" if consequence.setting else ""))


def read_durability_settings(datadir: Path, defaults_file: str | None, binlog_on: bool) -> DurabilitySettings:
    out = DurabilitySettings()
    if defaults_file:
        _from_defaults_file(Path(defaults_file), out)
    _from_persisted(datadir, out)
    _story(out, binlog_on)
    return out


@dataclass
class BinlogLocation:
    """Where the server finds its binary logs: the index files it reads (None: those of the data directory)."""

    indexes: list[Path] | None = None
    disabled: bool = False
    source: str | None = None  # the my.cnf line that said so


def _server_options(defaults_file: str) -> dict[str, tuple[str | None, str]]:
    """option -> (value, where), the later server group winning, as mysqld reads its groups."""
    parsed = read_option_file(Path(defaults_file), required=True)
    assert parsed is not None
    out: dict[str, tuple[str | None, str]] = {}
    for group in SERVER_GROUPS:
        for key, value in parsed.group(group).items():
            out[normalize_key(key)] = (value.value.strip() if value.value is not None else None,
                                       f"{value.path}:{value.line} [{group}]")
    return out


def read_binlog_location(datadir: Path, defaults_file: str | None) -> BinlogLocation:
    if not defaults_file:
        return BinlogLocation()
    options = _server_options(defaults_file)
    off = next((options[k][1] for k in BINLOG_OFF if k in options), None)
    if off is not None:
        return BinlogLocation([], disabled=True, source=off)
    if "log-bin-index" in options and options["log-bin-index"][0]:
        value, where = options["log-bin-index"]
        assert value is not None
        index = _resolve(datadir, value)
        return BinlogLocation([index] if index.exists() else [], source=where)
    value, where = options.get("log-bin", (None, ""))
    if value and Path(value).parent != Path("."):
        directory = _resolve(datadir, str(Path(value).parent))
        found = sorted(directory.glob("*.index")) if directory.is_dir() else []
        return BinlogLocation([i for i in found if "relay" not in i.name], source=where)
    return BinlogLocation()


def _resolve(datadir: Path, value: str) -> Path:
    """A path option as mysqld takes it: relative to the data directory."""
    return Path(os.path.normpath(datadir / value))
