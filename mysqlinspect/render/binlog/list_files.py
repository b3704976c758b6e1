"""Render `binlog list`: one row per file, then the write position, totals and expiry settings."""

from __future__ import annotations

import datetime as dt

from rich.console import Group, RenderableType
from rich.table import Table

from mysqlinspect.collectors.binlog import BinlogFileInfo, BinlogListing
from mysqlinspect.collectors.binlog_files import LocalBinlogFileInfo
from mysqlinspect.render.console import human_bytes, human_seconds, plural, show


def _when(ts: int | None) -> str:
    if not ts:
        return "-"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _file_state(f: BinlogFileInfo) -> str:
    if not isinstance(f, LocalBinlogFileInfo):
        return ""
    if f.encrypted:
        return "encrypted: not read"
    if not f.complete:
        return f"cut: valid to {f.valid_end}, then {f.stop_reason}"
    how = {"rotate": "rotated", "stop": "server stopped"}.get(f.last_event or "", "open")
    return how if f.closed else f"{how}, not closed (in use)"


def render_binlog_listing(listing: BinlogListing) -> RenderableType:
    local = listing.source == "files"
    title = "Binary log files (local files, times in UTC)" if local else "Binary log files (times in UTC)"
    files = Table(title=title, title_justify="left")
    files.add_column("file", no_wrap=True)
    files.add_column("size", justify="right")
    files.add_column("first event")
    files.add_column("last event")
    files.add_column("GTIDs" if listing.flavor != "mariadb" else "GTIDs (domain-server-seq)")
    if local:
        files.add_column("server id", justify="right")
        files.add_column("checksum")
        files.add_column("state")
    for f in listing.files:
        name = f"{f.name} *" if f.active else f.name
        if f.encrypted:
            name += " (encrypted)"
        gtids = f.gtids or "-"
        if len(gtids) > 60 and f.first_gtid and f.last_gtid:
            gtids = f"{f.first_gtid} .. {f.last_gtid}"
        cells = [name, human_bytes(f.size_bytes), _when(f.first_event_time), _when(f.last_event_time), gtids]
        if isinstance(f, LocalBinlogFileInfo):
            cells += ["-" if f.server_id is None else str(f.server_id), show(f.checksum), _file_state(f)]
        files.add_row(*cells)
    summary = Table(show_header=False, box=None, pad_edge=False)
    summary.add_column("key", style="bold", no_wrap=True)
    summary.add_column("value")
    pos = listing.write_position
    if pos is None:
        versions = {f.server_version for f in listing.files if isinstance(f, LocalBinlogFileInfo)}
        summary.add_row("server version", ", ".join(sorted(v for v in versions if v)) or "-")
        if listing.gtid_state:
            summary.add_row("gtid state after", listing.gtid_state)
        summary.add_row("total", f"{human_bytes(listing.total_bytes)} in {plural(len(listing.files), 'file')}")
        return Group(files, summary, *[f"note: {n}" for n in listing.notes])
    summary.add_row("write position", f"{pos.file}:{pos.pos}  ({pos.statement})")
    if pos.gtid_executed:
        summary.add_row("gtid executed", pos.gtid_executed)
    summary.add_row("total", f"{human_bytes(listing.total_bytes)} in {plural(len(listing.files), 'file')}")
    purge = listing.purge
    expire = purge.get("expire_seconds")
    summary.add_row("expiry", human_seconds(expire) if expire else "never (no expiry configured)")
    if purge.get("auto_purge") is not None:
        summary.add_row("auto purge", show(purge["auto_purge"]))
    summary.add_row("max_binlog_size", human_bytes(purge.get("max_binlog_size")))
    if purge.get("space_limit_bytes"):
        summary.add_row("space limit", human_bytes(purge["space_limit_bytes"]))
    if purge.get("gtid_purged"):
        summary.add_row("gtid purged", str(purge["gtid_purged"]))
    parts: list[RenderableType] = [files, summary]
    parts += [f"note: {n}" for n in listing.notes]
    return Group(*parts)
