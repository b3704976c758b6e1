"""Render `datadir`: files per kind, tablespaces with their page 0, logs and server versions."""

from __future__ import annotations

import datetime as dt

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from mysqlinspect.innodb.files.datadir import DatadirMap, DataFile
from mysqlinspect.innodb.pages.structs import FspFlags
from mysqlinspect.render.console import human_bytes, kv_table, show


def flag_names(flags: FspFlags) -> str:
    names = [name for name in ("post_antelope", "atomic_blobs", "data_dir", "shared", "temporary", "encryption",
                               "sdi", "full_crc32", "page_compression") if getattr(flags, name)]
    if flags.zip_size:
        names.append(f"zip {flags.zip_size // 1024}K")
    if flags.compression_algorithm:
        names.append(flags.compression_algorithm)
    return ", ".join(names) or "-"


def render_datadir(result: DatadirMap) -> RenderableType:
    head = kv_table(f"Data directory {escape(str(result.root))}")
    head.add_row("files", f"{len(result.files):,} ({human_bytes(sum(f.size for f in result.files))})")
    head.add_row("server uuid", escape(result.server_uuid or "-"))
    for source, version in result.server_versions.items():
        head.add_row(f"version ({escape(source)})", escape(version))
    parts: list[RenderableType] = [head, _kinds(result), _tablespaces(result)]
    logs = [f for f in result.files if f.log is not None or f.kind in ("binlog", "relay_log")]
    if logs:
        parts.append(_logs(logs))
    if result.redo is not None:
        parts.append(_redo(result))
    notes = [f for f in result.files if f.note]
    for f in notes:
        parts.append(f"[yellow]note:[/yellow] {escape(f.relative)}: {escape(f.note or '')}")
    return Group(*parts)


def _kinds(result: DatadirMap) -> Table:
    table = Table(title="Files by kind", title_justify="left")
    table.add_column("kind")
    table.add_column("files", justify="right")
    table.add_column("size", justify="right")
    for kind, info in result.kinds().items():
        table.add_row(kind, show(info["files"]), human_bytes(info["bytes"]))
    return table


def _tablespaces(result: DatadirMap) -> Table:
    table = Table(title="Tablespaces (page 0)", title_justify="left")
    for column in ("file", "kind", "space id", "page size", "size", "pages", "free limit", "free ext", "flags",
                   "version"):
        table.add_column(column, justify="right" if column in ("space id", "pages", "free limit", "free ext",
                                                                "size") else "left")
    for f in result.tablespaces():
        table.add_row(*_tablespace_row(f))
    return table


def _tablespace_row(f: DataFile) -> list[str]:
    ts = f.tablespace
    if ts is None:
        return [escape(f.relative), f.kind, "-", "-", human_bytes(f.size), "-", "-", "-", "-", "-"]
    flags = ts.fsp.flags
    page = f"{flags.page_size // 1024}K" + (f"/zip {flags.zip_size // 1024}K" if flags.zip_size else "")
    return [escape(f.relative), f.kind, str(ts.fsp.space_id), page, human_bytes(f.size), show(ts.fsp.size),
            show(ts.fsp.free_limit), show(ts.fsp.free.length), flag_names(flags), ts.server_version or "-"]


def _logs(files: list[DataFile]) -> Table:
    table = Table(title="Binary and relay logs", title_justify="left")
    for column in ("file", "kind", "size", "server version", "first event"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for f in files:
        log = f.log
        table.add_row(escape(f.relative), f.kind, human_bytes(f.size),
                      escape(log.server_version or "-") if log else "-",
                      _utc(log.first_event_time) if log else "-")
    return table


def _utc(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _redo(result: DatadirMap) -> Table:
    assert result.redo is not None
    table = kv_table("Redo log")
    logs = [r for r in result.redo.files if r.role == "log"]
    spares = [r for r in result.redo.files if r.role == "spare"]
    table.add_row("files", f"{len(logs)} in use, {len(spares)} spare "
                           f"({human_bytes(sum(r.size or 0 for r in result.redo.files))})")
    formats = sorted({r.header.format.name for r in logs if r.header is not None})
    table.add_row("format", escape(", ".join(formats) or "-"))
    latest = result.redo.latest_checkpoint
    table.add_row("latest checkpoint", f"LSN {latest.lsn:,} in {escape(latest.file)}" if latest else "-")
    table.add_row("status", "ok" if result.redo.ok else "[bold red]problems[/bold red] (see `redo files`)")
    return table
