"""The durability settings' story: innodb_flush_log_at_trx_commit and sync_binlog from a my.cnf given with
--defaults-file, else from where the data directory records them (MySQL's persisted mysqld-auto.cnf)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.connection.option_files import normalize_key, read_option_file

SERVER_GROUPS = ("mysqld", "server", "mariadb", "mariadbd")
WATCHED = ("innodb-flush-log-at-trx-commit", "sync-binlog")


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


def _story(out: DurabilitySettings, binlog_on: bool) -> None:
    flush, sync = out.values.get(WATCHED[0]), out.values.get(WATCHED[1])
    if flush is None:
        out.story.append("innodb_flush_log_at_trx_commit is not recorded in the data directory (give"
                         " --defaults-file): the default 1 flushes the redo log at every commit")
    elif flush in ("1", "3"):  # MariaDB's 3 flushes at commit too (the live durability report agrees)
        out.story.append(f"innodb_flush_log_at_trx_commit={flush}: every commit's redo was flushed; no committed"
                         " transaction is lost")
    elif flush == "2":
        out.story.append("innodb_flush_log_at_trx_commit=2: redo is written at commit and flushed about once a"
                         " second; a server crash loses nothing, an OS crash or power loss up to ~1 s of commits")
    else:
        out.story.append(f"innodb_flush_log_at_trx_commit={flush}: redo is written and flushed about once a second;"
                         " even a server crash can lose up to ~1 s of committed transactions")
    if not binlog_on:
        return
    if sync is None:
        out.story.append("sync_binlog is not recorded in the data directory (give --defaults-file): the default 1"
                         " syncs the binary log at every commit group")
    elif sync == "1":
        out.story.append("sync_binlog=1: the binary log was synced at every commit group; a transaction InnoDB"
                         " prepared is committed exactly when its XID reached the binlog")
    else:
        out.story.append(f"sync_binlog={sync}: the binary log is not synced at every commit; after an OS crash or"
                         " power loss its tail may be missing, and prepared transactions whose XID was lost are"
                         " rolled back (a replica may already have them)")


def read_durability_settings(datadir: Path, defaults_file: str | None, binlog_on: bool) -> DurabilitySettings:
    out = DurabilitySettings()
    if defaults_file:
        _from_defaults_file(Path(defaults_file), out)
    _from_persisted(datadir, out)
    _story(out, binlog_on)
    return out
