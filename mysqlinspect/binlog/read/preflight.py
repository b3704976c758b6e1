"""Settings that make a binlog stream silently incomplete, checked before reading (warnings; --strict refuses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pymysql

from mysqlinspect.connection.server import ServerInfo


@dataclass(frozen=True)
class PreflightIssue:
    name: str
    message: str
    blocking: bool = True  # False: informational, never refused by --strict

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "message": self.message, "blocking": self.blocking}


def _value(info: ServerInfo, name: str) -> str:
    return str(info.variable(name, "") or "").upper()


def preflight_issues(info: ServerInfo, need_rows: bool = True, decoder: str = "own") -> list[PreflightIssue]:
    """Everything about the server's settings and the account that would make the output incomplete (`decoder`:
    which one reads the events: the library leaves MariaDB compressed events undecoded)."""
    issues: list[PreflightIssue] = []
    fmt = _value(info, "binlog_format")
    if fmt and fmt != "ROW":
        issues.append(PreflightIssue("binlog_format", f"binlog_format={fmt}: statement-logged changes appear as "
                                                      "SQL text only, without row images"))
    image = _value(info, "binlog_row_image")
    if need_rows and image and image != "FULL":
        issues.append(PreflightIssue("binlog_row_image", f"binlog_row_image={image}: columns not in the image are "
                                                         "shown as <not logged>"))
    metadata = _value(info, "binlog_row_metadata")
    if need_rows and metadata != "FULL":
        issues.append(PreflightIssue("binlog_row_metadata",
                                     f"binlog_row_metadata={metadata or 'unsupported'}: column names, primary keys "
                                     "and ENUM/SET labels are not in the binlog; names come from the current table "
                                     "definition and may be wrong if the table changed"))
    if _value(info, "binlog_checksum") == "NONE":
        issues.append(PreflightIssue("binlog_checksum", "binlog_checksum=NONE: the decoder loses the primary key of "
                                                        "Table_map events; keys come from the current definition"))
    if _value(info, "binlog_transaction_compression") == "ON":
        issues.append(PreflightIssue("binlog_transaction_compression",
                                     "binlog_transaction_compression=ON: compressed transactions are decoded by "
                                     "mysqlinspect (the library alone would drop them)", blocking=False))
    if "PARTIAL_JSON" in _value(info, "binlog_row_value_options"):
        issues.append(PreflightIssue("binlog_row_value_options", "binlog_row_value_options=PARTIAL_JSON: JSON updates "
                                                                 "may be logged as diffs, not full values"))
    if _value(info, "log_bin_compress") == "ON" and decoder == "library":
        issues.append(PreflightIssue("log_bin_compress", "log_bin_compress=ON: MariaDB compressed events are not "
                                                         "decoded by --decoder library; their transactions are "
                                                         "reported as undecoded"))
    elif _value(info, "log_bin_compress") == "ON":
        issues.append(PreflightIssue("log_bin_compress", "log_bin_compress=ON: MariaDB compressed events (zlib) are "
                                                         "decoded by mysqlinspect", blocking=False))
    issues += privilege_issues(info, need_rows)
    return issues


def privilege_issues(info: ServerInfo, need_rows: bool) -> list[PreflightIssue]:
    privs = info.privileges
    if not privs or "ALL PRIVILEGES" in privs:
        return []
    issues = []
    if not ({"REPLICATION SLAVE", "REPLICATION REPLICA", "SUPER"} & privs):
        issues.append(PreflightIssue("privileges", "the account lacks REPLICATION SLAVE (needed to read the binlog)"))
    if not ({"REPLICATION CLIENT", "BINLOG MONITOR", "SUPER"} & privs):
        issues.append(PreflightIssue("privileges", "the account lacks REPLICATION CLIENT / BINLOG MONITOR (needed "
                                                   "to list binlog files and the write position)"))
    if need_rows and "SELECT" not in privs:
        issues.append(PreflightIssue("privileges", "the account lacks a global SELECT: the column-name fallback "
                                                   "only works for tables it can see", blocking=False))
    return issues


def taken_server_id(conn: Any, server_id: int | None) -> str | None:
    """Why `--replica-server-id` cannot be used: the source's own server_id, or that of a replica connected to it
    (the source would disconnect that replica when we connect with its id). None when it is free."""
    if server_id is None:
        return None
    with conn.cursor() as cur:
        cur.execute("SELECT @@server_id")
        row = cur.fetchone()
        if row is not None and int(row[0]) == server_id:
            return f"--replica-server-id {server_id} is the source's own server_id"
        for statement in ("SHOW REPLICAS", "SHOW SLAVE HOSTS"):
            try:
                cur.execute(statement)
            except pymysql.err.MySQLError:
                continue
            names = [d[0].lower() for d in cur.description or ()]
            column = names.index("server_id") if "server_id" in names else 0
            for replica in cur.fetchall():
                if int(replica[column]) == server_id:
                    return (f"--replica-server-id {server_id} is the id of a replica connected to the source "
                            "(connecting with it would disconnect that replica); pick another id")
            break
    return None
